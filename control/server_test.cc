#include "control/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "control/client.h"
#include "control/fake_control_api.h"

namespace lbg::control {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr uint32_t kRoot = 0;  // admin in these tests
constexpr uint32_t kAdmin2 = 60004;
constexpr uint32_t kApprover = 60001;
constexpr uint32_t kOperator = 60002;
constexpr uint32_t kAuditor = 60003;
constexpr uint32_t kNobody = 60009;

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

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::trunc);
  f << text;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lbg-server-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::permissions(dir_, fs::perms::all);  // other test uids must reach the socket
    writeFile(dir_ + "/roles.yaml",
              "users:\n  \"0\": admin\n  \"60004\": admin\n  \"60001\": approver\n"
              "  \"60002\": operator\n  \"60003\": auditor\n");
    writeFile(dir_ + "/bootstrap.yaml", kPolicy);
    config_.socketPath = dir_ + "/control.sock";
    config_.rolesFile = dir_ + "/roles.yaml";
    config_.storeDir = dir_ + "/store";
    config_.bootstrapPolicyFile = dir_ + "/bootstrap.yaml";
    config_.socketMode = 0666;
    config_.clock = [this] { return now_; };
    now_ = std::chrono::sys_days(std::chrono::year(2026) / 11 / 23) + std::chrono::hours(3);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  void start() {
    auto s = ControlServer::create(config_, api_);
    ASSERT_TRUE(s.ok()) << s.error().toString();
    server_ = std::move(*s);
  }

  // Runs `body` in a child process with the given uid and polls the server until the child has
  // answered through a pipe. Fork keeps the uid switch out of the test process.
  std::string inChild(uint32_t uid, const std::function<std::string()>& body) {
    int p[2];
    EXPECT_EQ(pipe(p), 0);
    const pid_t pid = fork();
    if (pid == 0) {
      close(p[0]);
      if (uid != 0 && (setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0)) _exit(3);
      const std::string out = body();
      size_t done = 0;
      while (done < out.size()) {
        const ssize_t n = write(p[1], out.data() + done, out.size() - done);
        if (n <= 0) _exit(4);
        done += static_cast<size_t>(n);
      }
      _exit(0);
    }
    close(p[1]);
    std::string out;
    for (;;) {
      server_->poll(5);
      pollfd pf{p[0], POLLIN, 0};
      if (::poll(&pf, 1, 0) > 0) {
        char buf[65536];
        const ssize_t n = read(p[0], buf, sizeof(buf));
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
      }
    }
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child failed";
    return out;
  }

  Response call(uint32_t uid, const std::string& cmd, json args = json::object(),
                const std::string& passPath = "") {
    const std::string path = config_.socketPath;
    const std::string out = inChild(uid, [&]() -> std::string {
      auto c = Client::connect(path);
      if (!c) return "CONNECT " + c.error().toString();
      int fd = -1;
      if (!passPath.empty()) fd = ::open(passPath.c_str(), O_RDONLY | O_CLOEXEC);
      auto r = c->call(Request{1, cmd, args}, fd);
      if (!r) return "CALL " + r.error().toString();
      return r->ok ? encodeOk(r->result) : encodeError(r->error);
    });
    auto r = parseResponse(out.empty() ? out : out.substr(0, out.size() - 1));
    EXPECT_TRUE(r.ok()) << out;
    return r.ok() ? *r : Response{};
  }

  // Raw bytes in, raw answer out (for malformed input).
  std::string raw(uint32_t uid, const std::string& bytes) {
    const std::string path = config_.socketPath;
    return inChild(uid, [&]() -> std::string {
      const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un a{};
      a.sun_family = AF_UNIX;
      std::strcpy(a.sun_path, path.c_str());
      if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return "connect failed";
      size_t done = 0;
      while (done < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n <= 0) break;  // the server may close early on oversized input
        done += static_cast<size_t>(n);
      }
      ::shutdown(fd, SHUT_WR);
      std::string out;
      char buf[4096];
      ssize_t n;
      while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) out.append(buf, static_cast<size_t>(n));
      ::close(fd);
      return out;
    });
  }

  std::vector<json> adminEvents() const {
    std::vector<json> out;
    for (const auto& e : api_.events) {
      json j = json::parse(e);
      if (j["event_type"] == "admin") out.push_back(j);
    }
    return out;
  }

  std::string dir_;
  ServerConfig config_;
  testing::FakeControlApi api_;
  std::unique_ptr<ControlServer> server_;
  std::chrono::system_clock::time_point now_;
};

TEST_F(ServerTest, BootstrapPublishesVersionOne) {
  start();
  ASSERT_EQ(api_.published, (std::vector<uint64_t>{1}));
  auto r = call(kRoot, "status");
  ASSERT_TRUE(r.ok) << r.error.error.message;
  EXPECT_EQ(r.result["running_version"], 1);
  EXPECT_EQ(r.result["dataplane_version"], 1);
  EXPECT_EQ(r.result["in_sync"], true);
  EXPECT_EQ(r.result["user"], "root");
  EXPECT_EQ(r.result["role"], "admin");
}

TEST_F(ServerTest, EditDiffCommitPublishes) {
  start();
  auto add = call(kRoot, "service.add",
                  {{"name", "jlis"},
                   {"kind", "lgwan-asp"},
                   {"cidr", {"10.20.0.0/16"}},
                   {"ports", {"tcp/443"}}});
  ASSERT_TRUE(add.ok) << add.error.error.toString();
  EXPECT_EQ(api_.published.size(), 1u) << "editing the candidate must not touch the dataplane";
  auto diff = call(kRoot, "policy.diff");
  ASSERT_TRUE(diff.ok);
  EXPECT_NE(diff.result["text"].get<std::string>().find("+ service jlis"), std::string::npos);
  auto commit = call(kRoot, "policy.commit", {{"message", "add J-LIS"}});
  ASSERT_TRUE(commit.ok) << commit.error.error.toString();
  EXPECT_EQ(commit.result["version"], 2);
  EXPECT_EQ(commit.result["state"], "active");
  EXPECT_EQ(api_.published, (std::vector<uint64_t>{1, 2}));
  ASSERT_EQ(api_.current()->serviceCount(), 2u);
  auto again = call(kRoot, "policy.commit", {{"message", "again"}});
  ASSERT_FALSE(again.ok);
  EXPECT_EQ(again.error.code, ErrorCode::Conflict);
  auto hist = call(kAuditor, "policy.history");
  ASSERT_TRUE(hist.ok);
  ASSERT_EQ(hist.result["versions"].size(), 2u);
  EXPECT_EQ(hist.result["versions"][1]["author"], "root");
  EXPECT_EQ(hist.result["versions"][1]["message"], "add J-LIS");
  EXPECT_EQ(hist.result["running"], 2);
}

TEST_F(ServerTest, InvalidEditIsRefusedWithPositionAndNothingChanges) {
  start();
  auto bad = call(
      kRoot, "service.add",
      {{"name", "x"}, {"kind", "lgwan-asp"}, {"cidr", {"10.20.0.1/16"}}, {"ports", {"tcp/443"}}});
  ASSERT_FALSE(bad.ok);
  EXPECT_EQ(bad.error.code, ErrorCode::Invalid);
  EXPECT_GT(bad.error.error.line, 0);
  EXPECT_NE(bad.error.error.message.find("services[1]"), std::string::npos)
      << bad.error.error.message;
  auto cand = call(kRoot, "policy.candidate");
  EXPECT_EQ(cand.result["saved"], false);
  auto load =
      call(kRoot, "policy.load", {{"content", "version: 1\nbogus: 2\n"}, {"file", "new.yaml"}});
  ASSERT_FALSE(load.ok);
  EXPECT_EQ(load.error.error.file, "new.yaml");
  EXPECT_EQ(load.error.error.line, 2);
  EXPECT_EQ(api_.published.size(), 1u);
}

TEST_F(ServerTest, ApprovalByADifferentApprover) {
  std::string p = kPolicy;
  p.replace(p.find("segment:"), 0, "approval: required\n");
  writeFile(config_.bootstrapPolicyFile, p);
  start();
  ASSERT_TRUE(call(kRoot, "service.remove", {{"name", "microsoft365"}}).ok);
  auto commit = call(kRoot, "policy.commit", {{"message", "drop m365"}});
  ASSERT_TRUE(commit.ok) << commit.error.error.toString();
  EXPECT_EQ(commit.result["state"], "pending");
  EXPECT_EQ(api_.published.size(), 1u) << "pending must not be published";

  auto byAdmin = call(kRoot, "policy.approve", {{"version", 2}});
  EXPECT_EQ(byAdmin.error.code, ErrorCode::Forbidden);
  auto byOtherAdmin = call(kAdmin2, "policy.approve", {{"version", 2}});
  EXPECT_EQ(byOtherAdmin.error.code, ErrorCode::Forbidden);
  auto second = call(kAdmin2, "policy.load", {{"content", kPolicy}});
  ASSERT_TRUE(second.ok);
  auto blocked = call(kAdmin2, "policy.commit", {{"message", "x"}});
  EXPECT_EQ(blocked.error.code, ErrorCode::Conflict) << "one pending commit at a time";

  auto ok = call(kApprover, "policy.approve", {{"version", 2}});
  ASSERT_TRUE(ok.ok) << ok.error.error.toString();
  EXPECT_EQ(ok.result["approver"], "uid 60001");
  EXPECT_EQ(api_.published, (std::vector<uint64_t>{1, 2}));
  auto show = call(kAuditor, "policy.show", {{"version", 2}});
  EXPECT_EQ(show.result["meta"]["approver"], "uid 60001");
  EXPECT_EQ(show.result["meta"]["author"], "root");
  EXPECT_EQ(call(kApprover, "policy.approve", {{"version", 2}}).error.code, ErrorCode::Conflict);
}

TEST_F(ServerTest, ApprovalCannotBeDroppedByTheCommitItself) {
  std::string p = kPolicy;
  p.replace(p.find("segment:"), 0, "approval: required\n");
  writeFile(config_.bootstrapPolicyFile, p);
  start();
  // The candidate switches approval off; the running policy still demands it for this commit.
  ASSERT_TRUE(call(kRoot, "policy.load", {{"content", kPolicy}}).ok);
  auto commit = call(kRoot, "policy.commit", {{"message", "no more approval"}});
  ASSERT_TRUE(commit.ok);
  EXPECT_EQ(commit.result["state"], "pending");
  auto reject = call(kApprover, "policy.reject", {{"version", 2}, {"reason", "not agreed"}});
  ASSERT_TRUE(reject.ok);
  EXPECT_EQ(reject.result["state"], "rejected");
  EXPECT_EQ(api_.published.size(), 1u);
}

TEST_F(ServerTest, RolesAreEnforcedAndEveryRequestIsLogged) {
  start();
  const size_t before = adminEvents().size();
  auto r = call(kOperator, "policy.commit", {{"message", "x"}});
  EXPECT_EQ(r.error.code, ErrorCode::Forbidden);
  EXPECT_EQ(r.error.error.message, "role operator may not run policy.commit");
  EXPECT_EQ(call(kAuditor, "service.add", {{"name", "x"}}).error.code, ErrorCode::Forbidden);
  EXPECT_EQ(call(kOperator, "policy.history").error.code, ErrorCode::Forbidden);
  EXPECT_TRUE(call(kOperator, "stats").ok);
  auto nobody = call(kNobody, "status");
  EXPECT_EQ(nobody.error.code, ErrorCode::Forbidden);
  EXPECT_EQ(nobody.error.error.message, "no role for uid 60009");
  auto events = adminEvents();
  ASSERT_EQ(events.size(), before + 5);
  const json& e = events[before]["admin"];
  EXPECT_EQ(e["uid"], kOperator);
  EXPECT_EQ(e["role"], "operator");
  EXPECT_EQ(e["action"], "policy.commit");
  EXPECT_EQ(e["args"]["message"], "x");
  EXPECT_EQ(e["result"], "refused");
  EXPECT_EQ(events[before + 3]["admin"]["result"], "ok");
  EXPECT_TRUE(events[before + 4]["admin"]["role"].is_null());
  EXPECT_TRUE(events[before]["timestamp"].is_string());
}

TEST_F(ServerTest, MalformedUnknownAndOversizedRequests) {
  config_.maxRequestBytes = 4096;
  start();
  // One answer line per request, then the connection stays usable.
  std::string two = raw(kRoot, "{\"v\":1,\"cmd\":\"nope\"}\n{\"v\":1,\"cmd\":\"whoami\"}\n");
  const auto nl = two.find('\n');
  ASSERT_NE(nl, std::string::npos);
  auto unknown = parseResponse(two.substr(0, nl));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->error.code, ErrorCode::UnknownCommand);
  auto who = parseResponse(two.substr(nl + 1, two.size() - nl - 2));
  ASSERT_TRUE(who.ok());
  EXPECT_TRUE(who->ok);
  EXPECT_EQ(who->result["role"], "admin");

  std::string bad = raw(kRoot, "{not json\n");
  auto b = parseResponse(bad.substr(0, bad.size() - 1));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->error.code, ErrorCode::Invalid);
  EXPECT_EQ(b->error.error.column, 3) << "where the literal stopped making sense: '{no'";

  std::string big = raw(kRoot, std::string(20000, 'x'));
  auto t = parseResponse(big.substr(0, big.find('\n')));
  ASSERT_TRUE(t.ok()) << big.substr(0, 100);
  EXPECT_EQ(t->error.code, ErrorCode::TooLarge);
  std::string bigLine = raw(
      kRoot, "{\"v\":1,\"cmd\":\"status\",\"args\":{\"x\":\"" + std::string(5000, 'y') + "\"}}\n");
  EXPECT_NE(bigLine.find("too-large"), std::string::npos);
  EXPECT_EQ(api_.published.size(), 1u);
  // The refusals are in the log too.
  size_t tooLarge = 0;
  for (const auto& e : adminEvents()) {
    tooLarge += e["admin"].contains("error") && e["admin"]["error"]["code"] == "too-large";
  }
  EXPECT_EQ(tooLarge, 2u);
}

TEST_F(ServerTest, PolicyTestReplaysThroughBothPoliciesViaPassedFd) {
  start();
  writeFile(dir_ + "/capture.txt",
            "10.0.0.5 50000 52.96.1.1 443 outlook.office365.com\n"
            "10.0.0.5 50001 52.97.1.1 443 contoso.sharepoint.com\n"
            "10.0.0.5 50002 10.20.3.4 443\n");
  ASSERT_TRUE(
      call(kRoot, "service.edit", {{"name", "microsoft365"}, {"add_fqdn", {"*.sharepoint.com"}}})
          .ok);
  ASSERT_TRUE(call(kRoot, "service.add",
                   {{"name", "jlis"},
                    {"kind", "lgwan-asp"},
                    {"cidr", {"10.20.0.0/16"}},
                    {"ports", {"tcp/443"}}})
                  .ok);
  // The capture is readable only by root; the daemon still reads it because the client passes
  // the open descriptor, and refuses when none is passed.
  fs::permissions(dir_ + "/capture.txt", fs::perms::owner_read | fs::perms::owner_write);
  auto r = call(kRoot, "policy.test", json::object(), dir_ + "/capture.txt");
  ASSERT_TRUE(r.ok) << r.error.error.toString();
  EXPECT_EQ(r.result["flows"], 3);
  ASSERT_EQ(r.result["changed"].size(), 2u);
  EXPECT_EQ(r.result["changed"][0]["flow"], "TCP 10.0.0.5:50001 -> 52.97.1.1:443");
  EXPECT_EQ(r.result["changed"][0]["running"]["action"], "deny");
  EXPECT_EQ(r.result["changed"][0]["candidate"]["action"], "allow");
  EXPECT_EQ(r.result["changed"][0]["candidate"]["service"], "microsoft365");
  EXPECT_EQ(r.result["changed"][1]["candidate"]["service"], "jlis");
  EXPECT_EQ(call(kRoot, "policy.test").error.code, ErrorCode::Invalid);
}

TEST_F(ServerTest, RollbackIsANewCommitOfAnOldVersion) {
  start();
  ASSERT_TRUE(call(kRoot, "service.remove", {{"name", "microsoft365"}}).ok);
  ASSERT_TRUE(call(kRoot, "policy.commit", {{"message", "remove"}}).ok);
  EXPECT_EQ(api_.current()->serviceCount(), 0u);
  auto rb = call(kRoot, "policy.rollback", {{"version", 1}});
  ASSERT_TRUE(rb.ok) << rb.error.error.toString();
  EXPECT_EQ(rb.result["version"], 3);
  EXPECT_EQ(api_.current()->serviceCount(), 1u);
  auto show = call(kRoot, "policy.show", {{"version", 3}});
  EXPECT_EQ(show.result["meta"]["rollback_of"], 1);
  EXPECT_EQ(call(kRoot, "policy.rollback", {{"version", 99}}).error.code, ErrorCode::NotFound);
}

TEST_F(ServerTest, PublishFailureKeepsThePreviousPolicy) {
  start();
  ASSERT_TRUE(call(kRoot, "service.remove", {{"name", "microsoft365"}}).ok);
  api_.failPublish = true;
  auto r = call(kRoot, "policy.commit", {{"message", "x"}});
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.code, ErrorCode::Unavailable);
  api_.failPublish = false;
  auto st = call(kRoot, "status");
  EXPECT_EQ(st.result["running_version"], 1);
  EXPECT_EQ(st.result["in_sync"], true);
  auto h = call(kRoot, "policy.history");
  EXPECT_EQ(h.result["versions"][1]["state"], "failed");
}

TEST_F(ServerTest, BackupAndRestoreThroughTheProtocol) {
  start();
  auto b = call(kAuditor, "backup");
  ASSERT_TRUE(b.ok);
  const std::string backup = b.result["content"];
  ASSERT_TRUE(call(kRoot, "service.remove", {{"name", "microsoft365"}}).ok);
  ASSERT_TRUE(call(kRoot, "policy.commit", {{"message", "x"}}).ok);
  EXPECT_EQ(call(kAuditor, "restore", {{"content", backup}}).error.code, ErrorCode::Forbidden);
  std::string tampered = backup;
  tampered.replace(tampered.find("outlook"), 7, "outlool");
  auto bad = call(kRoot, "restore", {{"content", tampered}});
  EXPECT_EQ(bad.error.code, ErrorCode::Invalid);
  EXPECT_EQ(api_.current()->version(), 2u);
  auto ok = call(kRoot, "restore", {{"content", backup}});
  ASSERT_TRUE(ok.ok) << ok.error.error.toString();
  EXPECT_EQ(api_.current()->version(), 1u);
  EXPECT_EQ(api_.current()->serviceCount(), 1u);
  // The log records a digest, not the whole backup.
  const auto events = adminEvents();
  EXPECT_TRUE(events.back()["admin"]["args"]["content"].contains("sha256"));
}

TEST_F(ServerTest, RestoreIsNoWayAroundApproval) {
  std::string p = kPolicy;
  p.replace(p.find("segment:"), 0, "approval: required\n");
  writeFile(config_.bootstrapPolicyFile, p);
  start();
  const std::string backup = call(kRoot, "backup").result["content"];
  ASSERT_TRUE(call(kRoot, "service.remove", {{"name", "microsoft365"}}).ok);
  ASSERT_TRUE(call(kRoot, "policy.commit", {{"message", "x"}}).ok);
  ASSERT_TRUE(call(kApprover, "policy.approve", {{"version", 2}}).ok);
  auto r = call(kRoot, "restore", {{"content", backup}});
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.code, ErrorCode::Conflict);
  EXPECT_EQ(api_.current()->version(), 2u);
  // Restoring the history that matches what runs is fine.
  const std::string current = call(kRoot, "backup").result["content"];
  EXPECT_TRUE(call(kRoot, "restore", {{"content", current}}).ok);
}

TEST_F(ServerTest, ImportsMergeIntoTheCandidate) {
  start();
  const std::string m365 = R"([{"id":1,"serviceArea":"Exchange","urls":["outlook.office.com"],
    "ips":["13.107.6.152/31"],"tcpPorts":"443","category":"Optimize","required":true},
    {"id":2,"serviceArea":"Skype","ips":["52.112.0.0/14"],"udpPorts":"3478-3481","category":"Optimize","required":true}])";
  auto r = call(kRoot, "service.import-m365",
                {{"content", m365},
                 {"areas", {"Exchange"}},
                 {"ismap_id", "C21-0008-2"},
                 {"ismap_expires", "2027-03-31"}});
  ASSERT_TRUE(r.ok) << r.error.error.toString();
  EXPECT_EQ(r.result["imported"], 1);
  auto list = call(kRoot, "service.list");
  ASSERT_EQ(list.result["services"].size(), 2u);
  EXPECT_EQ(list.result["services"][1]["name"], "m365-exchange-1");
  auto noIsmap = call(kRoot, "service.import-m365", {{"content", m365}});
  ASSERT_FALSE(noIsmap.ok) << "kind cloud without ISMAP must fail validation";
  auto csv =
      call(kRoot, "service.import-asp",
           {{"content", "name,cidr,ports\nasp1,10.30.0.0/16,tcp/443\nasp2,10.31.0.1/16,tcp/443\n"},
            {"file", "asp.csv"}});
  ASSERT_FALSE(csv.ok);
  EXPECT_EQ(csv.error.error.file, "asp.csv");
  EXPECT_EQ(csv.error.error.line, 3);
  EXPECT_EQ(call(kRoot, "service.list").result["services"].size(), 2u) << "nothing merged on error";
}

TEST_F(ServerTest, IsmapExpiryListedAndWarnedDaily) {
  now_ = std::chrono::sys_days(std::chrono::year(2027) / 3 / 10) + std::chrono::hours(3);
  start();
  auto r = call(kOperator, "service.expiring", {{"days", 30}});
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.result["services"].size(), 1u);
  EXPECT_EQ(r.result["services"][0]["days_left"], 21);
  const auto warnings = [&] {
    size_t n = 0;
    for (const auto& e : api_.events) n += json::parse(e).value("warning", "") == "ismap-expiring";
    return n;
  };
  EXPECT_EQ(warnings(), 1u) << "first poll warns";
  server_->poll(0);
  EXPECT_EQ(warnings(), 1u) << "once a day";
  now_ += std::chrono::hours(25);
  server_->poll(0);
  EXPECT_EQ(warnings(), 2u);
  EXPECT_TRUE(call(kOperator, "service.expiring", {{"days", 5}}).result["services"].empty());
}

TEST_F(ServerTest, CorruptStoreAtStartKeepsLastGood) {
  start();
  ASSERT_TRUE(call(kRoot, "service.remove", {{"name", "microsoft365"}}).ok);
  ASSERT_TRUE(call(kRoot, "policy.commit", {{"message", "x"}}).ok);
  server_.reset();
  writeFile(config_.storeDir + "/current/versions/000002.yaml", "garbage\n");
  testing::FakeControlApi fresh;
  auto s = ControlServer::create(config_, fresh);
  ASSERT_TRUE(s.ok()) << s.error().toString();
  EXPECT_EQ(fresh.published, (std::vector<uint64_t>{1}));
  ASSERT_FALSE((*s)->problems().empty());
  EXPECT_NE((*s)->problems()[0].message.find("hash mismatch"), std::string::npos);
  bool logged = false;
  for (const auto& e : fresh.events) logged |= e.find("hash mismatch") != std::string::npos;
  EXPECT_TRUE(logged);
}

TEST_F(ServerTest, StatsFlowsAndPrometheus) {
  config_.metricsPort = 0;
  start();
  api_.counters_ = {{"rx_packets", "packets received", 42},
                    {"drop.malformed", "malformed\ninput", 3}};
  api_.flowRows = {
      R"({"src_ip":"10.0.0.5","dest_port":443,"action":"allow","policy":{"service":"microsoft365"}})",
      R"({"src_ip":"10.0.0.6","dest_port":53,"action":"deny","policy":{"service":null}})"};
  auto st = call(kOperator, "stats");
  ASSERT_TRUE(st.ok);
  EXPECT_EQ(st.result["counters"][0]["value"], 42);
  auto f = call(kOperator, "flows", {{"filter", {{"policy.service", "microsoft365"}}}});
  ASSERT_TRUE(f.ok);
  ASSERT_EQ(f.result["flows"].size(), 1u);
  EXPECT_EQ(f.result["flows"][0]["src_ip"], "10.0.0.5");
  EXPECT_EQ(call(kOperator, "flows", {{"filter", {{"dest_port", 53}}}}).result["flows"].size(), 1u);
  EXPECT_EQ(call(kOperator, "flows", {{"limit", 0}}).error.code, ErrorCode::Invalid);

  const uint16_t port = server_->metricsPort();
  ASSERT_NE(port, 0);
  const std::string body = inChild(kNobody, [port]() -> std::string {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return "connect failed";
    const std::string req = "GET /metrics HTTP/1.0\r\n\r\n";
    (void)!::send(fd, req.data(), req.size(), 0);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
  });
  EXPECT_EQ(body.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << body;
  EXPECT_NE(body.find("# TYPE lbg_rx_packets_total counter\nlbg_rx_packets_total 42\n"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("# HELP lbg_drop_malformed_total malformed\\ninput\n"), std::string::npos)
      << body;
  EXPECT_NE(body.find("lbg_policy_running_version 1\n"), std::string::npos);
}

TEST_F(ServerTest, ReloadRereadsRolesAndKeepsOldOnError) {
  start();
  EXPECT_EQ(call(kNobody, "status").error.code, ErrorCode::Forbidden);
  writeFile(config_.rolesFile, "users:\n  \"0\": admin\n  \"60009\": operator\n");
  auto rl = call(kRoot, "reload");
  ASSERT_TRUE(rl.ok) << rl.error.error.toString();
  EXPECT_TRUE(call(kNobody, "status").ok);
  writeFile(config_.rolesFile, "users: {\"0\": king}\n");
  auto r = call(kRoot, "reload");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.error.line, 1);
  EXPECT_TRUE(call(kNobody, "status").ok) << "a broken roles file leaves the old roles in force";
}

}  // namespace
}  // namespace lbg::control
