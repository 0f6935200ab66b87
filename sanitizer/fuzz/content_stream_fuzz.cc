// libFuzzer: the PDF content-stream tokeniser and operator filter on arbitrary bytes. Invariants:
// the tokeniser's tokens are views inside the input and never empty (except inline image data);
// a stream that filters is re-emitted as a clean stream, which filters to itself with nothing
// dropped (what we write is what we would accept).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sanitizer/pdf/content_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::sanitizer::pdf;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  ContentTokenizer tokenizer(input);
  Token token;
  while (tokenizer.next(&token)) {
    if (token.text.data() < input.data() || token.text.data() + token.text.size() > input.data() + input.size()) std::abort();
    if (token.text.empty() && token.type != TokenType::InlineImageData) std::abort();
  }
  ContentResources resources;
  // Names decide by their first byte so that both branches of Do and BDC are reached.
  resources.xobjectAllowed = [](const std::string& name) { return !name.empty() && (name[0] & 1); };
  resources.propertiesAllowed = [](const std::string& name) { return !name.empty() && (name[0] & 2); };
  ContentFilterResult first = filterContentStream(input, resources);
  if (!first.ok) {
    if (first.error.empty() || !first.output.empty()) std::abort();
    return 0;
  }
  ContentFilterResult second = filterContentStream(first.output, resources);
  if (!second.ok || !second.dropped.empty() || second.output != first.output) std::abort();
  return 0;
}
