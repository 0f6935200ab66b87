#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "sanitizer/icap/service.h"

namespace lbg::icap {

struct ConnectionConfig {
  // Waiting for the first byte of the next request on a persistent connection (enforced by the
  // server on parked connections). Longer than Squid's default pconn_timeout (1 min), so that
  // Squid, not us, closes idle connections and never reuses one we are closing.
  int idleTimeoutMs = 90000;
  // Waiting for the rest of a request once it has started, and for the client to take our bytes.
  int ioTimeoutMs = 30000;
};

enum class ConnectionEnd : uint8_t {
  Closed,  // the connection is over and `fd` is closed
  Idle,    // between requests with nothing left to read: `fd` is open, to be parked by the caller
};

// Serves the ICAP requests of one connection that has data to read, one after the other
// (persistent and pipelined), while requests keep coming without a pause. Returns Idle as soon as
// the connection waits for its next request, so that an idle persistent connection does not hold
// a worker; Closed (and closes `fd`) when the client closed, on a timeout inside a request, on an
// error that makes the framing unreliable, or on `stopping`. Never throws.
ConnectionEnd serveConnection(int fd, const SanitizeService& service,
                              const ConnectionConfig& config, const std::atomic<bool>& stopping);

}  // namespace lbg::icap
