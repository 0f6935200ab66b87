// libFuzzer: the LZH reader (lhasa plus our accounting, limits and name handling) on arbitrary
// bytes, with a member callback that accepts every member as it is, so the fuzzer spends its time
// in the archive code rather than in member formats (those have their own targets).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sanitizer/archive/lzh_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lbg::sanitizer;
  FormatLimits limits;
  limits.maxExpandedBytes = 16 << 20;
  limits.maxArchiveMembers = 64;
  MemberSanitizer member = [](std::string_view bytes, std::string_view name) {
    MemberOutcome outcome;
    outcome.ok = true;
    outcome.output.assign(bytes);
    outcome.outputName.assign(name);
    return outcome;
  };
  FormatResult r = archive::sanitizeLzh(std::string_view(reinterpret_cast<const char*>(data), size), limits, member);
  if (r.ok && (r.output.empty() || r.outputType != "zip")) std::abort();
  if (!r.ok && !r.output.empty()) std::abort();
  return 0;
}
