#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "policy/base/result.h"

// Names and discovery of the files in a log directory (FORMAT.md "Files").
namespace lbg::telemetry::logfmt {

struct SegmentFiles {
  uint64_t number = 0;
  std::string log;    // DIR/seg-0000000042.jsonl
  std::string seal;   // DIR/seg-0000000042.seal
  std::string index;  // DIR/seg-0000000042.idx
  bool hasLog = false, hasSeal = false, hasIndex = false;
};

std::string segmentBaseName(uint64_t number);  // "seg-0000000042"
// Every segment number for which any of its three files exists, ascending. Files that are not
// ours are ignored (an auditor's notes beside the log must not break verification).
Result<std::vector<SegmentFiles>> listSegments(const std::string& dir);
SegmentFiles segmentFiles(const std::string& dir, uint64_t number);

// Reads a whole file, leaving `padding` zero bytes readable after its end (simdjson needs them).
Result<Ok> readFileInto(const std::string& path, std::string& buf, size_t padding = 64);
// Writes `data` to path.tmp, fsyncs, renames over `path` and fsyncs the directory.
Result<Ok> writeFileAtomic(const std::string& path, const std::string& data);

}  // namespace lbg::telemetry::logfmt
