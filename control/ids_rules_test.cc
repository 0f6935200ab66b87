// `lbgctl ids load` and `ids test` through the real dispatcher, store and rule parser (the
// dataplane is the recording double: the IDS engine itself runs in the gateway, tests/control/
// ids_rules_test.py), and the rule diff of `policy diff`.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "control/api.h"
#include "control/dispatcher.h"
#include "control/fake_control_api.h"
#include "control/ids_rules.h"
#include "control/lbgctl_parse.h"
#include "control/sha256.h"
#include "policy/parser.h"

namespace lbg::control {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr uint32_t kAdmin = 60201, kApprover = 60202;

constexpr const char* kPolicy = R"(version: 1
segment:
  inside: [10.0.0.0/8]
defaults:
  deny: reset
services:
  - name: resolver
    kind: infrastructure
    cidr: [192.0.2.53/32]
    ports: [udp/53]
)";

// Two rules that load and one the parser rejects (stream_size is not supported), on line 4.
constexpr const char* kRules =
    "# local rules\n"
    "alert udp $HOME_NET any -> any 53 (msg:\"LBG TEST dns partner\"; content:\"partner\"; "
    "sid:9100001; rev:1;)\n"
    "drop tcp any any -> any any (msg:\"LBG TEST evil\"; content:\"EVIL\"; sid:9100002; rev:2;)\n"
    "alert tcp any any -> any any (msg:\"LBG TEST unsupported\"; content:\"x\"; stream_size:server,>,5; "
    "sid:9100003;)\n";

std::string readAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::trunc);
  f << text;
}

class IdsRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lbg-ids-rules-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    writeFile(dir_ + "/roles.yaml", "users:\n  \"60201\": admin\n  \"60202\": approver\n");
    writeFile(dir_ + "/policy.yaml", kPolicy);
    writeFile(dir_ + "/local.rules", kRules);
    writeFile(dir_ + "/capture.pcap", "placeholder: the double does not read it\n");
    open();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void open() {
    dispatcher_.reset();
    Dispatcher::Config c;
    c.storeDir = dir_ + "/store";
    c.rolesFile = dir_ + "/roles.yaml";
    c.bootstrapPolicyFile = dir_ + "/policy.yaml";
    c.clock = [] {
      return std::chrono::sys_days(std::chrono::year(2026) / 11 / 23) + std::chrono::hours(3);
    };
    auto d = Dispatcher::create(c, api_);
    ASSERT_TRUE(d.ok()) << d.error().toString();
    dispatcher_ = std::move(*d);
  }

  // One lbgctl command line, as lbgctl would build it, answered by the dispatcher.
  Response call(const std::vector<std::string>& words, uint32_t uid = kAdmin) {
    CliInvocation inv = cli::parseCommand(words);
    std::string line = encodeRequest(inv.request);
    line.pop_back();
    int fd = -1;
    if (!inv.passFile.empty()) fd = ::open(inv.passFile.c_str(), O_RDONLY | O_CLOEXEC);
    auto r = parseResponse(dispatcher_->handle(uid, uid, line, fd));
    if (fd >= 0) ::close(fd);
    EXPECT_TRUE(r.ok());
    return *r;
  }
  std::string candidate() { return call({"policy", "candidate"}).result["yaml"]; }
  policy::PolicyDoc candidateDoc() {
    auto d = policy::parsePolicyText(candidate(), "candidate", std::chrono::sys_days{});
    EXPECT_TRUE(d.ok()) << d.error().toString();
    return *d;
  }

  std::string dir_;
  testing::FakeControlApi api_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(IdsRulesTest, LoadStagesAPinnedCopyAndTheDiffShowsTheSids) {
  auto r = call({"ids", "load", dir_ + "/local.rules"});
  ASSERT_TRUE(r.ok) << r.error.error.toString();
  ASSERT_EQ(r.result["files"].size(), 1u);
  const json& f = r.result["files"][0];
  EXPECT_EQ(f["loaded"], 2);
  EXPECT_EQ(f["rejected"], 1);
  EXPECT_EQ(f["rejections"][0]["line"], 4);
  EXPECT_EQ(f["rejections"][0]["keyword"], "stream_size");
  // The candidate names the store's copy, named by the content's hash.
  const std::string stored = dir_ + "/store/rules/" + sha256Hex(kRules) + "-local.rules";
  EXPECT_EQ(f["stored"], stored);
  EXPECT_EQ(readAll(stored), kRules);
  const policy::PolicyDoc doc = candidateDoc();
  ASSERT_TRUE(doc.ids.has_value());
  EXPECT_EQ(doc.ids->rules, std::vector<std::string>{stored});
  EXPECT_EQ(doc.ids->mode, policy::IdsMode::Ips);

  auto d = call({"policy", "diff"}, kApprover);
  ASSERT_TRUE(d.ok) << d.error.error.toString();
  const json& ids = d.result["diff"]["ids"];
  EXPECT_EQ(ids["rules_from"], 0);
  EXPECT_EQ(ids["rules_to"], 2);
  EXPECT_EQ(ids["sids_added"], (json{"9100001", "9100002"}));
  EXPECT_EQ(ids["files_added"][0]["name"], "local.rules");
  const std::string text = d.result["text"];
  EXPECT_NE(text.find("~ ids: off -> on"), std::string::npos) << text;
  EXPECT_NE(text.find("+ sids 2: 9100001 9100002"), std::string::npos) << text;
  EXPECT_NE(text.find("+ file local.rules (sha256 " + sha256Hex(kRules).substr(0, 12)),
            std::string::npos)
      << text;

  // Committed, then the source file changes: the committed version still names the same text.
  auto c = call({"policy", "commit", "-m", "ids rules"});
  ASSERT_TRUE(c.ok) << c.error.error.toString();
  writeFile(dir_ + "/local.rules",
            "alert udp any any -> any any (msg:\"edited\"; content:\"x\"; sid:9100009;)\n");
  EXPECT_EQ(readAll(stored), kRules);
  auto after = call({"policy", "diff"});
  EXPECT_FALSE(after.result["diff"].contains("ids")) << after.result.dump();

  // Loading the edited file is a new change: one sid out, one in, the old copy kept for history.
  auto again = call({"ids", "load", dir_ + "/local.rules"});
  ASSERT_TRUE(again.ok) << again.error.error.toString();
  auto d2 = call({"policy", "diff"});
  EXPECT_EQ(d2.result["diff"]["ids"]["sids_added"], (json{"9100009"}));
  EXPECT_EQ(d2.result["diff"]["ids"]["sids_removed"], (json{"9100001", "9100002"}));
  EXPECT_EQ(d2.result["diff"]["ids"]["files_removed"][0]["path"], stored);
  EXPECT_EQ(readAll(stored), kRules);
}

TEST_F(IdsRulesTest, ABadFileLeavesTheCandidateUnchanged) {
  const std::string before = candidate();
  writeFile(dir_ + "/bad.rules",
            "# nothing here loads\n"
            "alert tcp any any -> any any (msg:\"a\"; content:\"x\"; stream_size:server,>,5; sid:1;)\n"
            "alert tcp any any -> any any (msg:\"b\"; nosuchkeyword; sid:2;)\n");
  auto r = call({"ids", "load", dir_ + "/local.rules", dir_ + "/bad.rules"});
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.code, ErrorCode::Invalid);
  EXPECT_EQ(r.error.error.file, dir_ + "/bad.rules");
  EXPECT_EQ(r.error.error.line, 2);
  EXPECT_NE(r.error.error.message.find("stream_size"), std::string::npos) << r.error.error.message;
  EXPECT_EQ(candidate(), before);

  writeFile(dir_ + "/empty.rules", "\n# only a comment\n");
  auto e = call({"ids", "load", dir_ + "/empty.rules"});
  ASSERT_FALSE(e.ok);
  EXPECT_EQ(e.error.code, ErrorCode::Invalid);
  EXPECT_EQ(candidate(), before);

  // The same sid in two files is a rejection of the second, not a silent override.
  writeFile(dir_ + "/dup.rules",
            "alert udp any any -> any any (msg:\"dup\"; content:\"y\"; sid:9100001;)\n");
  auto dup = call({"ids", "load", dir_ + "/local.rules", dir_ + "/dup.rules"});
  ASSERT_FALSE(dup.ok);
  EXPECT_EQ(dup.error.error.file, dir_ + "/dup.rules");
  EXPECT_EQ(candidate(), before);

  // A file lbgctl cannot read never reaches the daemon (usage error, exit 2).
  EXPECT_THROW(cli::parseCommand({"ids", "load", dir_ + "/missing.rules"}), UsageError);
  // Staging is the admin's; the approver judges.
  auto refused = call({"ids", "load", dir_ + "/local.rules"}, kApprover);
  ASSERT_FALSE(refused.ok);
  EXPECT_EQ(refused.error.code, ErrorCode::Forbidden);
  EXPECT_EQ(candidate(), before);
}

TEST_F(IdsRulesTest, ALoadKeepsModeAndOnFaultAndReplacesTheList) {
  const std::string plain = dir_ + "/plain.rules";
  writeFile(plain, "alert udp any any -> any any (msg:\"plain\"; content:\"p\"; sid:9200001;)\n");
  std::string policy = kPolicy;
  policy += "ids:\n  rules: [plain.rules]\n  mode: ids\n  on_fault: pass\n";
  writeFile(dir_ + "/with-ids.yaml", policy);
  ASSERT_TRUE(call({"policy", "load", dir_ + "/with-ids.yaml"}).ok);
  // A plain path still works: resolved against the policy file, diffed by its content.
  auto d = call({"policy", "diff"});
  ASSERT_TRUE(d.ok) << d.error.error.toString();
  EXPECT_EQ(d.result["diff"]["ids"]["files_added"][0]["path"], plain);
  EXPECT_EQ(d.result["diff"]["ids"]["sids_added"], (json{"9200001"}));

  ASSERT_TRUE(call({"ids", "load", dir_ + "/local.rules"}).ok);
  const policy::PolicyDoc doc = candidateDoc();
  ASSERT_TRUE(doc.ids.has_value());
  EXPECT_EQ(doc.ids->mode, policy::IdsMode::Ids);
  EXPECT_EQ(doc.ids->onFault, policy::IdsFault::Pass);
  ASSERT_EQ(doc.ids->rules.size(), 1u);
  EXPECT_NE(doc.ids->rules[0].find("/store/rules/"), std::string::npos);
}

TEST_F(IdsRulesTest, AnEditedStoredCopyIsReportedAndNotEnforced) {
  ASSERT_TRUE(call({"ids", "load", dir_ + "/local.rules"}).ok);
  ASSERT_TRUE(call({"policy", "commit", "-m", "ids"}).ok);
  const uint64_t running = api_.current()->version();
  const std::string stored = dir_ + "/store/rules/" + sha256Hex(kRules) + "-local.rules";
  ::chmod(stored.c_str(), 0640);
  writeFile(stored, std::string(kRules) + "alert udp any any -> any any (msg:\"x\"; sid:1;)\n");
  // The store reports it when it is read again, and the version naming it does not go live.
  open();
  auto h = call({"policy", "history"});
  bool reported = false;
  for (const auto& p : h.result["problems"])
    reported |= p.get<std::string>().find("does not match the hash") != std::string::npos;
  EXPECT_TRUE(reported) << h.result.dump();
  auto doc = policy::parsePolicyText(
      call({"policy", "show", std::to_string(running)}).result["yaml"].get<std::string>(), "v",
      std::chrono::sys_days{});
  ASSERT_TRUE(doc.ok());
  auto v = verifyStoredRules(*doc, dir_ + "/store/rules");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().file, stored);
  auto rb = call({"policy", "rollback", std::to_string(running), "-m", "again"});
  EXPECT_FALSE(rb.ok) << rb.result.dump();
}

// A backup carries the stored rule files: restored where they are missing, the versions that
// name them validate and run again.
TEST_F(IdsRulesTest, ABackupBringsBackTheStoredRules) {
  ASSERT_TRUE(call({"ids", "load", dir_ + "/local.rules"}).ok);
  ASSERT_TRUE(call({"policy", "commit", "-m", "ids"}).ok);
  const uint64_t running = api_.current()->version();
  auto b = call({"backup", dir_ + "/backup.json", "--force"});
  ASSERT_TRUE(b.ok) << b.error.error.toString();
  writeFile(dir_ + "/backup.json", b.result["content"].get<std::string>());
  const std::string stored = dir_ + "/store/rules/" + sha256Hex(kRules) + "-local.rules";
  fs::remove(stored);
  auto r = call({"restore", dir_ + "/backup.json"});
  ASSERT_TRUE(r.ok) << r.error.error.toString();
  EXPECT_EQ(r.result["version"], running);
  EXPECT_EQ(readAll(stored), kRules);
}

TEST_F(IdsRulesTest, IdsTestCountsAlertsPerRuleAndFlow) {
  const std::string pcap = dir_ + "/capture.pcap";
  auto none = call({"ids", "test", "--pcap", pcap}, kApprover);
  ASSERT_TRUE(none.ok) << none.error.error.toString();
  EXPECT_EQ(none.result["enabled"], false);  // the running policy has no ids: block
  EXPECT_TRUE(api_.alertReplays.empty());

  const std::string a =
      R"({"event_type":"alert","proto":"UDP","src_ip":"10.1.0.10","src_port":5353,)"
      R"("dest_ip":"192.0.2.53","dest_port":53,"alert":{"action":"allowed","gid":1,)"
      R"("signature_id":9100001,"rev":1,"signature":"LBG TEST dns partner"}})";
  const std::string b =
      R"({"event_type":"alert","proto":"TCP","src_ip":"10.1.0.10","src_port":40000,)"
      R"("dest_ip":"203.0.113.9","dest_port":80,"alert":{"action":"blocked","gid":1,)"
      R"("signature_id":9100002,"rev":2,"signature":"LBG TEST evil"}})";
  api_.alertLines = {b, a, a};
  ASSERT_TRUE(call({"ids", "load", dir_ + "/local.rules"}).ok);
  auto cand = call({"ids", "test", "--pcap", pcap, "--candidate"}, kApprover);
  ASSERT_TRUE(cand.ok) << cand.error.error.toString();
  // The candidate's snapshot, numbered as the version it would become, not the running one.
  EXPECT_EQ(api_.alertReplays.back(), api_.current()->version() + 1);
  EXPECT_EQ(cand.result["policy"], "candidate");
  EXPECT_EQ(cand.result["enabled"], true);
  EXPECT_EQ(cand.result["alerts"], 3);
  ASSERT_EQ(cand.result["rows"].size(), 2u);
  const json& top = cand.result["rows"][0];
  EXPECT_EQ(top["sid"], 9100001);
  EXPECT_EQ(top["rev"], 1);
  EXPECT_EQ(top["count"], 2);
  EXPECT_EQ(top["action"], "allowed");
  EXPECT_EQ(top["flow"], "UDP 10.1.0.10:5353 -> 192.0.2.53:53");
  EXPECT_EQ(cand.result["rows"][1]["action"], "blocked");

  ASSERT_TRUE(call({"policy", "commit", "-m", "ids"}).ok);
  auto run = call({"ids", "test", "--pcap", pcap}, kAdmin);
  ASSERT_TRUE(run.ok) << run.error.error.toString();
  EXPECT_EQ(run.result["policy_version"], api_.current()->version());
  EXPECT_EQ(api_.alertReplays.back(), api_.current()->version());
}

TEST(IdsRulesFileName, IsAPlainName) {
  EXPECT_EQ(rulesFileName("/etc/lbg/rules/et-open.rules"), "et-open.rules");
  EXPECT_EQ(rulesFileName("../x/.hidden"), "rules.hidden");
  EXPECT_EQ(rulesFileName("a b;c.rules"), "a_b_c.rules");
  EXPECT_EQ(rulesFileName(std::string(300, 'a')).size(), 100u);
}

}  // namespace
}  // namespace lbg::control
