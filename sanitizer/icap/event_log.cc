#include "sanitizer/icap/event_log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace lbg::icap {

Result<std::FILE*> EventLog::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return Error{"cannot open log " + path + ": " + std::strerror(errno)};
  std::FILE* f = ::fdopen(fd, "a");
  if (f == nullptr) {
    ::close(fd);
    return Error{"cannot open log " + path + ": " + std::strerror(errno)};
  }
  return f;
}

Result<std::unique_ptr<EventLog>> EventLog::create(const std::string& path) {
  auto f = open(path);
  if (!f) return f.error();
  return std::unique_ptr<EventLog>(new EventLog(path, f.value()));
}

Result<Ok> EventLog::reopen() {
  auto f = open(path_);
  if (!f) return f.error();
  std::lock_guard<std::mutex> lock(mutex_);
  std::fclose(file_);
  file_ = f.value();
  return Ok{};
}

EventLog::~EventLog() {
  if (file_ != nullptr) std::fclose(file_);
}

bool EventLog::write(std::string_view line) {
  std::lock_guard<std::mutex> lock(mutex_);
  const bool ok = std::fwrite(line.data(), 1, line.size(), file_) == line.size() &&
                  std::fputc('\n', file_) != EOF && std::fflush(file_) == 0;
  if (!ok) ++writeErrors_;
  return ok;
}

uint64_t EventLog::writeErrors() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return writeErrors_;
}

std::string EventLog::timestamp() {
  struct timeval tv;
  ::gettimeofday(&tv, nullptr);
  struct tm tm;
  ::gmtime_r(&tv.tv_sec, &tm);
  char buf[64];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%06ld+0000", static_cast<long>(tv.tv_usec));
  return buf;
}

}  // namespace lbg::icap
