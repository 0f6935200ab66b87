#include "dataplane/inspect/tls/hello_tail.h"

#include <cstring>

namespace lbg::inspect {
namespace {

size_t recordLength(const uint8_t* p) {
  return size_t(p[3]) << 8 | p[4];
}

bool sameName(const TlsClientHello& a, const TlsClientHello& b) {
  if (a.hasSni != b.hasSni || a.sniLen != b.sniLen) return false;
  for (size_t i = 0; i < a.sniLen; ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c | 0x20) : c; };
    if (lower(a.sni[i]) != lower(b.sni[i])) return false;
  }
  return true;
}

}  // namespace

size_t helloRecordsEnd(std::span<const uint8_t> s, const TlsClientHello& first) {
  // The hello's records end where its 4 + helloLength handshake bytes do: the parser refuses
  // other records inside the hello and bytes after it in its last record.
  const size_t helloBytes = 4 + size_t(first.helloLength);
  size_t i = 0, seen = 0;
  while (seen < helloBytes) {
    if (s.size() - i < 5) return SIZE_MAX;  // cannot happen after Done
    const size_t len = recordLength(s.data() + i);
    i += 5 + len;
    seen += len;
    if (i > s.size()) return SIZE_MAX;
  }
  return i;
}

HelloTail checkHelloTail(std::span<const uint8_t> s, const TlsClientHello& first,
                         TlsClientHello& second) {
  size_t i = helloRecordsEnd(s, first);
  if (i == SIZE_MAX) return HelloTail::Extra;
  while (s.size() - i >= 1) {
    if (s[i] == 0x16) break;
    if (s.size() - i < 5) return HelloTail::Clean;
    const size_t len = recordLength(s.data() + i);
    if (s.size() - i - 5 < len) return HelloTail::Clean;
    i += 5 + len;
  }
  if (i >= s.size()) return HelloTail::Clean;
  if (parseClientHello(s.subspan(i), second) != Status::Done) return HelloTail::Extra;
  return sameName(first, second) ? HelloTail::Extra : HelloTail::OtherName;
}

}  // namespace lbg::inspect
