#include "policy/ids/rule.h"

namespace lbg::ids {

const BufferInfo& bufferInfo(Buffer b) {
  static constexpr BufferInfo kInfo[kBufferCount] = {
      {"pkt_data", nullptr, kBothDirections},
      {"tls.sni", "tls_sni", kToServer},
      {"tls.cert_subject", "tls_cert_subject", kToClient},
      {"tls.cert_issuer", "tls_cert_issuer", kToClient},
      {"http.host", nullptr, kToServer},
      {"http.uri", nullptr, kToServer},
      {"http.method", nullptr, kToServer},
      {"http.user_agent", nullptr, kToServer},
      {"http.header", nullptr, kBothDirections},
      {"http.header_names", nullptr, kBothDirections},
      {"http.cookie", nullptr, kBothDirections},
      {"http.content_type", nullptr, kBothDirections},
      {"http.referer", nullptr, kToServer},
      {"http.request_line", nullptr, kToServer},
      {"http.request_body", nullptr, kToServer},
      {"http.stat_code", nullptr, kToClient},
      {"http.response_body", nullptr, kToClient},
      {"file.data", "file_data", kBothDirections},
      {"dns.query", "dns_query", kToServer},
      {"http.uri.raw", nullptr, kToServer},
      {"tls.certs", nullptr, kToClient},
      {"http.start", nullptr, kBothDirections},
      {"http.header.raw", nullptr, kBothDirections},
      {"http.protocol", nullptr, kBothDirections},
      {"http.accept", nullptr, kToServer},
      {"http.accept_enc", nullptr, kToServer},
      {"http.connection", nullptr, kBothDirections},
      {"http.content_len", nullptr, kBothDirections},
      {"http.location", nullptr, kToClient},
      {"http.server", nullptr, kToClient},
      {"http.response_line", nullptr, kToClient},
      {"http.stat_msg", nullptr, kToClient},
  };
  return kInfo[int(b)];
}

uint8_t Rule::directions() const {
  uint8_t d = flow.directions;
  for (auto& b : buffers) d &= bufferInfo(b.buffer).directions;
  return d;
}

}  // namespace lbg::ids
