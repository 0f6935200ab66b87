// The command table is the one list of commands: every row is reachable from lbgctl's command
// line (parsed into a request by the row's builder) and dispatched to its handler by the daemon,
// and the roles of the row are what the dispatcher enforces.

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "control/api.h"
#include "control/dispatcher.h"
#include "control/fake_control_api.h"
#include "control/lbgctl_parse.h"

namespace lbg::control {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPolicy = R"(version: 1
segment:
  inside: [10.0.0.0/8]
defaults:
  deny: reset
services:
  - name: microsoft365
    kind: cloud
    ismap: {id: C21-0008-2, expires: 2027-03-31}
    fqdn: [outlook.office365.com]
    ports: [tcp/443]
)";

// The uid that holds each role in the roles file below.
constexpr std::array<std::pair<Role, uint32_t>, 4> kUids = {
    std::pair{Role::Admin, 60101u}, std::pair{Role::Approver, 60102u},
    std::pair{Role::Operator, 60103u}, std::pair{Role::Auditor, 60104u}};

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::trunc);
  f << text;
}

class CommandTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lbg-command-table-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    writeFile(dir_ + "/roles.yaml",
              "users:\n  \"60101\": admin\n  \"60102\": approver\n  \"60103\": operator\n"
              "  \"60104\": auditor\n");
    writeFile(dir_ + "/policy.yaml", kPolicy);
    writeFile(dir_ + "/input.txt", "not a catalogue\n");
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
  void TearDown() override { fs::remove_all(dir_); }

  // Command words for each row, as an administrator would type them. A row without an example
  // fails the test: a new command must be shown reachable here.
  std::vector<std::string> example(std::string_view name) const {
    const std::string in = dir_ + "/input.txt";
    const std::map<std::string_view, std::vector<std::string>> examples = {
        {"whoami", {"whoami"}},
        {"service.list", {"service", "list", "--running"}},
        {"service.show", {"service", "show", "microsoft365"}},
        {"service.add",
         {"service", "add", "x", "--kind", "lgwan-asp", "--cidr", "10.20.0.0/16", "--port",
          "tcp/443", "--intercept"}},
        {"service.edit", {"service", "edit", "x", "--add-fqdn", "a.example.jp"}},
        {"service.remove", {"service", "remove", "x"}},
        {"service.import-m365",
         {"service", "import-m365", in, "--areas", "Exchange", "--ismap-id", "C21-0008-2",
          "--ismap-expires", "2027-03-31"}},
        {"service.import-asp", {"service", "import-asp", in}},
        {"service.expiring", {"service", "expiring", "--days", "3"}},
        {"policy.candidate", {"policy", "candidate"}},
        {"policy.load", {"policy", "load", dir_ + "/policy.yaml"}},
        {"policy.discard", {"policy", "discard"}},
        {"policy.diff", {"policy", "diff"}},
        {"policy.validate", {"policy", "validate"}},
        {"policy.test", {"policy", "test", "--pcap", in}},
        {"policy.commit", {"policy", "commit", "-m", "change"}},
        {"policy.approve", {"policy", "approve", "7"}},
        {"policy.reject", {"policy", "reject", "7", "--reason", "no"}},
        {"policy.history", {"policy", "history"}},
        {"policy.show", {"policy", "show", "1"}},
        {"policy.rollback", {"policy", "rollback", "1", "-m", "back"}},
        {"status", {"status"}},
        {"stats", {"stats"}},
        {"ids", {"ids"}},
        {"ids.stats", {"ids", "stats", "--limit", "5"}},
        {"ids.load", {"ids", "load", in}},
        {"ids.test", {"ids", "test", "--pcap", in, "--candidate"}},
        {"certs", {"certs", "--name", "login.example.jp", "--limit", "5"}},
        {"certs.flush", {"certs", "flush", "0a1b2c3d"}},
        {"flows", {"flows", "--limit", "5", "--filter", "policy.service=microsoft365"}},
        {"reload", {"reload"}},
        {"backup", {"backup", dir_ + "/backup.json", "--force"}},
        {"restore", {"restore", in}},
        {"ca.init", {"ca", "init", "--organization", "Example City", "--days", "30"}},
        {"ca.show", {"ca", "show", "--pem"}},
        {"ca.rotate", {"ca", "rotate", "--days", "30"}},
        {"ha.status", {"ha", "status"}},
        {"ha.active", {"ha", "active"}},
        {"ha.standby", {"ha", "standby"}},
        {"ha.health", {"ha", "health"}},
    };
    auto it = examples.find(name);
    return it == examples.end() ? std::vector<std::string>{} : it->second;
  }

  std::string dir_;
  testing::FakeControlApi api_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(CommandTableTest, RowsAreCompleteAndNamesUnique) {
  std::set<std::string_view> names;
  std::map<std::string_view, OptionType> optionTypes;
  for (const auto& c : commandTable()) {
    EXPECT_TRUE(names.insert(c.name).second) << c.name;
    EXPECT_NE(c.build, nullptr) << c.name;
    EXPECT_NE(c.handler, nullptr) << c.name;
    EXPECT_NE(c.roles, 0) << c.name;
    EXPECT_FALSE(c.summary.empty()) << c.name;
    EXPECT_EQ(findCommand(c.name), &c);
    // lbgctl registers each option once for all commands: one name, one type.
    for (const auto& o : c.options) {
      auto [it, fresh] = optionTypes.emplace(o.name, o.type);
      EXPECT_TRUE(fresh || it->second == o.type) << o.name;
    }
  }
}

TEST_F(CommandTableTest, EveryCommandIsParsedByLbgctlAndDispatchedWithItsRoles) {
  for (const auto& c : commandTable()) {
    SCOPED_TRACE(std::string(c.name));
    const auto words = example(c.name);
    ASSERT_FALSE(words.empty()) << "no lbgctl example for " << c.name;
    CliInvocation inv = cli::parseCommand(words);
    EXPECT_EQ(inv.request.cmd, c.name);
    std::string line = encodeRequest(inv.request);
    line.pop_back();  // the newline
    for (const auto& [role, uid] : kUids) {
      SCOPED_TRACE(toString(role));
      int fd = -1;
      if (!inv.passFile.empty()) fd = ::open(inv.passFile.c_str(), O_RDONLY | O_CLOEXEC);
      const std::string answer = dispatcher_->handle(uid, uid, line, fd);
      if (fd >= 0) ::close(fd);
      auto r = parseResponse(answer);
      ASSERT_TRUE(r.ok()) << answer;
      if (!roleMay(c, role)) {
        ASSERT_FALSE(r->ok) << answer;
        EXPECT_EQ(r->error.code, ErrorCode::Forbidden) << answer;
      } else if (!r->ok) {
        // Reached its handler: any answer but a refusal or an unknown command. The examples use
        // placeholder files and versions, so validation errors are expected here.
        EXPECT_NE(r->error.code, ErrorCode::Forbidden) << answer;
        EXPECT_NE(r->error.code, ErrorCode::UnknownCommand) << answer;
        EXPECT_NE(r->error.code, ErrorCode::Internal) << answer;
      }
    }
  }
}

// Separation of duties (control/README.md), written out independently of the table: a row whose
// roles drift from it fails here, not only in the integration matrix.
TEST_F(CommandTableTest, RolesAreTheSeparationOfDuties) {
  const std::string A = "admin", P = "approver", O = "operator", U = "auditor";
  const std::map<std::string_view, std::set<std::string>> expected = {
      {"whoami", {A, P, O, U}},
      {"service.list", {A, P, U}},
      {"service.show", {A, P, U}},
      {"service.add", {A}},
      {"service.edit", {A}},
      {"service.remove", {A}},
      {"service.import-m365", {A}},
      {"service.import-asp", {A}},
      {"service.expiring", {A, P, O, U}},
      {"policy.candidate", {A, P, U}},
      {"policy.load", {A}},
      {"policy.discard", {A}},
      {"policy.diff", {A, P, U}},
      {"policy.validate", {A, P, U}},
      {"policy.test", {A, P}},
      {"policy.commit", {A}},
      {"policy.approve", {P}},
      {"policy.reject", {P}},
      {"policy.history", {A, P, U}},
      {"policy.show", {A, P, U}},
      {"policy.rollback", {A}},
      {"status", {A, P, O, U}},
      {"stats", {A, O, U}},
      {"ids", {A, O, U}},
      {"ids.stats", {A, O, U}},
      {"ids.load", {A}},
      {"ids.test", {A, P}},
      {"certs", {A, O, U}},
      {"certs.flush", {A, O}},
      {"flows", {A, O}},
      {"reload", {A, O}},
      {"backup", {A, U}},
      {"restore", {A}},
      {"ca.init", {A}},
      {"ca.show", {A, P, O, U}},
      {"ca.rotate", {A}},
      {"ha.status", {A, P, O, U}},
      {"ha.active", {A, O}},
      {"ha.standby", {A, O}},
      {"ha.health", {A, P, O, U}},
  };
  EXPECT_EQ(expected.size(), commandTable().size());
  for (const auto& c : commandTable()) {
    auto it = expected.find(c.name);
    ASSERT_NE(it, expected.end()) << "no expected roles for " << c.name;
    std::set<std::string> roles;
    for (const auto& [role, uid] : kUids) {
      if (roleMay(c, role)) roles.insert(toString(role));
    }
    EXPECT_EQ(roles, it->second) << c.name;
  }
}

TEST_F(CommandTableTest, ForeignOptionsAndExtraArgumentsAreUsageErrors) {
  EXPECT_THROW(cli::parseCommand({"policy", "commit", "-m", "x", "--days", "3"}), UsageError);
  EXPECT_THROW(cli::parseCommand({"status", "extra"}), UsageError);
  EXPECT_THROW(cli::parseCommand({"frobnicate"}), UsageError);
  EXPECT_THROW(cli::parseCommand({"policy", "commit"}), UsageError);
}

TEST_F(CommandTableTest, UsageAndCompletionComeFromTheTable) {
  const std::string usage = cli::usageText();
  for (const auto& c : commandTable()) {
    std::string words(c.name);
    if (const auto dot = words.find('.'); dot != std::string::npos) words[dot] = ' ';
    EXPECT_NE(usage.find("  " + words), std::string::npos) << c.name;
    EXPECT_NE(usage.find(std::string(c.summary)), std::string::npos) << c.name;
  }
  const auto has = [](const std::vector<std::string>& v, const std::string& w) {
    return std::find(v.begin(), v.end(), w) != v.end();
  };
  const auto top = cli::completions({});
  EXPECT_TRUE(has(top, "service") && has(top, "policy") && has(top, "flows"));
  const auto verbs = cli::completions({"policy"});
  EXPECT_TRUE(has(verbs, "commit") && has(verbs, "rollback"));
  EXPECT_TRUE(has(cli::completions({"policy", "commit"}), "-m"));
  EXPECT_TRUE(has(cli::completions({"service", "add", "--kind"}), "lgwan-asp"));
  EXPECT_TRUE(has(cli::completions({"policy", "test", "--pcap"}), "files:@(pcap|pcapng|cap)"));
  EXPECT_TRUE(has(cli::completions({"service", "import-asp"}), "files:csv"));
}

}  // namespace
}  // namespace lbg::control

namespace lbg::control {
namespace {

// `lbgctl ids stats`: the engine's per-rule counters as the dataplane reports them, costliest
// first, bounded by --limit; without IDS, only `enabled: false`.
TEST_F(CommandTableTest, IdsStatsListsTheCostliestRules) {
  const uint32_t auditor = 60104;
  auto call = [&](const std::vector<std::string>& words) {
    CliInvocation inv = cli::parseCommand(words);
    std::string line = encodeRequest(inv.request);
    line.pop_back();
    auto r = parseResponse(dispatcher_->handle(auditor, auditor, line, -1));
    EXPECT_TRUE(r.ok());
    return *r;
  };
  auto off = call({"ids", "stats"});
  ASSERT_TRUE(off.ok) << off.error.error.toString();
  EXPECT_FALSE(off.result["enabled"].get<bool>());

  api_.ruleCosts.enabled = true;
  api_.ruleCosts.policyVersion = 3;
  api_.ruleCosts.rules = 100;
  api_.ruleCosts.rulesChecked = 2;
  api_.ruleCosts.rulesMatched = 1;
  api_.ruleCosts.total = {14, 2, 5400};
  api_.ruleCosts.top = {{1, 2001, 3, "ET TEST costly", {10, 2, 5000}},
                        {1, 2002, 1, "ET TEST cheap", {4, 0, 400}}};
  auto r = call({"ids", "stats", "--limit", "1"});
  ASSERT_TRUE(r.ok) << r.error.error.toString();
  EXPECT_EQ(r.result["policy_version"], 3);
  EXPECT_EQ(r.result["rules_checked"], 2);
  EXPECT_EQ(r.result["cycles"], 5400);
  ASSERT_EQ(r.result["rules_by_cost"].size(), 1u);
  EXPECT_EQ(r.result["rules_by_cost"][0]["sid"], 2001);
  EXPECT_EQ(r.result["rules_by_cost"][0]["matches"], 2);
  EXPECT_EQ(r.result["rules_by_cost"][0]["cycles_per_check"], 500);
  EXPECT_EQ(call({"ids", "stats"}).result["rules_by_cost"].size(), 2u);
  auto bad = call({"ids", "stats", "--limit", "0"});
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.error.code, ErrorCode::Invalid);
}

// `lbgctl certs`: the selector reaches the dataplane as given, rows come back with readable
// times; `certs flush` needs a selector, is refused to auditors, and is an admin record.
TEST_F(CommandTableTest, CertsListAndFlushTheVerdictLedger) {
  const uint32_t operatorUid = 60103, auditor = 60104;
  auto call = [&](uint32_t uid, const std::vector<std::string>& words) {
    CliInvocation inv = cli::parseCommand(words);
    std::string line = encodeRequest(inv.request);
    line.pop_back();
    auto r = parseResponse(dispatcher_->handle(uid, uid, line, -1));
    EXPECT_TRUE(r.ok());
    return *r;
  };
  dataplane::ControlApi::CertRow row;
  row.id = "0a1b2c3d4e5f6a7b";
  row.probe = true;
  row.server = "192.0.2.10";
  row.port = 443;
  row.host = "login.example.jp";
  row.issuer = "CN=Test Root";
  row.notAfter = 1893456000;  // 2030-01-01
  row.checkedAt = 1700000000;
  row.expiresAt = 1700003600;
  row.verdict = "verified";
  api_.certRows = {row};
  auto r = call(auditor, {"certs", "--name", "login.example.jp", "--address", "192.0.2.10"});
  ASSERT_TRUE(r.ok) << r.error.error.toString();
  ASSERT_EQ(r.result["certs"].size(), 1u);
  const auto& c = r.result["certs"][0];
  EXPECT_EQ(c["check"], "probe");
  EXPECT_EQ(c["verdict"], "verified");
  EXPECT_EQ(c["not_after"].get<std::string>().substr(0, 10), "2030-01-01");
  EXPECT_TRUE(c["expired"].get<bool>());  // the test clock is long after 2023
  ASSERT_EQ(api_.certSelectors.size(), 1u);
  EXPECT_EQ(api_.certSelectors[0].host, "login.example.jp");
  EXPECT_EQ(api_.certSelectors[0].server, IpAddr::parse("192.0.2.10"));

  EXPECT_EQ(call(auditor, {"certs", "--address", "not-an-ip"}).error.code, ErrorCode::Invalid);
  EXPECT_EQ(call(auditor, {"certs", "XYZ"}).error.code, ErrorCode::Invalid);
  EXPECT_EQ(call(auditor, {"certs", "flush", "--all"}).error.code, ErrorCode::Forbidden);
  EXPECT_EQ(call(operatorUid, {"certs", "flush"}).error.code, ErrorCode::Invalid);

  const size_t before = api_.events.size();
  auto f = call(operatorUid, {"certs", "flush", "0a1b2c3d"});
  ASSERT_TRUE(f.ok) << f.error.error.toString();
  EXPECT_EQ(f.result["flushed"], 1);
  EXPECT_EQ(api_.certSelectors.back().ids, std::vector<std::string>{"0a1b2c3d"});
  EXPECT_GT(api_.events.size(), before);  // the admin record of a mutating command
  api_.failFlush = true;
  EXPECT_EQ(call(operatorUid, {"certs", "flush", "--all"}).error.code, ErrorCode::Unavailable);
}

// The appliance CA through the dispatcher: files next to the store, roles enforced, every call an
// admin event (the CA's own checks: control/appliance_ca_test.cc).
TEST_F(CommandTableTest, CaCommandsWriteNextToTheStoreAndAreLogged) {
  const uint32_t admin = 60101, operatorUid = 60103, auditor = 60104;
  auto call = [&](uint32_t uid, const std::vector<std::string>& words) {
    CliInvocation inv = cli::parseCommand(words);
    std::string line = encodeRequest(inv.request);
    line.pop_back();
    auto r = parseResponse(dispatcher_->handle(uid, uid, line, -1));
    EXPECT_TRUE(r.ok());
    return *r;
  };
  auto refused = call(operatorUid, {"ca", "init"});
  ASSERT_FALSE(refused.ok);
  EXPECT_EQ(refused.error.code, ErrorCode::Forbidden);
  EXPECT_FALSE(fs::exists(dir_ + "/ca"));

  auto made = call(admin, {"ca", "init", "--organization", "Example City", "--days", "90"});
  ASSERT_TRUE(made.ok) << made.error.error.toString();
  EXPECT_EQ(made.result["certificate"]["path"], dir_ + "/ca/ca.pem");
  EXPECT_EQ(made.result["certificate"]["subject"], "CN=Example City lbg appliance CA,O=Example City");
  EXPECT_TRUE(fs::exists(dir_ + "/ca/ca.key"));
  const std::string fingerprint = made.result["certificate"]["sha256"];

  auto again = call(admin, {"ca", "init"});
  ASSERT_FALSE(again.ok);
  EXPECT_EQ(again.error.code, ErrorCode::Conflict);

  auto shown = call(auditor, {"ca", "show"});
  ASSERT_TRUE(shown.ok) << shown.error.error.toString();
  EXPECT_EQ(shown.result["certificate"]["sha256"], fingerprint);
  EXPECT_TRUE(shown.result["key"]["matches_certificate"].get<bool>());
  EXPECT_TRUE(shown.result["previous"].is_null());

  EXPECT_EQ(call(auditor, {"ca", "rotate"}).error.code, ErrorCode::Forbidden);
  auto rotated = call(admin, {"ca", "rotate"});
  ASSERT_TRUE(rotated.ok) << rotated.error.error.toString();
  EXPECT_NE(rotated.result["certificate"]["sha256"], fingerprint);
  EXPECT_EQ(rotated.result["previous"]["sha256"], fingerprint);
  EXPECT_TRUE(fs::exists(dir_ + "/ca/ca.prev.pem"));
  ASSERT_FALSE(api_.events.empty());
  const auto ev = nlohmann::json::parse(api_.events.back());
  EXPECT_EQ(ev["event_type"], "admin");
  EXPECT_EQ(ev["admin"]["action"], "ca.rotate");
  EXPECT_EQ(ev["admin"]["result"], "ok");
}

}  // namespace
}  // namespace lbg::control

namespace lbg::control {
namespace {

// The HA role through the dispatcher (control/handlers/ha.cc): switched by admin and operator,
// each change one `ha.role` record; the health probe answers without an admin record per poll,
// and a change of health is recorded once.
TEST_F(CommandTableTest, HaRoleChangesAreRecordedAndHealthIsAProbe) {
  const uint32_t admin = 60101, operatorUid = 60103, auditor = 60104;
  auto call = [&](uint32_t uid, const std::vector<std::string>& words) {
    CliInvocation inv = cli::parseCommand(words);
    std::string line = encodeRequest(inv.request);
    line.pop_back();
    auto r = parseResponse(dispatcher_->handle(uid, uid, line, -1));
    EXPECT_TRUE(r.ok());
    return *r;
  };
  const auto records = [&](std::string_view action) {
    std::vector<json> out;
    for (const auto& e : api_.events) {
      json j = json::parse(e);
      if (j.contains("admin") && j["admin"]["action"] == action) out.push_back(j);
    }
    return out;
  };
  api_.role = dataplane::HaRole::Standby;
  api_.haPair = true;
  auto st = call(auditor, {"ha", "status"});
  ASSERT_TRUE(st.ok);
  EXPECT_EQ(st.result["role"], "standby");
  EXPECT_EQ(st.result["pair"], true);
  EXPECT_EQ(st.result["healthy"], true);
  EXPECT_TRUE(st.result["sync"].is_null());  // no ha.sync: nothing kept on takeover
  api_.sync = {"192.168.9.1:7400", "192.168.9.2:7400"};
  st = call(auditor, {"ha", "status"});
  ASSERT_TRUE(st.ok);
  EXPECT_EQ(st.result["sync"]["peer"], "192.168.9.2:7400");
  EXPECT_EQ(st.result["sync"]["local"], "192.168.9.1:7400");
  EXPECT_TRUE(st.result["sync"]["counters"].is_object());
  auto refused = call(auditor, {"ha", "active"});
  ASSERT_FALSE(refused.ok);
  EXPECT_EQ(refused.error.code, ErrorCode::Forbidden);
  EXPECT_EQ(api_.role, dataplane::HaRole::Standby);
  EXPECT_TRUE(records("ha.role").empty());

  auto act = call(operatorUid, {"ha", "active"});
  ASSERT_TRUE(act.ok);
  EXPECT_EQ(api_.role, dataplane::HaRole::Active);
  EXPECT_EQ(act.result["previous"], "standby");
  auto roleRecords = records("ha.role");
  ASSERT_EQ(roleRecords.size(), 1u);
  EXPECT_EQ(roleRecords[0]["ha"]["role"], "active");
  EXPECT_EQ(roleRecords[0]["ha"]["previous"], "standby");
  EXPECT_EQ(roleRecords[0]["admin"]["result"], "ok");
  call(admin, {"ha", "active"});  // no change, no second record
  EXPECT_EQ(records("ha.role").size(), 1u);

  // A worker that does not acknowledge: an error, the role set all the same, recorded as failed.
  api_.failRoleAck = true;
  auto stuck = call(admin, {"ha", "standby"});
  ASSERT_FALSE(stuck.ok);
  EXPECT_EQ(stuck.error.code, ErrorCode::Unavailable);
  EXPECT_EQ(api_.role, dataplane::HaRole::Standby);
  ASSERT_EQ(records("ha.role").size(), 2u);
  EXPECT_EQ(records("ha.role")[1]["admin"]["result"], "failed");
  api_.failRoleAck = false;

  const size_t before = api_.events.size();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(call(admin, {"ha", "health"}).result["healthy"], true);
  EXPECT_EQ(api_.events.size(), before) << "healthy polls leave no record";
  api_.problems = {"inside port link is down"};
  for (int i = 0; i < 3; ++i) {
    auto h = call(admin, {"ha", "health"});
    ASSERT_TRUE(h.ok);
    EXPECT_EQ(h.result["healthy"], false);
    EXPECT_EQ(h.result["problems"][0], "inside port link is down");
  }
  api_.problems.clear();
  EXPECT_EQ(call(admin, {"ha", "health"}).result["healthy"], true);
  const auto health = records("ha.health");
  ASSERT_EQ(health.size(), 2u) << "one record per change of health, not per poll";
  EXPECT_EQ(health[0]["admin"]["result"], "failed");
  EXPECT_EQ(health[1]["admin"]["result"], "ok");
  // A refused probe is still an admin record.
  auto noRole = parseResponse(dispatcher_->handle(60999, 60999, R"({"v":1,"cmd":"ha.health","args":{}})", -1));
  ASSERT_TRUE(noRole.ok());
  EXPECT_FALSE(noRole->ok);
  EXPECT_EQ(records("ha.health").size(), 3u);
}

}  // namespace
}  // namespace lbg::control
