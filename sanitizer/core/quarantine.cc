#include "sanitizer/core/quarantine.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace lbg::sanitizer {
namespace {

bool writeAtomically(const std::string& path, std::string_view bytes) {
  static std::atomic<uint64_t> counter{0};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace

Result<Ok> prepareQuarantine(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error{"cannot create quarantine directory " + dir + ": " + std::strerror(errno)};
  }
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error{"quarantine path is not a directory: " + dir};
  }
  if ((st.st_mode & 0077) != 0 && ::chmod(dir.c_str(), 0700) != 0) {
    return Error{"cannot restrict quarantine directory to 0700: " + dir};
  }
  return Ok{};
}

bool quarantineStore(const std::string& dir, const std::string& sha256, std::string_view bytes,
                     std::string_view reportJson) {
  std::string base = dir + "/" + sha256;
  struct stat st;
  bool ok = true;
  if (::stat((base + ".bin").c_str(), &st) != 0) ok = writeAtomically(base + ".bin", bytes);
  ok = writeAtomically(base + ".json", reportJson) && ok;
  return ok;
}

}  // namespace lbg::sanitizer
