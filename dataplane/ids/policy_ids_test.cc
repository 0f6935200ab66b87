// The policy's `ids:` block compiled into the engine that hangs off the snapshot.

#include "dataplane/ids/policy_ids.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "policy/ids/rule_set.h"
#include "policy/parser.h"
#include "policy/snapshot.h"

namespace lbg::ids {
namespace {

namespace fs = std::filesystem;

class PolicyIdsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lbg-policy-ids-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "a.rules")
        << "alert udp $HOME_NET any -> $EXTERNAL_NET any (msg:\"out\"; content:\"ping\"; sid:1;)\n"
           "\n"
           "alert tcp any any -> any any (msg:\"x\"; content:\"x\"; stream_size:server,>,3; sid:2;)\n"
           "alert tcp any any -> any any (msg:\"p\"; pcre:\"/(unclosed/\"; sid:3;)\n";
    registerPolicyIds();
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string policy(const std::string& rules) const {
    return "version: 1\nsegment:\n  inside: [10.0.0.0/8, \"fd00::/8\"]\ndefaults:\n  deny: reset\n"
           "services:\n  - name: r\n    kind: infrastructure\n    cidr: [192.0.2.53/32]\n"
           "    ports: [udp/53]\nids:\n  rules: [" + rules + "]\n";
  }
  Result<std::shared_ptr<const policy::Snapshot>> snapshot(const std::string& rules) {
    auto doc = policy::parsePolicyText(policy(rules), (dir_ / "p.yaml").string(),
                                       std::chrono::sys_days{std::chrono::year{2026} / 1 / 1});
    EXPECT_TRUE(doc.ok()) << doc.error().toString();
    return policy::Snapshot::create(std::move(doc.value()), 3);
  }
  fs::path dir_;
};

TEST_F(PolicyIdsTest, RulesLoadWithHomeNetAndRejectionsAreReportedByKeyword) {
  auto snap = snapshot("a.rules");
  ASSERT_TRUE(snap.ok()) << snap.error().toString();
  ASSERT_NE((*snap)->idsEngine(), nullptr);
  EXPECT_EQ((*snap)->idsEngine()->ruleCount(), 1u);
  const LoadReport* r = (*snap)->idsReport();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->loaded, 1u);
  ASSERT_EQ(r->rejections.size(), 2u);
  EXPECT_EQ(r->rejections[0].file, (dir_ / "a.rules").string());
  EXPECT_EQ(r->rejections[0].line, 3);
  EXPECT_EQ(r->rejections[0].keyword, "stream_size");
  EXPECT_EQ(r->rejections[1].line, 4);
  EXPECT_EQ(r->rejections[1].keyword, "pcre");
  // $HOME_NET is segment.inside: the rule sees traffic from 10/8 out, not the other way.
  FlowIdsState st{};
  st.tuple.client = *IpAddr::parse("10.1.1.1");
  st.tuple.server = *IpAddr::parse("198.51.100.1");
  st.tuple.ipProto = 17;
  const Engine& e = *(*snap)->idsEngine();
  auto scratch = e.makeScratch();
  const std::string ping = "ping";
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(ping.data()), ping.size());
  auto out = e.scanPayload(st, kToServer, bytes, *scratch);
  EXPECT_EQ(out.action, Verdict::Alert);
  ASSERT_EQ(out.sidCount, 1);
  EXPECT_EQ(e.rule(out.rules[0]).msg, "out");
  FlowIdsState in{};
  in.tuple = st.tuple;
  std::swap(in.tuple.client, in.tuple.server);
  EXPECT_EQ(e.scanPayload(in, kToServer, bytes, *scratch).action, Verdict::None);
  EXPECT_EQ(homeNetOf((*snap)->doc()), "[10.0.0.0/8,fd00::/8]");
}

TEST_F(PolicyIdsTest, AFileThatVanishedAfterParsingFailsThePolicy) {
  std::ofstream(dir_ / "b.rules") << "alert tcp any any -> any any (content:\"a\"; sid:9;)\n";
  auto doc = policy::parsePolicyText(policy("b.rules"), (dir_ / "p.yaml").string(),
                                     std::chrono::sys_days{std::chrono::year{2026} / 1 / 1});
  ASSERT_TRUE(doc.ok());
  fs::remove(dir_ / "b.rules");
  auto snap = policy::Snapshot::create(std::move(doc.value()), 1);
  ASSERT_FALSE(snap.ok());
  EXPECT_NE(snap.error().message.find("cannot read"), std::string::npos) << snap.error().message;
}

}  // namespace
}  // namespace lbg::ids
