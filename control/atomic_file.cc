#include "control/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace lbg::control {

namespace {

std::atomic<testing::CrashHook> gCrashHook{nullptr};

Error sysError(const std::string& what, const std::string& path) {
  return Error{what + ": " + std::strerror(errno), path};
}

std::string dirOf(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

namespace testing {
void setCrashHook(CrashHook hook) {
  gCrashHook.store(hook);
}
}  // namespace testing

Result<Ok> syncDirectory(const std::string& dir) {
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0) return sysError("cannot open directory", dir);
  if (::fsync(d.fd) != 0) return sysError("cannot sync directory", dir);
  return Ok{};
}

Result<Ok> writeFileAtomic(const std::string& path, const std::string& content, int mode) {
  // The temporary name is unique per process so that two writers never share one temp file;
  // a leftover from a crash is recognisable by its ".tmp." infix and ignored by readers.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    Fd f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)};
    if (f.fd < 0) return sysError("cannot create", tmp);
    size_t done = 0;
    while (done < content.size()) {
      const ssize_t n = ::write(f.fd, content.data() + done, content.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        const Error e = sysError("cannot write", tmp);
        ::unlink(tmp.c_str());
        return e;
      }
      done += static_cast<size_t>(n);
    }
    if (::fsync(f.fd) != 0) {
      const Error e = sysError("cannot sync", tmp);
      ::unlink(tmp.c_str());
      return e;
    }
  }
  if (auto hook = gCrashHook.load()) hook(path);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const Error e = sysError("cannot rename into place", path);
    ::unlink(tmp.c_str());
    return e;
  }
  return syncDirectory(dirOf(path));
}

Result<std::string> readFileLimited(const std::string& path, size_t maxBytes) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) return sysError("cannot open", path);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return sysError("cannot stat", path);
  if (!S_ISREG(st.st_mode)) return Error{"not a regular file", path};
  if (static_cast<uint64_t>(st.st_size) > maxBytes) {
    return Error{"file too large (" + std::to_string(st.st_size) + " bytes, limit " +
                     std::to_string(maxBytes) + ")",
                 path};
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(f.fd, out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sysError("cannot read", path);
    }
    if (n == 0) break;  // shrank while reading: keep what is there
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

}  // namespace lbg::control
