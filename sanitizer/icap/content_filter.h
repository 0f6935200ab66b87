#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lbg::icap {

// What the ICAP layer needs from a file sanitizer. The shipped lbg-icapd implements it with
// EngineFilter over lbg::sanitizer::Engine; the protocol tests implement it with a small filter
// of their own so that RFC 3507 framing is tested apart from file formats.
struct FilterResult {
  bool blocked = false;
  std::string output;        // sanitized bytes; empty when blocked, never the original
  std::string detectedType;  // "docm", "pdf", "unknown", ...
  std::string outputType;    // "docx" for a docm input; empty when blocked
  std::string reason;        // machine word when blocked ("encrypted", "limit:zip-ratio", ...)
  std::string inputSha256;   // hex
  std::vector<std::string> removedKinds;  // "vbaProject", "dde-field", ... (for headers and pages)
  std::string reportJson;  // the full report as one JSON object (logged as "fileinfo")
};

class ContentFilter {
 public:
  virtual ~ContentFilter() = default;
  // Thread-safe: called from several worker threads at once.
  virtual FilterResult filter(std::string_view input, std::string_view fileNameHint) const = 0;
  // Changes whenever the same input may give another output (engine, policy, mode); the ICAP
  // ISTag is derived from it so that clients drop cached adaptations when it changes.
  virtual std::string versionTag() const = 0;
};

}  // namespace lbg::icap
