#pragma once

// Bytes a real server tolerates before the first message of a connection, which must not make
// the pipeline take a TLS or HTTP stream for "another protocol" (judged by DNS binding alone):
//   - empty lines before an HTTP request line (RFC 9112 §2.2; servers skip CR and LF alike);
//   - TLS records that are not handshake records before the ClientHello: change_cipher_spec
//     (middlebox compatibility, RFC 8446 §5) and alerts. At most kMaxLeadRecords of them, each
//     well formed (version 3.x, CCS = one byte 0x01, alert = two bytes); anything else, or a
//     record other than a handshake after them, is Invalid: a TLS server would not read it as a
//     hello either, and the pipeline must not fall back to "other protocol".
// Hot path: no allocation, bounded work.

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/inspect/status.h"

namespace lbg::inspect {

inline constexpr uint8_t kMaxLeadRecords = 4;

enum class StreamLeadKind : uint8_t { None, EmptyLines, TlsRecords };

struct StreamLead {
  // NeedMore: only tolerated bytes so far (or a lead record is incomplete); Done: the message
  // starts at `offset`; Invalid: a lead that no server would take for TLS.
  Status status;
  StreamLeadKind kind;
  size_t offset;
};

StreamLead skipStreamLead(std::span<const uint8_t> stream);

}  // namespace lbg::inspect
