#pragma once

// What every format rebuilder hands back to the engine. Formats never include the engine: they get
// their limits in a FormatContext and answer with a FormatResult.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sanitizer/common/removed.h"

namespace lbg::sanitizer {

// Bounds every format obeys. The deadline is checked between units of work (a part, an object, a
// member); a rebuild that runs past it fails with "limit:timeout".
struct FormatLimits {
  uint64_t maxExpandedBytes = 512ull << 20;
  uint32_t maxArchiveMembers = 1000;
  double maxCompressionRatio = 100;
  uint32_t maxImagePixels = 50'000'000;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();

  bool expired() const { return std::chrono::steady_clock::now() > deadline; }
};

struct FormatResult {
  bool ok = false;
  std::string reason;      // machine word when !ok: "parse-error", "encrypted", "limit:zip-ratio", ...
  std::string output;      // the rebuilt file when ok
  std::string outputType;  // type name of `output`, e.g. "docx"
  std::vector<RemovedItem> removed;

  static FormatResult fail(std::string why) {
    FormatResult r;
    r.reason = std::move(why);
    return r;
  }
};

// Archives hand each member to this callback (the engine's own sanitize, one level deeper). It
// returns the member's outcome; a member that is not ok makes the caller decide (drop or block).
struct MemberOutcome {
  bool ok = false;
  std::string reason;
  std::string output;
  std::string outputName;  // the member name with the extension of the output type
  std::vector<RemovedItem> removed;
};
using MemberSanitizer = std::function<MemberOutcome(std::string_view bytes, std::string_view name)>;

}  // namespace lbg::sanitizer
