#include "sanitizer/icap/icap_response.h"

#include "sanitizer/icap/chunked.h"

namespace lbg::icap {

std::string serializeResponse(const IcapResponse& r) {
  std::string encapsulatedBytes;
  std::string encapsulated;
  if (r.request) {
    encapsulated += "req-hdr=0";
    encapsulatedBytes += r.request->serialize();
  }
  if (r.response) {
    if (!encapsulated.empty()) encapsulated += ", ";
    encapsulated += "res-hdr=" + std::to_string(encapsulatedBytes.size());
    encapsulatedBytes += r.response->serialize();
  }
  if (!encapsulated.empty()) encapsulated += ", ";
  if (r.body) {
    encapsulated += r.response ? "res-body=" : "req-body=";
  } else {
    encapsulated += "null-body=";
  }
  encapsulated += std::to_string(encapsulatedBytes.size());

  std::string out = "ICAP/1.0 " + std::to_string(static_cast<int>(r.status)) + " " +
                    std::string(reasonPhrase(r.status)) + "\r\n";
  r.headers.serialize(out);
  out += "Encapsulated: " + encapsulated + "\r\n\r\n";
  out += encapsulatedBytes;
  if (r.body) appendChunked(out, *r.body, true);
  return out;
}

}  // namespace lbg::icap
