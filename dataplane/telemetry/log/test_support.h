#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/telemetry/log/ed25519_key.h"
#include "dataplane/telemetry/log/log_writer.h"

// Fixtures for the log tests: a scratch directory, a fixed key, deterministic records.
namespace lbg::telemetry::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes a fixed Ed25519 key (seed byte `seedByte` repeated) to dir/log.key(.pub).
std::string writeFixedKey(const std::string& dir, char seedByte = 7);
logfmt::VerifyKey fixedPublicKey(char seedByte = 7);

LogConfig testConfig(const std::string& logDir, const std::string& keyFile);

// A flow verdict record at Unix time `sec` (+ `usec`); `i` varies addresses and names.
std::string flowRecord(uint64_t i, int64_t sec, int usec = 0, bool deny = false);

std::string readFile(const std::string& path);
void writeFile(const std::string& path, const std::string& data);
std::vector<std::string> readLines(const std::string& path);

// 2026-11-23T00:00:00Z
inline constexpr int64_t kBaseTime = 1795392000;

}  // namespace lbg::telemetry::testing
