#include "dataplane/telemetry/log/test_support.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "dataplane/telemetry/log/time_format.h"

namespace lbg::telemetry::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "lbg-log-test-XXXXXX").string();
  char* p = ::mkdtemp(tmpl.data());
  EXPECT_NE(p, nullptr);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string writeFixedKey(const std::string& dir, char seedByte) {
  std::string path = dir + "/log.key";
  auto k = logfmt::SigningKey::fromSeed(std::string(32, seedByte));
  EXPECT_TRUE(k.ok());
  EXPECT_TRUE(k->writePem(path).ok());
  return path;
}

logfmt::VerifyKey fixedPublicKey(char seedByte) {
  auto k = logfmt::SigningKey::fromSeed(std::string(32, seedByte));
  return k->publicKey();
}

LogConfig testConfig(const std::string& logDir, const std::string& keyFile) {
  LogConfig c;
  c.dir = logDir;
  c.keyFile = keyFile;
  c.applianceId = "lbg-test-01";
  c.segmentMaxBytes = 64 << 10;
  c.segmentMaxSeconds = 3600;
  return c;
}

std::string flowRecord(uint64_t i, int64_t sec, int usec, bool deny) {
  std::string ts = logfmt::formatRfc3339((sec * 1000000 + usec) * 1000);
  std::ostringstream o;
  o << "{\"timestamp\":\"" << ts << "\",\"flow_id\":" << (1000 + i)
    << ",\"event_type\":\"flow\",\"phase\":\"verdict\",\"src_ip\":\"10.1." << (i / 250) % 250 << "."
    << (i % 250 + 1) << "\",\"src_port\":" << (40000 + i % 20000)
    << ",\"dest_ip\":\"52.96." << (i % 7) << ".1\",\"dest_port\":443,\"proto\":\"TCP\","
    << "\"app_proto\":\"tls\",\"action\":\"" << (deny ? "deny" : "allow") << "\",\"reason\":\""
    << (deny ? "no-match" : "sni") << "\",\"policy\":{\"version\":3,\"service\":"
    << (deny ? "null" : "\"m365\"") << "},\"tls\":{\"sni\":\""
    << (deny ? "evil" + std::to_string(i % 5) + ".example" : "outlook.office365.com")
    << "\",\"alpn\":[\"h2\"]},\"measure\":\"AP-DEST\"}";
  return o.str();
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

std::vector<std::string> readLines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(readFile(path));
  std::string l;
  while (std::getline(in, l)) lines.push_back(l);
  return lines;
}

}  // namespace lbg::telemetry::testing
