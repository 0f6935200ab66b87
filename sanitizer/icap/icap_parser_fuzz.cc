// libFuzzer target: everything an ICAP client controls, through the same parsers the server uses,
// fed in pieces whose sizes come from the input (so that incremental paths are covered too).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sanitizer/icap/chunked.h"
#include "sanitizer/icap/http_rewrite.h"
#include "sanitizer/icap/icap_request.h"
#include "sanitizer/icap/multipart.h"

using namespace lbg::icap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t piece = 1 + data[0] % 64;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  Limits limits;
  limits.maxIcapHeadBytes = 4096;
  limits.maxHttpHeadBytes = 8192;
  limits.maxBodyBytes = 1 << 20;

  IcapRequestHead head;
  const auto hr = parseIcapHead(in, limits, head);
  if (hr.status != ParseStatus::Done) {
    // Still exercise the chunked decoder on the raw bytes.
    ChunkedDecoder d(limits);
    std::string out;
    for (size_t pos = 0; pos < in.size(); pos += piece) {
      const auto st = d.feed(in.substr(pos, piece), out);
      if (st.status != ChunkedDecoder::Status::NeedMore) break;
      if (out.size() > limits.maxBodyBytes) break;
    }
    return 0;
  }
  in.remove_prefix(hr.consumed);
  const auto headerBytes = head.encapsulated.headerBytes();
  if (in.size() < headerBytes) return 0;
  EncapsulatedHeads heads;
  if (!parseEncapsulatedHeads(in.substr(0, headerBytes), head.encapsulated, limits, heads)
           .empty()) {
    return 0;
  }
  in.remove_prefix(headerBytes);
  if (heads.request) {
    if (const auto* ct = heads.request->headers.get("Content-Type")) {
      const auto boundary = multipartBoundary(*ct);
      std::vector<MultipartPart> parts;
      if (!boundary.empty() && parseMultipart(in, boundary, 64, 32, parts).empty()) {
        for (const auto& p : parts) (void)isFilePart(p);
        (void)serializeMultipart(parts, boundary);
      }
    }
    (void)heads.request->url();
    (void)urlFileName(heads.request->target);
    (void)heads.request->serialize();
  }
  if (heads.response) {
    if (const auto* cd = heads.response->headers.get("Content-Disposition")) {
      (void)dispositionFileName(*cd);
      (void)rewriteDispositionExtension(*cd, "docx");
    }
    if (const auto* ct = heads.response->headers.get("Content-Type")) (void)mediaType(*ct);
    (void)heads.response->serialize();
  }
  if (!head.encapsulated.hasBody()) return 0;
  ChunkedDecoder d(limits);
  std::string body;
  size_t pos = 0;
  while (pos < in.size()) {
    const auto st = d.feed(in.substr(pos, piece), body);
    pos += st.consumed;
    if (body.size() > limits.maxBodyBytes) break;
    if (st.status == ChunkedDecoder::Status::Error) break;
    if (st.status == ChunkedDecoder::Status::Done) {
      if (!head.preview || d.ieof()) break;
      d.restart();  // the part after "100 Continue"
      head.preview.reset();
    }
  }
  return 0;
}
