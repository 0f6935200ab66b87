#include "dataplane/ids/tls_records.h"

#include <algorithm>

namespace lbg::ids {

size_t TlsFlowWalk::next(int d, uint64_t at, std::span<const uint8_t> bytes) {
  TlsRecordWalk& w = dir[d];
  if (w.mode == TlsRecordWalk::Mode::Start) w.mode = at == 0 ? TlsRecordWalk::Mode::Walking
                                                             : TlsRecordWalk::Mode::Lost;
  if (w.mode == TlsRecordWalk::Mode::Lost) return kNone;
  size_t i = 0;
  while (i < bytes.size()) {
    if (w.need > 0) {
      const size_t k = std::min<size_t>(w.need, bytes.size() - i);
      i += k;
      w.need -= uint32_t(k);
      continue;
    }
    w.header[w.headerLen++] = bytes[i++];
    if (w.headerLen < 5) continue;
    w.headerLen = 0;
    const uint8_t type = w.header[0];
    if (type < 20 || type > 24 || w.header[1] != 3) {
      w.mode = TlsRecordWalk::Mode::Lost;
      return kNone;
    }
    if (type == 22 && d == 1) serverHandshake = true;
    if (type == 23 && (d == 1 || serverHandshake)) return i >= 5 ? i - 5 : 0;
    w.need = uint32_t(w.header[3]) << 8 | w.header[4];
  }
  return kNone;
}

}  // namespace lbg::ids
