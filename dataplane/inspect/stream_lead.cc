#include "dataplane/inspect/stream_lead.h"

namespace lbg::inspect {

StreamLead skipStreamLead(std::span<const uint8_t> s) {
  const size_t n = s.size();
  if (n == 0) return {Status::NeedMore, StreamLeadKind::None, 0};
  if (s[0] == '\r' || s[0] == '\n') {
    size_t i = 0;
    while (i < n && (s[i] == '\r' || s[i] == '\n')) ++i;
    return {i == n ? Status::NeedMore : Status::Done, StreamLeadKind::EmptyLines, i};
  }
  if (s[0] != 0x14 && s[0] != 0x15) return {Status::Done, StreamLeadKind::None, 0};
  size_t i = 0;
  for (uint8_t records = 0; i < n; ++records) {
    const uint8_t type = s[i];
    if (type == 0x16) return {Status::Done, StreamLeadKind::TlsRecords, i};
    if ((type != 0x14 && type != 0x15) || records == kMaxLeadRecords) {
      return {Status::Invalid, StreamLeadKind::TlsRecords, i};
    }
    if (n - i < 5) break;
    const size_t len = size_t(s[i + 3]) << 8 | s[i + 4];
    if (s[i + 1] != 0x03 || s[i + 2] > 0x04 || len != (type == 0x14 ? 1u : 2u)) {
      return {Status::Invalid, StreamLeadKind::TlsRecords, i};
    }
    if (n - i - 5 < len) break;
    if (type == 0x14 && s[i + 5] != 0x01) return {Status::Invalid, StreamLeadKind::TlsRecords, i};
    i += 5 + len;
  }
  return {Status::NeedMore, StreamLeadKind::TlsRecords, i};
}

}  // namespace lbg::inspect
