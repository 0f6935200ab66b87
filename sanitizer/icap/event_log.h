#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "policy/base/result.h"

namespace lbg::icap {

// Appends one JSON object per line to a file. Workers write concurrently; a mutex keeps lines
// whole. The file is opened O_APPEND; after an external rotation (rename), reopen() (lbg-icapd
// calls it on SIGHUP) starts a new file under the configured path.
class EventLog {
 public:
  // An error when the file cannot be opened.
  static Result<std::unique_ptr<EventLog>> create(const std::string& path);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // `line` must be a single JSON object without newlines. Returns false on a write error (the
  // error is counted; the ICAP answer does not depend on it).
  bool write(std::string_view line);
  uint64_t writeErrors() const;
  // Opens the path again; on failure keeps writing to the old file and returns the error.
  Result<Ok> reopen();

  // Current time as the EVE timestamp format: 2026-01-02T03:04:05.123456+0000
  static std::string timestamp();

 private:
  EventLog(std::string path, std::FILE* f) : path_(std::move(path)), file_(f) {}
  static Result<std::FILE*> open(const std::string& path);
  const std::string path_;
  mutable std::mutex mutex_;
  std::FILE* file_;
  uint64_t writeErrors_ = 0;
};

}  // namespace lbg::icap
