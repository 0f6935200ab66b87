#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace lbg::ids {

// Follows a TLS flow's record headers in one direction's stream, to find where its encrypted
// application data begins: Suricata (7, `tls.encryption-handling: default`) stops inspecting a
// TLS flow's payload, both directions, at its first application_data record (type 23) from the
// server, or from the client once the server's handshake began (before that: 0-RTT early data,
// still inspected); the tls.* sticky buffers are unaffected. A stream that does not look like
// TLS records (type outside 20..24, major version not 3) stops being followed and stays inspected.
struct TlsRecordWalk {
  enum class Mode : uint8_t { Start, Walking, Lost };
  Mode mode = Mode::Start;
  uint8_t headerLen = 0;  // bytes of the current record header seen so far (of 5)
  uint8_t header[5] = {};
  uint32_t need = 0;  // body bytes of the current record still to skip
};

struct TlsFlowWalk {
  static constexpr size_t kNone = SIZE_MAX;
  TlsRecordWalk dir[2];  // [0] to server, [1] to client
  bool serverHandshake = false;
  // The direction's next bytes (`at`: their offset in its stream; a walk starts only at 0):
  // returns where in `bytes` the first encrypted application_data record's header starts (0 when
  // it began in an earlier chunk), else kNone.
  size_t next(int d, uint64_t at, std::span<const uint8_t> bytes);
};

}  // namespace lbg::ids
