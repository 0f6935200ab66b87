// libFuzzer: the whole engine on arbitrary bytes named *.zip, so archives (nested included), and
// whatever their members turn out to be, go through the real dispatch with small limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "sanitizer/core/engine.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::sanitizer;
  static std::unique_ptr<Engine> engine = [] {
    EngineConfig config;
    config.maxExpandedBytes = 16 << 20;
    config.maxArchiveMembers = 64;
    config.maxImagePixels = 1 << 20;
    // No LibreOffice start per generated .doc member: the converter is a separate program whose
    // input is confined by the exec sandbox, not code this fuzzer can instrument.
    config.officeConverter = "";
    auto created = Engine::create(config);
    return created.ok() ? std::move(created).value() : nullptr;
  }();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Outcome out = engine->sanitize(bytes, "fuzz.zip", Mode::Rebuild);
  // Fail closed: a block never carries bytes, and a pass never hands back the original.
  if (out.report.verdict == Verdict::Blocked && !out.output.empty()) std::abort();
  if (out.report.verdict == Verdict::Sanitized && out.output.empty()) std::abort();
  return 0;
}
