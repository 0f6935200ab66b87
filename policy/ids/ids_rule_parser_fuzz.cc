// libFuzzer target: arbitrary bytes as a rules file. Properties checked beyond "no crash":
// every line is loaded or rejected with a keyword and a position inside the file, and a loaded
// rule's fast pattern points at a positive content.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "policy/ids/rule_set.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::ids;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  RuleSetBuilder builder;
  builder.addRules(text, "fuzz.rules");
  auto set = std::move(builder).build();
  const LoadReport& report = set->report();
  size_t lines = 1;
  for (char c : text) lines += c == '\n';
  for (const Rejection& r : report.rejections)
    if (r.keyword.empty() || r.message.empty() || r.line < 1 || size_t(r.line) > lines ||
        r.column < 1)
      std::abort();
  if (set->rules().size() != report.loaded) std::abort();
  for (const Rule& r : set->rules()) {
    if (r.sid == 0 || r.directions() == 0) std::abort();
    if (r.fpBuffer < 0) continue;
    const auto* c = std::get_if<Content>(&r.buffers.at(r.fpBuffer).items.at(r.fpItem));
    if (!c || c->negated || c->bytes.empty()) std::abort();
    if (c->fpLength && size_t(c->fpOffset) + c->fpLength > c->bytes.size()) std::abort();
  }
  return 0;
}
