#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

#include "dataplane/telemetry/log/ed25519_key.h"
#include "dataplane/telemetry/log/time_format.h"
#include "tools/audit/sample_log.h"

namespace lbg::audit::testing {

class ScratchDir {
 public:
  ScratchDir() {
    std::string t = (std::filesystem::temp_directory_path() / "lbg-audit-test-XXXXXX").string();
    path_ = ::mkdtemp(t.data()) ? t : "";
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline telemetry::logfmt::SigningKey fixedKey() {
  return *telemetry::logfmt::SigningKey::fromSeed(std::string(32, 'G'));
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline int64_t at(const char* rfc3339) { return *telemetry::logfmt::parseRfc3339(rfc3339); }

// Options for a sample log in `dir` (log/ and log.key, the fixed key written); the caller sets
// the size, times and segment limits.
inline SampleLogOptions sampleLogIn(const ScratchDir& dir) {
  SampleLogOptions o;
  o.dir = dir.path() + "/log";
  o.keyFile = dir.path() + "/log.key";
  fixedKey().writePem(o.keyFile);
  return o;
}

}  // namespace lbg::audit::testing
