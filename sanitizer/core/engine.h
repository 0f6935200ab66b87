#pragma once

// The CDR (content disarm and reconstruction) engine: the one entry point that lbg-sanitize and
// lbg-icapd share. It decides the file type from the bytes (never from the name), applies the
// per-type policy, rebuilds the file from an allow-list, checks the rebuilt file a second time and
// fails closed: any parse error, limit, exception or failed second check yields Verdict::Blocked
// with an empty output. The original bytes are never returned as output.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy/base/result.h"
#include "sanitizer/common/removed.h"  // RemovedItem

namespace lbg::sanitizer {

enum class Mode : uint8_t { Rebuild, ImagePdf, Text };
enum class Verdict : uint8_t { Sanitized, Blocked };

struct Report {
  std::string fileName;                    // the hint given, for the report only
  std::string inputSha256, outputSha256;   // hex; output empty when blocked
  std::string detectedType;  // e.g. "pdf", "docx", "docm", "xlsx", "zip", "png", "exe", "unknown"
  std::string outputType;    // e.g. "docx" for a docm input
  Mode mode = Mode::Rebuild;
  Verdict verdict = Verdict::Blocked;
  // Machine word for blocks, e.g. "encrypted", "parse-error", "limit:zip-ratio", "type-blocked:exe".
  std::string reason;
  std::vector<RemovedItem> removed;
  std::string engineVersion, policyVersion;
  uint64_t inputBytes = 0, outputBytes = 0;
  double millis = 0;

  // nlohmann-json; snake_case field names: file_name, input_sha256, output_sha256, detected_type,
  // output_type, mode, verdict ("sanitized"|"blocked"), reason, removed[{kind,location,count}],
  // engine_version, policy_version, input_bytes, output_bytes, millis.
  std::string toJson() const;
};

struct Outcome {
  Report report;
  std::string output;  // sanitized bytes; empty when blocked — NEVER the original
};

struct EngineConfig {
  std::string policyVersion = "default";
  uint64_t maxInputBytes = 64 << 20;
  uint32_t maxArchiveDepth = 3, maxArchiveMembers = 1000;
  double maxCompressionRatio = 100;
  uint64_t maxExpandedBytes = 512 << 20;
  uint32_t timeoutMs = 30000;
  uint32_t maxImagePixels = 50'000'000;
  std::map<std::string, bool> allowTypes;  // per-type override of the default (e.g. {"exe", false})
  std::string quarantineDir;  // if non-empty, originals of blocked/sanitized inputs stored here (0700)
  // Legacy Office/RTF conversion: "auto" uses LibreOffice when installed, "" never converts (doc,
  // xls, ppt and rtf are then blocked), anything else is the path of soffice.bin.
  std::string officeConverter = "auto";
  // Pre-forked sandboxed render workers (poppler) reused across files; 0 forks one child per file.
  // Workers start on first use; each is replaced after a failure and retired after 256 files.
  uint32_t renderWorkers = 2;
  // Threads (the calling one included) that decode and re-encode the images of one PDF at once:
  // a 10 MB PDF of photographs waits for one thread's share of them instead of all. Costs the
  // same CPU time (a little more for starting threads); in lbg-icapd each busy worker thread may
  // use this many. 1: serial. Output and verdict do not depend on it.
  static constexpr uint32_t kMaxImageThreads = 16;
  uint32_t imageThreads = 2;
};

class Engine {
 public:
  // An error on bad config.
  static Result<std::unique_ptr<Engine>> create(const EngineConfig&);

  // Thread-safe (const): lbg-icapd calls it from several worker threads at once.
  Outcome sanitize(std::string_view input, std::string_view fileNameHint, Mode mode) const;

  // CPU seconds used so far by the live render workers (for benchmarks: their time is not in the
  // caller's RUSAGE_CHILDREN until they are reaped).
  double renderWorkersCpuSeconds() const;

  ~Engine();

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

const char* modeName(Mode mode);        // "rebuild" | "image-pdf" | "text"
const char* verdictName(Verdict verdict);  // "sanitized" | "blocked"

}  // namespace lbg::sanitizer
