#include "dataplane/telemetry/log/segment_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

namespace lbg::telemetry::logfmt {

std::string segmentBaseName(uint64_t number) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "seg-%010llu", static_cast<unsigned long long>(number));
  return buf;
}

SegmentFiles segmentFiles(const std::string& dir, uint64_t number) {
  SegmentFiles f;
  f.number = number;
  std::string base = dir + "/" + segmentBaseName(number);
  f.log = base + ".jsonl";
  f.seal = base + ".seal";
  f.index = base + ".idx";
  return f;
}

Result<std::vector<SegmentFiles>> listSegments(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Error{"cannot read log directory: " + std::string(std::strerror(errno)), dir};
  std::map<uint64_t, SegmentFiles> found;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    // seg- + 10 digits + .ext
    if (name.size() < 4 + 10 + 4 || name.substr(0, 4) != "seg-") continue;
    std::string_view digits = name.substr(4, 10);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    std::string_view ext = name.substr(14);
    if (ext != ".jsonl" && ext != ".seal" && ext != ".idx") continue;
    uint64_t n = std::stoull(std::string(digits));
    auto [it, inserted] = found.try_emplace(n, segmentFiles(dir, n));
    if (ext == ".jsonl") it->second.hasLog = true;
    if (ext == ".seal") it->second.hasSeal = true;
    if (ext == ".idx") it->second.hasIndex = true;
  }
  ::closedir(d);
  std::vector<SegmentFiles> out;
  out.reserve(found.size());
  for (auto& [n, f] : found) out.push_back(std::move(f));
  return out;
}

Result<Ok> readFileInto(const std::string& path, std::string& buf, size_t padding) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{std::strerror(errno), path};
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error{"not a regular file", path};
  }
  size_t size = size_t(st.st_size);
  buf.resize(size + padding);
  size_t got = 0;
  while (got < size) {
    ssize_t n = ::read(fd, buf.data() + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the file shrank under us: take what is there
    got += size_t(n);
  }
  ::close(fd);
  std::memset(buf.data() + got, 0, padding);
  buf.resize(got + padding);
  return Ok{};
}

Result<Ok> writeFileAtomic(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return Error{std::strerror(errno), tmp};
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Error{std::strerror(e), tmp};
    }
    off += size_t(n);
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Error{std::strerror(e), tmp};
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return Error{std::strerror(e), path};
  }
  std::string dir = path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  if (dir.empty()) dir = ".";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Ok{};
}

}  // namespace lbg::telemetry::logfmt
