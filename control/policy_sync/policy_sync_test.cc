// Policy sync of an HA pair: the frame (MAC, per-connection nonces, malformed input) and two
// control planes (Dispatchers over FakeControlApi, real stores, real TCP on 127.0.0.1) acting as
// active and standby: replication before enforcement, refusal, catch-up, divergence.
#include "control/policy_sync/policy_sync.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "control/dispatcher.h"
#include "control/fake_control_api.h"
#include "control/policy_sync/carried_rules.h"
#include "control/policy_sync/codec.h"
#include "control/sha256.h"
#include "control/store.h"

namespace lbg::control {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using psync::FrameStatus;
using psync::MsgType;

const std::string kKey = "0123456789abcdef0123456789abcdef";

// --- the frame ---------------------------------------------------------------------------------

TEST(PolicySyncCodec, RoundTripBindsThePeersNonce) {
  const auto mine = psync::randomNonce(), theirs = psync::randomNonce();
  const std::string f = psync::encodeFrame(kKey, MsgType::Push, mine, "{\"a\":1}", theirs);
  size_t total = 0;
  ASSERT_EQ(psync::frameLength(f, total), FrameStatus::Ok);
  EXPECT_EQ(total, f.size());
  psync::Frame out;
  ASSERT_EQ(psync::decodeFrame(kKey, f, theirs, out), FrameStatus::Ok);
  EXPECT_EQ(out.type, MsgType::Push);
  EXPECT_EQ(out.nonce, mine);
  EXPECT_EQ(out.body, "{\"a\":1}");
  // Another key, or the same frame replayed on another connection (another nonce): refused.
  EXPECT_EQ(psync::decodeFrame("another key of thirty-two bytes!!", f, theirs, out),
            FrameStatus::AuthFailed);
  EXPECT_EQ(psync::decodeFrame(kKey, f, psync::randomNonce(), out), FrameStatus::AuthFailed);
  // Any byte changed under the MAC (the type, the body, the nonce): refused.
  for (size_t at : {size_t(5), size_t(12), psync::kHeaderBytes + 2, f.size() - 1}) {
    std::string t = f;
    t[at] = static_cast<char>(t[at] ^ 1);
    EXPECT_NE(psync::decodeFrame(kKey, t, theirs, out), FrameStatus::Ok) << at;
  }
}

TEST(PolicySyncCodec, MalformedFramesAreRefusedEarly) {
  const auto n = psync::randomNonce();
  const std::string f = psync::encodeFrame(kKey, MsgType::Announce, n, "{}", n);
  size_t total = 0;
  EXPECT_EQ(psync::frameLength(f.substr(0, 10), total), FrameStatus::NeedMore);
  EXPECT_EQ(psync::frameLength("GET / HTTP/1.1\r\n", total), FrameStatus::Malformed);
  EXPECT_EQ(psync::frameLength("LB", total), FrameStatus::NeedMore);
  EXPECT_EQ(psync::frameLength("LBXP", total), FrameStatus::Malformed);
  std::string format = f;
  format[4] = 9;
  EXPECT_EQ(psync::frameLength(format, total), FrameStatus::Malformed);
  std::string huge = f;
  huge[8] = '\x7f';  // a body length far over kMaxBody: refused before anything is read
  EXPECT_EQ(psync::frameLength(huge, total), FrameStatus::Malformed);
  psync::Frame out;
  EXPECT_EQ(psync::decodeFrame(kKey, f.substr(0, f.size() - 1), n, out), FrameStatus::Malformed);
  // A type we do not know, correctly signed: malformed, not trusted.
  std::string unknown = psync::encodeFrame(kKey, static_cast<MsgType>(9), n, "{}", n);
  EXPECT_EQ(psync::decodeFrame(kKey, unknown, n, out), FrameStatus::Malformed);
}

// --- two control planes ------------------------------------------------------------------------

constexpr const char* kPolicy = R"(version: 1
segment:
  inside: [10.0.0.0/8]
defaults:
  deny: reset
services:
  - name: jlis
    kind: lgwan-asp
    fqdn: [www.j-lis.go.jp]
    ports: [tcp/443]
)";

uint16_t freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

void endpoint(uint16_t port, sockaddr_storage& ss, socklen_t& len, std::string& text) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  std::memcpy(&ss, &a, sizeof(a));
  len = sizeof(a);
  text = "127.0.0.1:" + std::to_string(port);
}

struct Box {
  std::string name, dir;
  uint16_t port = 0, peerPort = 0;
  std::string key = kKey;
  testing::FakeControlApi api;
  std::unique_ptr<Dispatcher> d;

  void start() {
    Dispatcher::Config c;
    c.storeDir = dir + "/store";
    c.rolesFile = dir + "/roles.yaml";
    c.bootstrapPolicyFile = dir + "/bootstrap.yaml";
    PolicySyncConfig ps;
    ps.self = name;
    endpoint(port, ps.local, ps.localLen, ps.localText);
    endpoint(peerPort, ps.peer, ps.peerLen, ps.peerText);
    ps.key = key;
    ps.announceInterval = std::chrono::milliseconds(5);
    ps.pushTimeout = std::chrono::milliseconds(3000);  // a bound, not a measure
    c.policySync = ps;
    api.haPair = true;
    auto r = Dispatcher::create(std::move(c), api);
    ASSERT_TRUE(r.ok()) << r.error().toString();
    d = std::move(*r);
  }
  json call(const std::string& cmd, json args = json::object()) {
    const std::string line = json{{"v", 1}, {"cmd", cmd}, {"args", args}}.dump();
    const std::string out = d->handle(0, 0, line, -1);
    return json::parse(out);
  }
  uint64_t counter(const std::string& name) {
    const json stats = call("stats");
    for (const auto& c : stats["result"]["counters"]) {
      if (c["name"] == name) return c["value"];
    }
    ADD_FAILURE() << "no counter " << name;
    return 0;
  }
};

class PolicySyncPair : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lbg-policy-sync-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    a_.name = "lbg-a";
    b_.name = "lbg-b";
    a_.port = freePort();
    b_.port = freePort();
    a_.peerPort = b_.port;
    b_.peerPort = a_.port;
    for (Box* x : {&a_, &b_}) {
      x->dir = dir_ + "/" + x->name;
      fs::create_directories(x->dir);
      std::ofstream(x->dir + "/roles.yaml") << "users:\n  \"0\": admin\n";
      std::ofstream(x->dir + "/bootstrap.yaml") << kPolicy;
    }
    a_.api.role = dataplane::HaRole::Active;
    b_.api.role = dataplane::HaRole::Standby;
  }
  void TearDown() override {
    a_.d.reset();
    b_.d.reset();
    fs::remove_all(dir_);
  }

  // Runs `f` on this thread while `peer`'s service loop answers on another (a commit waits for
  // the peer's answer). Nothing else touches `peer` meanwhile.
  template <class F>
  auto whileServing(Box& peer, F&& f) {
    std::atomic<bool> stop{false};
    std::thread t([&] {
      while (!stop) {
        peer.d->tick();
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
    auto r = f();
    stop = true;
    t.join();
    return r;
  }
  // Both service loops on this thread until `done` (announcements and catch-ups need no thread:
  // both sides are non-blocking). The bound only keeps a broken build from hanging.
  template <class P>
  bool pumpUntil(P&& done) {
    for (int i = 0; i < 20000 && !done(); ++i) {
      if (a_.d) a_.d->tick();
      if (b_.d) b_.d->tick();
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return done();
  }
  json commitOnA(const std::string& fqdn) {
    auto add = a_.call("service.add", {{"name", "svc-" + fqdn},
                                       {"kind", "lgwan-asp"},
                                       {"fqdn", {fqdn}},
                                       {"ports", {"tcp/443"}}});
    EXPECT_TRUE(add["ok"]) << add.dump();
    return a_.call("policy.commit", {{"message", "allow " + fqdn}});
  }
  static bool healthy(Box& x) { return x.call("ha.health")["result"]["healthy"]; }

  std::string dir_;
  Box a_, b_;
};

TEST_F(PolicySyncPair, ACommitIsEnforcedOnTheStandbyBeforeItIsReported) {
  a_.start();
  b_.start();
  const json r = whileServing(b_, [&] { return commitOnA("new.example.jp"); });
  ASSERT_TRUE(r["ok"]) << r.dump();
  EXPECT_EQ(r["result"]["version"], 2);
  EXPECT_EQ(r["result"]["replicated"]["peer"], "lbg-b");
  EXPECT_EQ(r["result"]["replicated"]["version"], 2);
  // The standby validated, stored and enforced it as the same version, same text and author.
  EXPECT_EQ(b_.api.published, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(a_.api.published, (std::vector<uint64_t>{1, 2}));
  const json ha = a_.call("policy.show", {{"version", 2}})["result"];
  const json hb = b_.call("policy.show", {{"version", 2}})["result"];
  EXPECT_EQ(ha["yaml"], hb["yaml"]);
  EXPECT_EQ(hb["meta"]["sha256"], ha["meta"]["sha256"]);
  EXPECT_EQ(hb["meta"]["author"], "root");
  EXPECT_EQ(hb["meta"]["state"], "active");
  EXPECT_EQ(hb["meta"]["message"], "allow new.example.jp");
  EXPECT_TRUE(healthy(b_));
  EXPECT_EQ(a_.counter("ha_policy_acked"), 1u);
  EXPECT_EQ(b_.counter("ha_policy_adopted"), 1u);
  // The standby takes no commit of its own: it would diverge.
  auto own = b_.call("policy.commit", {{"message", "x"}});
  EXPECT_FALSE(own["ok"]);
  EXPECT_NE(own["error"]["message"].get<std::string>().find("standby"), std::string::npos);
  // Announcements agree: both report in sync.
  ASSERT_TRUE(pumpUntil([&] {
    return a_.call("ha.status")["result"]["policy_sync"]["state"] == "in-sync";
  }));
  EXPECT_EQ(a_.call("ha.status")["result"]["policy_sync"]["peer_version"], 2);
  EXPECT_EQ(b_.call("ha.status")["result"]["policy_sync"]["state"], "in-sync");
}

TEST_F(PolicySyncPair, AStandbyThatWasDownCatchesUp) {
  a_.start();
  // b is down: the commit is enforced here, not replicated, and says so.
  const json r = commitOnA("new.example.jp");
  ASSERT_TRUE(r["ok"]) << r.dump();
  EXPECT_EQ(r["result"]["replicated"], false);
  ASSERT_EQ(r["result"]["warnings"].size(), 1u);
  EXPECT_NE(r["result"]["warnings"][0].get<std::string>().find("NOT REPLICATED"), std::string::npos);
  EXPECT_EQ(a_.api.published, (std::vector<uint64_t>{1, 2}));
  b_.start();
  ASSERT_TRUE(pumpUntil([&] { return b_.api.published.size() == 2; }));
  EXPECT_EQ(b_.api.published.back(), 2u);
  EXPECT_TRUE(healthy(b_));
  ASSERT_TRUE(pumpUntil([&] {
    return a_.call("ha.status")["result"]["policy_sync"]["state"] == "in-sync";
  }));
  const json hb = b_.call("policy.show", {{"version", 2}})["result"];
  EXPECT_EQ(hb["meta"]["note"], "replicated from lbg-a");
}

TEST_F(PolicySyncPair, ADivergentStandbyRefusesAndDoesNotTakeOverSilently) {
  // b goes its own way while a is away: active for a while, two commits of its own.
  b_.start();
  b_.api.role = dataplane::HaRole::Active;
  for (const char* host : {"b1.example.jp", "b2.example.jp"}) {
    b_.call("service.add", {{"name", std::string("svc-") + host},
                            {"kind", "lgwan-asp"},
                            {"fqdn", {host}},
                            {"ports", {"tcp/443"}}});
    auto c = b_.call("policy.commit", {{"message", host}});
    ASSERT_TRUE(c["ok"]) << c.dump();
    EXPECT_EQ(c["result"]["replicated"], false);  // a is down
  }
  b_.api.role = dataplane::HaRole::Standby;
  a_.start();
  // a's commit of version 2: b has used that number; it refuses, nothing changes anywhere.
  const json r = whileServing(b_, [&] { return commitOnA("new.example.jp"); });
  ASSERT_FALSE(r["ok"]) << r.dump();
  EXPECT_EQ(r["error"]["code"], "conflict");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("refused by the standby"),
            std::string::npos);
  EXPECT_EQ(a_.api.published, (std::vector<uint64_t>{1}));
  EXPECT_EQ(a_.call("policy.show", {{"version", 2}})["result"]["meta"]["state"], "failed");
  EXPECT_EQ(b_.api.published, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(a_.counter("ha_policy_refused"), 1u);
  // a announces version 1; b runs 3: b's health fails with the reason, so keepalived keeps it
  // from mastership.
  ASSERT_TRUE(pumpUntil([&] { return !healthy(b_); }));
  const json h = b_.call("ha.health")["result"];
  bool named = false;
  for (const auto& p : h["problems"]) {
    named |= p.get<std::string>().find("policy-divergent: local 3, peer 1") != std::string::npos;
  }
  EXPECT_TRUE(named) << h.dump();
  EXPECT_EQ(b_.counter("ha_policy_divergent"), 1u);
  EXPECT_TRUE(healthy(a_));  // the active is not judged by the standby's state
  // A restart does not make b forget it (the announcement is kept in its store directory).
  b_.d.reset();
  b_.start();
  EXPECT_FALSE(healthy(b_));
  // Made active by hand anyway: it does, and says why it should not have.
  const json act = b_.call("ha.active");
  ASSERT_TRUE(act["ok"]);
  ASSERT_EQ(act["result"]["warnings"].size(), 1u);
  EXPECT_NE(act["result"]["warnings"][0].get<std::string>().find("policy-divergent"),
            std::string::npos);
  bool recorded = false;
  for (const auto& e : b_.api.events) {
    const json j = json::parse(e);
    if (j["admin"]["action"] == "ha.role" && j["ha"].contains("warning")) recorded = true;
  }
  EXPECT_TRUE(recorded);
  EXPECT_TRUE(healthy(b_));  // active now: it announces, nobody is compared against
}

// What a host on the HA link could send b: a request under another key, a request recorded on
// another connection (bound to another nonce), bytes that are no frame. None is answered; each is
// counted. A request under the pair's key bound to this connection's challenge is answered.
TEST_F(PolicySyncPair, ForgedReplayedAndForeignFramesAreRefusedAndCounted) {
  b_.start();
  const std::string announce =
      json{{"box", "lbg-x"}, {"role", "active"}, {"version", 1}, {"sha256", std::string(64, 'a')}}
          .dump();
  // Returns what b answered after its challenge (empty: it closed without answering).
  const auto exchange = [&](const std::string& key, bool bindToChallenge, const std::string& raw) {
    return whileServing(b_, [&] {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_storage ss{};
      socklen_t len = 0;
      std::string text;
      endpoint(b_.port, ss, len, text);
      EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&ss), len), 0);
      std::string in;
      size_t total = 0;
      char buf[4096];
      while (psync::frameLength(in, total) != FrameStatus::Ok || in.size() < total) {
        const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
      }
      psync::Frame challenge;
      EXPECT_EQ(psync::decodeFrame(kKey, std::string_view(in).substr(0, total), psync::Nonce{},
                                   challenge),
                FrameStatus::Ok);
      const std::string req =
          raw.empty() ? psync::encodeFrame(key, MsgType::Announce, psync::randomNonce(), announce,
                                           bindToChallenge ? challenge.nonce : psync::randomNonce())
                      : raw;
      ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
      std::string answer;
      ssize_t n;
      while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) answer.append(buf, static_cast<size_t>(n));
      ::close(fd);
      return answer;
    });
  };
  EXPECT_EQ(exchange("another key of thirty-two bytes!!", true, ""), "");
  EXPECT_EQ(b_.counter("ha_policy_auth_failed"), 1u);
  EXPECT_EQ(exchange(kKey, false, ""), "");  // a replay: bound to another connection's nonce
  EXPECT_EQ(b_.counter("ha_policy_auth_failed"), 2u);
  EXPECT_EQ(exchange(kKey, true, "GET / HTTP/1.0\r\n\r\n"), "");
  EXPECT_EQ(b_.counter("ha_policy_malformed"), 1u);
  EXPECT_EQ(b_.call("ha.status")["result"]["policy_sync"]["announced"], nullptr);
  EXPECT_TRUE(healthy(b_));
  // The real thing is answered, and b now compares itself with what was announced.
  EXPECT_NE(exchange(kKey, true, ""), "");
  EXPECT_EQ(b_.call("ha.status")["result"]["policy_sync"]["announced"]["box"], "lbg-x");
  EXPECT_FALSE(healthy(b_));
  EXPECT_EQ(b_.api.published, (std::vector<uint64_t>{1}));
}

// A peer under another key: its challenge does not authenticate, nothing is sent to it.
TEST_F(PolicySyncPair, APeerUnderAnotherKeyIsUnreachable) {
  b_.key = "a different pair key, 32 bytes..";
  a_.start();
  b_.start();
  ASSERT_TRUE(pumpUntil([&] { return a_.counter("ha_policy_auth_failed") >= 1; }));
  EXPECT_EQ(a_.call("ha.status")["result"]["policy_sync"]["state"], "unreachable");
  EXPECT_EQ(b_.call("ha.status")["result"]["policy_sync"]["announced"], nullptr);
}

TEST_F(PolicySyncPair, CountersReachStatsAndPrometheus) {
  a_.start();
  const json stats = a_.call("stats")["result"];
  const std::string prom = a_.d->metricsText();
  const auto check = [&](const telemetry::CounterInfo& info, uint64_t) {
    bool inStats = false;
    for (const auto& c : stats["counters"]) {
      if (c["name"] == info.name) inStats = c.value("section", "") == "ha";
    }
    EXPECT_TRUE(inStats) << info.name;
    EXPECT_NE(prom.find(std::string(info.name)), std::string::npos) << info.name;
  };
  PolicySyncCounters{}.forEach(check);
  PolicySyncGauges{}.forEach(check);
}


// --- IDS rule files carried with a version ------------------------------------------------------

constexpr const char* kRules =
    "alert tcp any any -> any any (msg:\"LBG TEST evil\"; content:\"EVIL\"; sid:9100002; rev:2;)\n";

std::string readText(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// The standby's side on a real store: a stored file it lacks is written once its text hashes to
// its name; a text that does not, a file of another store, a plain file that differs here, are
// refused, and nothing is written for a refused list.
TEST(PolicySyncRules, TheStandbyStoresOnlyTextThatMatchesItsName) {
  char tmpl[] = "/tmp/lbg-policy-sync-rules-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  auto store = PolicyStore::open(dir + "/store");
  ASSERT_TRUE(store.ok()) << store.error().toString();
  auto path = (*store)->putRules("local.rules", kRules);
  ASSERT_TRUE(path.ok());
  const std::string plain = dir + "/site.rules";
  std::ofstream(plain) << kRules;

  policy::PolicyDoc doc;
  doc.ids = policy::IdsSpec{{*path, plain}};
  auto carried = carriedRulesOf(doc, (*store)->rulesDir());
  ASSERT_TRUE(carried.ok()) << carried.error().toString();
  ASSERT_EQ(carried->size(), 2u);
  EXPECT_EQ((*carried)[0].content, std::optional<std::string>(kRules));
  EXPECT_EQ((*carried)[1].content, std::nullopt);  // a plain file travels by its hash only
  EXPECT_EQ((*carried)[1].sha256, sha256Hex(kRules));
  // Through the wire's form and back.
  auto back = carriedRulesFromJson(json::parse(carriedRulesToJson(*carried).dump()));
  ASSERT_TRUE(back.ok()) << back.error().toString();

  // The standby lacks the stored file (same store directory, as a pair has): written, verified.
  fs::remove(*path);
  auto stored = adoptCarriedRules(*back, **store);
  ASSERT_TRUE(stored.ok()) << stored.error().toString();
  EXPECT_EQ(*stored, 1u);
  EXPECT_EQ(readText(*path), kRules);

  // Text that does not hash to the name (one byte changed): refused, nothing written.
  fs::remove(*path);
  auto forged = *back;
  (*forged[0].content)[7] ^= 1;
  auto r = adoptCarriedRules(forged, **store);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("does not match the hash"), std::string::npos);
  EXPECT_FALSE(fs::exists(*path));
  // The plain file differs on this box: refused, and the stored file of the list not written.
  std::ofstream(plain, std::ios::trunc) << "# edited here\n" << kRules;
  r = adoptCarriedRules(*back, **store);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("differs from the active's"), std::string::npos);
  EXPECT_FALSE(fs::exists(*path));
  fs::remove(plain);
  r = adoptCarriedRules(*back, **store);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cannot be read on this box"), std::string::npos);
  // A file of another store directory: the version would name a file this box does not have.
  auto other = *back;
  other.resize(1);
  other[0].path = dir + "/elsewhere/rules/" + fs::path(*path).filename().string();
  r = adoptCarriedRules(other, **store);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("same control.store"), std::string::npos);

  // The wire's bounds: more text than a push carries, a relative path, a bad hash.
  json big = json::array({{{"path", *path}, {"sha256", sha256Hex(kRules)},
                           {"content", std::string(kMaxCarriedRulesBytes + 1, 'x')}}});
  EXPECT_FALSE(carriedRulesFromJson(big).ok());
  EXPECT_FALSE(carriedRulesFromJson(json::array({{{"path", "rules/x"}, {"sha256", sha256Hex("")}}})).ok());
  EXPECT_FALSE(carriedRulesFromJson(json::array({{{"path", "/x"}, {"sha256", "ABC"}}})).ok());
  // The active's side: a stored file edited since it was pinned cannot be replicated.
  ASSERT_TRUE((*store)->putRules("local.rules", kRules).ok());
  std::ofstream(plain) << kRules;
  EXPECT_TRUE(carriedRulesOf(doc, (*store)->rulesDir()).ok());
  fs::permissions(*path, fs::perms::owner_write, fs::perm_options::add);
  std::ofstream(*path, std::ios::app) << "# edited\n";
  auto edited = carriedRulesOf(doc, (*store)->rulesDir());
  ASSERT_FALSE(edited.ok());
  EXPECT_NE(edited.error().message.find("no longer matches"), std::string::npos);
  fs::remove_all(dir);
}

// Through the pair: a plain rule file both boxes hold alike travels by its hash and the version
// is enforced on both; a file `ids load` pinned in the active's store, which is not the
// standby's, refuses the commit on both boxes with the reason (the pair cannot enforce it).
TEST_F(PolicySyncPair, IdsRuleFilesTravelWithTheVersionOrTheCommitFails) {
  const std::string plain = dir_ + "/site.rules";
  std::ofstream(plain) << kRules;
  for (Box* x : {&a_, &b_}) {
    std::ofstream(x->dir + "/bootstrap.yaml", std::ios::trunc)
        << kPolicy << "ids:\n  rules: [" << plain << "]\n";
  }
  a_.start();
  b_.start();
  json r = whileServing(b_, [&] { return commitOnA("new.example.jp"); });
  ASSERT_TRUE(r["ok"]) << r.dump();
  EXPECT_EQ(r["result"]["replicated"]["version"], 2);
  EXPECT_EQ(b_.api.published, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(b_.counter("ha_policy_rules_refused"), 0u);

  auto load = a_.call("ids.load", {{"files", {{{"name", "local.rules"}, {"content", kRules}}}}});
  ASSERT_TRUE(load["ok"]) << load.dump();
  const std::string stored = load["result"]["files"][0]["stored"];
  r = whileServing(b_, [&] { return a_.call("policy.commit", {{"message", "ids"}}); });
  ASSERT_FALSE(r["ok"]) << r.dump();
  const std::string why = r["error"]["message"];
  EXPECT_NE(why.find("refused by the standby"), std::string::npos) << why;
  EXPECT_NE(why.find("same control.store"), std::string::npos) << why;
  EXPECT_NE(why.find(stored), std::string::npos) << why;
  EXPECT_EQ(a_.api.published, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(b_.api.published, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(b_.counter("ha_policy_rules_refused"), 1u);
  EXPECT_EQ(b_.counter("ha_policy_rules_stored"), 0u);
  EXPECT_FALSE(fs::exists(b_.dir + "/store/rules/" + fs::path(stored).filename().string()));
}


// `lbgctl certs flush` on the active reaches the standby, which forgets every verdict it holds
// (its ledger does not list the synced ones, so the selection cannot be matched there); a
// standby that cannot be told is a warning naming what to run there.
TEST_F(PolicySyncPair, CertsFlushOnTheActiveReachesTheStandby) {
  a_.start();
  b_.start();
  a_.api.certRows.resize(1);
  b_.api.certRows.resize(3);
  json r = whileServing(b_, [&] { return a_.call("certs.flush", {{"name", "x.example.jp"}}); });
  ASSERT_TRUE(r["ok"]) << r.dump();
  EXPECT_EQ(r["result"]["flushed"], 1);
  EXPECT_EQ(r["result"]["standby"]["peer"], "lbg-b");
  EXPECT_EQ(r["result"]["standby"]["flushed"], 3);
  EXPECT_FALSE(r["result"].contains("warnings"));
  ASSERT_EQ(a_.api.certSelectors.size(), 1u);
  EXPECT_EQ(a_.api.certSelectors[0].host, "x.example.jp");
  EXPECT_FALSE(a_.api.certSelectors[0].all);
  ASSERT_EQ(b_.api.certSelectors.size(), 1u);
  EXPECT_TRUE(b_.api.certSelectors[0].all);
  EXPECT_EQ(a_.counter("ha_certs_flush_sent"), 1u);
  EXPECT_EQ(b_.counter("ha_certs_flush_received"), 1u);
  bool recorded = false;
  for (const auto& e : b_.api.events) {
    const json j = json::parse(e);
    if (j["admin"]["action"] == "ha.certs.flushed" && j["ha"]["selection"]["name"] == "x.example.jp")
      recorded = true;
  }
  EXPECT_TRUE(recorded);

  // A flush on the standby itself stays there (the active is not told).
  r = b_.call("certs.flush", {{"all", true}});
  ASSERT_TRUE(r["ok"]) << r.dump();
  EXPECT_FALSE(r["result"].contains("standby"));
  EXPECT_EQ(a_.api.certSelectors.size(), 1u);

  // Two actives: the peer takes no flush, and the answer says so.
  b_.api.role = dataplane::HaRole::Active;
  r = whileServing(b_, [&] { return a_.call("certs.flush", {{"all", true}}); });
  ASSERT_TRUE(r["ok"]) << r.dump();
  EXPECT_EQ(r["result"]["standby"], false);
  ASSERT_EQ(r["result"]["warnings"].size(), 1u);
  EXPECT_NE(r["result"]["warnings"][0].get<std::string>().find("this box is active"),
            std::string::npos);

  // The standby is down: flushed here, and the warning names what to run there.
  b_.d.reset();
  r = a_.call("certs.flush", {{"all", true}});
  ASSERT_TRUE(r["ok"]) << r.dump();
  EXPECT_EQ(r["result"]["standby"], false);
  ASSERT_EQ(r["result"]["warnings"].size(), 1u);
  const std::string w = r["result"]["warnings"][0];
  EXPECT_NE(w.find("NOT FLUSHED ON THE STANDBY"), std::string::npos) << w;
  EXPECT_NE(w.find("certs flush --all"), std::string::npos) << w;
}

}  // namespace
}  // namespace lbg::control
