#include "dataplane/inspect/appid/appid.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <tuple>

#include "dataplane/inspect/test_pcap.h"

namespace lbg::inspect {
namespace {

namespace fs = std::filesystem;

TEST(AppId, CreateValidatesConfig) {
  EXPECT_FALSE(AppId::create({0, 16}).ok());
  EXPECT_FALSE(AppId::create({16, 0}).ok());
  EXPECT_TRUE(AppId::create({16, 16}).ok());
}

TEST(AppId, PoolExhaustionIsCountedAndSlotsComeBack) {
  auto a = std::move(AppId::create({4, 8}).value());
  uint32_t s[4];
  for (auto& x : s) {
    x = a->acquire();
    ASSERT_NE(x, AppId::kNoSlot);
  }
  EXPECT_EQ(a->acquire(), AppId::kNoSlot);
  EXPECT_EQ(a->counters().exhausted, 1u);
  a->release(s[2]);
  a->release(s[2]);  // twice: ignored
  EXPECT_EQ(a->acquire(), s[2]);
  EXPECT_EQ(a->acquire(), AppId::kNoSlot);
  // Unknown or released slots are harmless.
  EXPECT_FALSE(a->process(AppId::kNoSlot, nullptr, 0, 0).finished);
}

TEST(AppId, GivesUpAfterMaxPackets) {
  auto a = std::move(AppId::create({4, 3}).value());
  const uint32_t s = a->acquire();
  // IPv4/UDP to a high port with random payload: nothing to detect.
  uint8_t pkt[60] = {0x45, 0, 0,  60, 0, 0, 0x40, 0,    64,   17,   0, 0,  10, 0,
                     0,    1, 10, 0,  0, 2, 0x9c, 0x41, 0x9c, 0x43, 0, 40, 0,  0};
  for (size_t i = 28; i < sizeof(pkt); ++i) pkt[i] = uint8_t(i * 37 + 11);
  AppIdResult r{};
  for (int i = 0; i < 5; ++i) r = a->process(s, pkt, sizeof(pkt), 1000 + i);
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.packets, 3);  // stopped feeding nDPI after maxPackets
  EXPECT_EQ(a->counters().gave_up + a->counters().detected, 1u);
}

// Feeds every flow of a capture through its own slot and returns "master.app" names per flow
// (key: "proto a:port-b:port" with endpoints sorted, as text).
std::map<std::string, AppIdResult> runCapture(AppId& a, const std::string& path) {
  std::map<std::string, uint32_t> slots;
  std::map<std::string, AppIdResult> out;
  const std::string err = testing::forEachIpPacket(path, [&](const uint8_t* l3, size_t len,
                                                             uint64_t ms) {
    char src[64], dst[64];
    uint8_t proto;
    size_t l4;
    if ((l3[0] >> 4) == 4 && len >= 20) {
      std::snprintf(src, sizeof(src), "%u.%u.%u.%u", l3[12], l3[13], l3[14], l3[15]);
      std::snprintf(dst, sizeof(dst), "%u.%u.%u.%u", l3[16], l3[17], l3[18], l3[19]);
      proto = l3[9];
      l4 = size_t(l3[0] & 0x0f) * 4;
    } else {
      return;  // IPv4 is enough for these captures
    }
    if ((proto != 6 && proto != 17) || len < l4 + 4) return;
    const std::string e1 = std::string(src) + ":" + std::to_string(l3[l4] << 8 | l3[l4 + 1]);
    const std::string e2 = std::string(dst) + ":" + std::to_string(l3[l4 + 2] << 8 | l3[l4 + 3]);
    const std::string key = std::to_string(proto) + " " + (e1 < e2 ? e1 + "-" + e2 : e2 + "-" + e1);
    auto it = slots.find(key);
    if (it == slots.end()) it = slots.emplace(key, a.acquire()).first;
    out[key] = a.process(it->second, l3, uint16_t(len), ms);
  });
  EXPECT_TRUE(err.empty()) << err;
  for (const auto& [k, s] : slots) a.release(s);
  return out;
}

TEST(AppId, AgreesWithNdpiOracleOnRealCaptures) {
  const fs::path corpus = fs::path(LBG_CORPUS_DIR) / "ndpi";
  auto a = std::move(AppId::create({1024, 32}).value());
  struct Case {
    const char* capture;
    const char* master;
    const char* app;
  };
  int matched = 0;
  for (const Case& c :
       {Case{"long_tls_certificate.pcap", "TLS", "Alibaba"}, Case{"teams.pcap", "TLS", "Teams"},
        Case{"dns.pcap", "DNS", nullptr}, Case{"http.pcapng", "HTTP", nullptr},
        Case{"quic-29.pcap", "QUIC", nullptr}}) {
    const auto flows = runCapture(*a, (corpus / "pcap" / c.capture).string());
    bool any = false;
    for (const auto& [key, r] : flows) {
      if (r.masterName == c.master && (c.app == nullptr || r.appName == c.app)) any = true;
    }
    EXPECT_TRUE(any) << c.capture;
    matched += any;
  }
  EXPECT_EQ(matched, 5);
  EXPECT_GT(AppId::ndpiAllocations(), 0u);
}

TEST(AppId, RiskNames) {
  EXPECT_FALSE(AppId::riskName(1).empty());
  EXPECT_EQ(AppId::riskName(200), "unknown-risk");
}

}  // namespace
}  // namespace lbg::inspect
