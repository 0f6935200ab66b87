#include "control/policy_sync/policy_sync.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "control/atomic_file.h"
#include "control/handlers/context.h"

namespace lbg::control {

using nlohmann::json;
using psync::FrameStatus;
using psync::MsgType;

namespace {

constexpr size_t kMaxInbound = 4;
constexpr size_t kMaxBoxName = 64;
constexpr auto kInboundDeadline = std::chrono::seconds(10);

std::string nowText() {
  return rfc3339(std::chrono::system_clock::now());
}

std::string errnoText(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// Reads what the socket has; false on end of stream or error.
bool readAvailable(int fd, std::string& in, std::string& error) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      in.append(buf, static_cast<size_t>(n));
      if (in.size() > psync::kHeaderBytes + psync::kMaxBody + psync::kMacBytes) {
        error = "frame too large";
        return false;
      }
      continue;
    }
    if (n == 0) {
      error = "connection closed by the peer";
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    error = errnoText("recv");
    return false;
  }
}

bool writeAvailable(int fd, std::string& out, std::string& error) {
  while (!out.empty()) {
    const ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    error = errnoText("send");
    return false;
  }
  return true;
}

bool isSha256Hex(const json& j) {
  if (!j.is_string()) return false;
  const auto& s = j.get_ref<const std::string&>();
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool isBoxName(const json& j) {
  if (!j.is_string()) return false;
  const auto& s = j.get_ref<const std::string&>();
  if (s.empty() || s.size() > kMaxBoxName) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// Why the peer refused: its `error` text, else "refused".
std::string refusal(const json& reply) {
  const json& e = reply.contains("error") ? reply["error"] : json();
  return e.is_string() ? e.get<std::string>() : "refused";
}

}  // namespace

// One outgoing exchange (this box active): connect, take the challenge, send the request bound
// to it, read the reply bound to ours.
struct PolicySync::Exchange {
  enum class State { Connecting, AwaitChallenge, AwaitReply, Done };
  int fd = -1;
  State state = State::Connecting;
  MsgType type = MsgType::Announce;
  std::string body;
  std::string in, out;
  psync::Nonce mine = psync::randomNonce();
  Clock::time_point deadline;
  bool ok = false;
  bool authFailed = false, malformed = false;
  std::string error;  // when !ok
  std::string reply;  // the Reply's body when ok
  uint64_t version = 0;  // of a push

  ~Exchange() {
    if (fd >= 0) ::close(fd);
  }
  short events() const {
    if (state == State::Connecting) return POLLOUT;
    return static_cast<short>(POLLIN | (out.empty() ? 0 : POLLOUT));
  }
  void fail(std::string why) {
    error = std::move(why);
    state = State::Done;
  }
  void advance(const std::string& key, short revents) {
    if (state == State::Connecting) {
      if (!(revents & (POLLOUT | POLLERR | POLLHUP))) return;
      int soErr = 0;
      socklen_t len = sizeof(soErr);
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soErr, &len) != 0 || soErr != 0) {
        return fail(std::string("connect: ") + std::strerror(soErr ? soErr : errno));
      }
      state = State::AwaitChallenge;
    }
    std::string err;
    if (!writeAvailable(fd, out, err)) return fail(err);
    // A peer may close right after its frame: what was read is judged first.
    const bool open = readAvailable(fd, in, err);
    size_t total = 0;
    const FrameStatus fs = psync::frameLength(in, total);
    if (fs == FrameStatus::Malformed) {
      malformed = true;
      return fail("the peer sent something that is not a policy-sync frame");
    }
    if (fs == FrameStatus::NeedMore || in.size() < total) {
      if (!open) fail(err);  // the peer closed before a whole frame
      return;
    }
    psync::Frame f;
    const std::string_view frame(in.data(), total);
    if (state == State::AwaitChallenge) {
      const FrameStatus d = psync::decodeFrame(key, frame, psync::Nonce{}, f);
      if (d != FrameStatus::Ok || f.type != MsgType::Challenge) {
        (d == FrameStatus::AuthFailed ? authFailed : malformed) = true;
        return fail(d == FrameStatus::AuthFailed
                        ? "the peer's challenge did not authenticate (another key?)"
                        : "the peer's challenge was malformed");
      }
      out = psync::encodeFrame(key, type, mine, body, f.nonce);
      body.clear();
      in.erase(0, total);
      state = State::AwaitReply;
      if (!writeAvailable(fd, out, err)) return fail(err);
      return;
    }
    const FrameStatus d = psync::decodeFrame(key, frame, mine, f);
    if (d != FrameStatus::Ok || f.type != MsgType::Reply) {
      (d == FrameStatus::AuthFailed ? authFailed : malformed) = true;
      return fail(d == FrameStatus::AuthFailed ? "the peer's reply did not authenticate"
                                               : "the peer's reply was malformed");
    }
    reply.assign(f.body);
    ok = true;
    state = State::Done;
  }
};

// One incoming exchange (this box answering the active).
struct PolicySync::Inbound {
  int fd = -1;
  std::string in, out;
  psync::Nonce mine = psync::randomNonce();
  Clock::time_point deadline;
  bool answered = false;
  bool closed = false;
  ~Inbound() {
    if (fd >= 0) ::close(fd);
  }
};

Result<std::unique_ptr<PolicySync>> PolicySync::create(PolicySyncConfig config, Host host) {
  if (config.key.size() < 32) return Error{"ha.policy: the pair's key is shorter than 32 bytes"};
  std::unique_ptr<PolicySync> s(new PolicySync(std::move(config), std::move(host)));
  if (auto l = s->listen(); !l) return l.error();
  s->loadState();
  return s;
}

PolicySync::PolicySync(PolicySyncConfig config, Host host)
    : config_(std::move(config)), host_(std::move(host)) {}

PolicySync::~PolicySync() {
  if (listenFd_ >= 0) ::close(listenFd_);
}

Result<Ok> PolicySync::listen() {
  listenFd_ = ::socket(config_.local.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listenFd_ < 0) return Error{errnoText("ha.policy: socket")};
  const int one = 1;
  ::setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(listenFd_, reinterpret_cast<const sockaddr*>(&config_.local), config_.localLen) != 0) {
    return Error{errnoText(("ha.policy: bind " + config_.localText).c_str())};
  }
  if (::listen(listenFd_, 8) != 0) return Error{errnoText("ha.policy: listen")};
  return Ok{};
}

void PolicySync::loadState() {
  if (config_.stateFile.empty()) return;
  auto text = readFileLimited(config_.stateFile, 4096);
  if (!text) return;
  const json j = json::parse(*text, nullptr, false);
  if (!j.is_object() || !isBoxName(j.value("box", json())) || !j.contains("version") ||
      !j["version"].is_number_unsigned() || !isSha256Hex(j.value("sha256", json()))) {
    return;
  }
  announced_ = Announced{j["box"].get<std::string>(), j["version"].get<uint64_t>(),
                         j["sha256"].get<std::string>(), j.value("at", std::string())};
}

void PolicySync::saveState() {
  if (config_.stateFile.empty()) return;
  if (!announced_) {
    ::unlink(config_.stateFile.c_str());
    return;
  }
  const json j = {{"box", announced_->box},
                  {"version", announced_->version},
                  {"sha256", announced_->sha256},
                  {"at", announced_->at}};
  (void)writeFileAtomic(config_.stateFile, j.dump() + "\n", 0600);
}

void PolicySync::becameActive() {
  if (!announced_) return;
  announced_.reset();
  refusedHere_.clear();
  saveState();
}

std::optional<std::string> PolicySync::divergence() const {
  if (host_.active() || !announced_) return std::nullopt;
  const auto run = host_.running();
  if (run && run->meta.version == announced_->version && run->meta.sha256 == announced_->sha256) {
    return std::nullopt;
  }
  std::string why = "policy-divergent: local " + (run ? std::to_string(run->meta.version) : "none") +
                    ", peer " + std::to_string(announced_->version) + " (" + announced_->box +
                    " announced it at " + announced_->at + ")";
  if (!refusedHere_.empty()) why += "; its push was refused here: " + refusedHere_;
  return why;
}

PolicySyncGauges PolicySync::gauges() const {
  PolicySyncGauges g;
  g.ha_policy_divergent = divergence() ? 1 : 0;
  return g;
}

void PolicySync::poll() {
  std::vector<pollfd> fds;
  fds.push_back({listenFd_, POLLIN, 0});
  for (const auto& c : inbound_) {
    fds.push_back({c->fd, static_cast<short>(c->out.empty() ? POLLIN : POLLOUT), 0});
  }
  if (outbound_) fds.push_back({outbound_->fd, outbound_->events(), 0});
  if (::poll(fds.data(), fds.size(), 0) < 0) return;
  const auto now = Clock::now();
  for (size_t i = 0; i < inbound_.size(); ++i) {
    if (fds[1 + i].revents) serve(*inbound_[i]);
    if (now > inbound_[i]->deadline) inbound_[i]->closed = true;
  }
  std::erase_if(inbound_, [](const auto& c) { return c->closed; });
  if (fds[0].revents & POLLIN) acceptAll();
  if (outbound_) {
    if (fds.back().revents) outbound_->advance(config_.key, fds.back().revents);
    if (outbound_->state != Exchange::State::Done && now > outbound_->deadline) {
      outbound_->fail("no answer from " + config_.peerText + " in time");
    }
    if (outbound_->state == Exchange::State::Done) finishExchange();
  }
  if (!outbound_ && host_.active() && now >= nextAnnounce_) {
    nextAnnounce_ = now + config_.announceInterval;
    const auto run = host_.running();
    if (!run) return;
    startExchange(MsgType::Announce,
                  json{{"box", config_.self},
                       {"role", "active"},
                       {"version", run->meta.version},
                       {"sha256", run->meta.sha256}}
                      .dump(),
                  config_.exchangeTimeout);
  }
}

void PolicySync::acceptAll() {
  for (;;) {
    const int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (inbound_.size() >= kMaxInbound) {
      ::close(fd);  // bounded: the active retries on its next announcement
      continue;
    }
    auto c = std::make_unique<Inbound>();
    c->fd = fd;
    c->deadline = Clock::now() + kInboundDeadline;
    c->out = psync::encodeFrame(config_.key, MsgType::Challenge, c->mine, {}, psync::Nonce{});
    serve(*c);
    if (!c->closed) inbound_.push_back(std::move(c));
  }
}

void PolicySync::serve(Inbound& c) {
  std::string err;
  if (!writeAvailable(c.fd, c.out, err)) {
    c.closed = true;
    return;
  }
  if (c.answered) {
    c.closed = c.out.empty();
    return;
  }
  const bool open = readAvailable(c.fd, c.in, err);
  size_t total = 0;
  const FrameStatus fs = psync::frameLength(c.in, total);
  if (fs == FrameStatus::Malformed) {
    ++counters_.ha_policy_malformed;
    c.closed = true;
    return;
  }
  if (fs == FrameStatus::NeedMore || c.in.size() < total) {
    c.closed = !open;
    return;
  }
  psync::Frame f;
  const FrameStatus d = psync::decodeFrame(config_.key, std::string_view(c.in.data(), total), c.mine, f);
  if (d == FrameStatus::AuthFailed) {
    ++counters_.ha_policy_auth_failed;
    c.closed = true;
    return;
  }
  bool malformed = d != FrameStatus::Ok || (f.type != MsgType::Announce &&
                                             f.type != MsgType::Push && f.type != MsgType::Flush);
  json reply;
  if (!malformed) reply = answer(f.type, f.body, malformed);
  if (malformed) {
    ++counters_.ha_policy_malformed;
    c.closed = true;
    return;
  }
  c.out = psync::encodeFrame(config_.key, MsgType::Reply, c.mine,
                             reply.dump(-1, ' ', false, json::error_handler_t::replace), f.nonce);
  c.answered = true;
  // Closed once the reply is out (now, or when the socket takes the rest).
  if (!writeAvailable(c.fd, c.out, err) || c.out.empty()) c.closed = true;
}

json PolicySync::answer(MsgType type, std::string_view body, bool& malformed) {
  const json req = json::parse(body, nullptr, false);
  if (!req.is_object() || !isBoxName(req.value("box", json()))) {
    malformed = true;
    return {};
  }
  const std::string box = req["box"].get<std::string>();
  const auto run = host_.running();
  json reply = {{"box", config_.self},
                {"version", run ? json(run->meta.version) : json(nullptr)},
                {"sha256", run ? json(run->meta.sha256) : json(nullptr)}};
  if (type == MsgType::Announce) {
    if (!req.contains("version") || !req["version"].is_number_unsigned() ||
        !isSha256Hex(req.value("sha256", json()))) {
      malformed = true;
      return {};
    }
    const uint64_t version = req["version"].get<uint64_t>();
    const std::string sha = req["sha256"].get<std::string>();
    const bool same = run && run->meta.version == version && run->meta.sha256 == sha;
    if (host_.active()) {
      reply["state"] = "active";  // two actives: nothing to compare against here
      return reply;
    }
    if (!announced_ || announced_->box != box || announced_->version != version ||
        announced_->sha256 != sha) {
      const bool wasDivergent = divergence().has_value();
      announced_ = Announced{box, version, sha, nowText()};
      saveState();
      if (!same && !wasDivergent) {
        host_.record("ha.policy.divergent", "failed",
                     {{"peer", box}, {"peer_version", version},
                      {"version", run ? json(run->meta.version) : json(nullptr)}});
      }
    }
    reply["state"] = same ? "in-sync" : "divergent";
    return reply;
  }
  if (type == MsgType::Flush) {
    // `lbgctl certs flush` on the active. Forgetting verdicts only ever makes the next
    // connection be checked again (fail-safe), so this box forgets all it holds: its ledger
    // does not list the synced ones, the active's selection cannot be matched here.
    if (!req.contains("flush") || !req["flush"].is_object() || req["flush"].dump().size() > 4096) {
      malformed = true;
      return {};
    }
    ++counters_.ha_certs_flush_received;
    Result<size_t> n = Error{"this box is active; it takes no flush from " + box};
    if (!host_.active() && host_.flushCerts) n = host_.flushCerts();
    reply["ok"] = n.ok();
    if (!n) {
      reply["error"] = n.error().toString();
    } else {
      reply["flushed"] = *n;
    }
    host_.record("ha.certs.flushed", n ? "ok" : "failed",
                 {{"peer", box},
                  {"selection", req["flush"]},
                  {"flushed", n ? json(*n) : json(nullptr)},
                  {"error", n ? json(nullptr) : json(n.error().toString())}});
    return reply;
  }
  // Push: a version to enforce here.
  ++counters_.ha_policy_received;
  auto meta = VersionMeta::fromJson(req.value("meta", json()));
  if (!meta || !req.contains("yaml") || !req["yaml"].is_string()) {
    malformed = true;
    return {};
  }
  Result<json> adopted = Error{"this box is active; it takes no policy from " + box};
  if (!host_.active()) {
    // The IDS rule files first: the version's validation reads them (carried_rules.h).
    Result<size_t> rules = size_t{0};
    if (req.contains("rules")) {
      rules = host_.adoptRules ? host_.adoptRules(req["rules"])
                               : Result<size_t>(Error{"this box cannot store rule files"});
    }
    if (!rules) {
      ++counters_.ha_policy_rules_refused;
      adopted = Error{"IDS rule files: " + rules.error().toString()};
    } else {
      counters_.ha_policy_rules_stored += *rules;
      adopted = host_.adopt(*meta, req["yaml"].get_ref<const std::string&>(), box);
    }
  }
  const auto after = host_.running();
  reply["version"] = after ? json(after->meta.version) : json(nullptr);
  reply["sha256"] = after ? json(after->meta.sha256) : json(nullptr);
  if (!adopted) {
    ++counters_.ha_policy_rejected;
    refusedHere_ = adopted.error().toString();
    reply["ok"] = false;
    reply["error"] = refusedHere_;
    host_.record("ha.policy.refused", "failed",
                 {{"peer", box}, {"peer_version", meta->version}, {"error", refusedHere_}});
    return reply;
  }
  ++counters_.ha_policy_adopted;
  refusedHere_.clear();
  // A change of the policy this box enforces: in its own sealed log, as a commit would be.
  host_.record("ha.policy.adopted", "ok",
               {{"peer", box}, {"version", meta->version}, {"sha256", meta->sha256},
                {"author", meta->author}, {"message", meta->message}});
  // The active's word that this is its version now.
  announced_ = Announced{box, meta->version, meta->sha256, nowText()};
  saveState();
  reply["ok"] = true;
  reply["result"] = *adopted;
  return reply;
}

void PolicySync::startExchange(MsgType type, std::string body, std::chrono::milliseconds timeout) {
  auto x = std::make_unique<Exchange>();
  x->type = type;
  x->body = std::move(body);
  x->deadline = Clock::now() + timeout;
  x->fd = ::socket(config_.peer.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (x->fd < 0) {
    x->fail(errnoText("socket"));
  } else {
    // From this box's HA address (port chosen by the kernel), so that it leaves by the HA link.
    sockaddr_storage src = config_.local;
    if (src.ss_family == AF_INET) reinterpret_cast<sockaddr_in&>(src).sin_port = 0;
    if (src.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6&>(src).sin6_port = 0;
    if (::bind(x->fd, reinterpret_cast<const sockaddr*>(&src), config_.localLen) != 0) {
      x->fail(errnoText("bind"));
    } else if (::connect(x->fd, reinterpret_cast<const sockaddr*>(&config_.peer),
                         config_.peerLen) != 0 &&
               errno != EINPROGRESS) {
      x->fail(errnoText("connect"));
    }
  }
  outbound_ = std::move(x);
}

json PolicySync::readReply(Exchange& x) {
  if (!x.ok) return json();
  json reply = json::parse(x.reply, nullptr, false);
  if (!reply.is_object() || !isBoxName(reply.value("box", json()))) {
    ++counters_.ha_policy_malformed;
    x.ok = false;
    x.error = "the peer's reply was malformed";
  }
  return reply;
}

void PolicySync::finishExchange() {
  std::unique_ptr<Exchange> x = std::move(outbound_);
  if (x->authFailed) ++counters_.ha_policy_auth_failed;
  if (x->malformed) ++counters_.ha_policy_malformed;
  const json reply = readReply(*x);
  if (!x->ok) {
    ++counters_.ha_policy_unreachable;
    peerUnreachable(x->error);
    return;
  }
  peerReached();
  if (x->type == MsgType::Announce) {
    ++counters_.ha_policy_announced;
    onAnnounceReply(reply);
  } else {
    onPushReply(*x, reply);
  }
}

void PolicySync::onAnnounceReply(const json& reply) {
  notePeer(reply);
  if (reply.value("state", "") != "divergent") return;
  const auto run = host_.running();
  if (!run) return;
  // A standby that refused this version while it ran what it runs now would refuse it again.
  if (peer_.refusedVersion == run->meta.version && peer_.refusedPeerSha == peer_.sha256) return;
  // The standby missed a version (it was down, or it came back from a restore): bring it up to
  // date with the running one.
  ++counters_.ha_policy_pushed;
  auto body = pushBody(run->meta, run->yaml);
  if (!body) {
    // Not sendable (a rule file unreadable or edited here): said once, like a refusal.
    ++counters_.ha_policy_refused;
    peer_.error = body.error().toString();
    peer_.refusedVersion = run->meta.version;
    peer_.refusedPeerSha = peer_.sha256;
    host_.record("ha.policy.replicated", "failed",
                 {{"peer", peer_.box}, {"version", run->meta.version}, {"reason", "catch-up"},
                  {"error", peer_.error}});
    return;
  }
  startExchange(MsgType::Push, std::move(*body), config_.pushTimeout);
  outbound_->version = run->meta.version;
}

void PolicySync::onPushReply(const Exchange& x, const json& reply) {
  notePeer(reply);
  if (reply.value("ok", false)) {
    ++counters_.ha_policy_acked;
    peer_.refusedVersion = 0;
    peer_.error.clear();
    host_.record("ha.policy.replicated", "ok",
                 {{"peer", peer_.box}, {"version", x.version}, {"reason", "catch-up"}});
    return;
  }
  ++counters_.ha_policy_refused;
  peer_.error = refusal(reply);
  peer_.refusedVersion = x.version;
  peer_.refusedPeerSha = peer_.sha256;
  host_.record("ha.policy.replicated", "failed",
               {{"peer", peer_.box}, {"version", x.version}, {"reason", "catch-up"},
                {"error", peer_.error}});
}

void PolicySync::peerUnreachable(const std::string& why) {
  // Once per change, not per retry: the announcement is retried every second.
  if (peer_.reachable || peer_.error.empty()) {
    host_.record("ha.policy.peer", "failed", {{"peer", config_.peerText}, {"error", why}});
  }
  peer_.reachable = false;
  peer_.error = why;
}

void PolicySync::peerReached() {
  if (!peer_.reachable) {
    host_.record("ha.policy.peer", "ok", {{"peer", config_.peerText}});
    peer_.error.clear();
  }
  peer_.reachable = true;
  peer_.everReached = true;
  peer_.lastContact = nowText();
}

void PolicySync::notePeer(const json& reply) {
  peer_.box = reply["box"].get<std::string>();
  const json& v = reply.contains("version") ? reply["version"] : json();
  peer_.version = v.is_number_unsigned() ? v.get<uint64_t>() : 0;
  const json& h = reply.contains("sha256") ? reply["sha256"] : json();
  peer_.sha256 = h.is_string() ? h.get<std::string>() : "";
}

Result<std::string> PolicySync::pushBody(const VersionMeta& meta, const std::string& yaml) const {
  json body = {{"box", config_.self}, {"meta", meta.toJson()}, {"yaml", yaml}};
  if (host_.carryRules) {
    auto rules = host_.carryRules(yaml);
    if (!rules) return Error{"cannot replicate its IDS rule files: " + rules.error().toString()};
    body["rules"] = std::move(*rules);
  }
  std::string out = body.dump(-1, ' ', false, json::error_handler_t::replace);
  if (out.size() > psync::kMaxBody)
    return Error{"version " + std::to_string(meta.version) + " with its IDS rule files is " +
                 std::to_string(out.size() >> 20) + " MiB, more than policy sync carries"};
  return out;
}

std::unique_ptr<PolicySync::Exchange> PolicySync::runExchange(MsgType type, std::string body,
                                                              std::chrono::milliseconds timeout) {
  // An announcement under way is dropped (it is sent again in a second).
  outbound_.reset();
  startExchange(type, std::move(body), timeout);
  Exchange& x = *outbound_;
  while (x.state != Exchange::State::Done) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(x.deadline - Clock::now());
    if (left.count() <= 0) {
      x.fail("no answer from " + config_.peerText + " within " +
             std::to_string(timeout.count()) + " ms");
      break;
    }
    pollfd p{x.fd, x.events(), 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) {
      x.fail(errnoText("poll"));
      break;
    }
    if (n > 0) x.advance(config_.key, p.revents);
  }
  nextAnnounce_ = Clock::now() + config_.announceInterval;
  return std::move(outbound_);
}

json PolicySync::request(MsgType type, std::string body, std::string& unreachable) {
  std::unique_ptr<Exchange> done = runExchange(type, std::move(body), config_.pushTimeout);
  if (done->authFailed) ++counters_.ha_policy_auth_failed;
  json reply = readReply(*done);
  if (!done->ok) {
    ++counters_.ha_policy_unreachable;
    peerUnreachable(done->error);
    unreachable = "standby at " + config_.peerText + " unreachable: " + done->error;
    return json();
  }
  peerReached();
  notePeer(reply);
  return reply;
}

PolicySync::FlushResult PolicySync::flushPeer(const json& what) {
  ++counters_.ha_certs_flush_sent;
  FlushResult r;
  const json reply = request(MsgType::Flush,
                             json{{"box", config_.self}, {"flush", what}}.dump(
                                 -1, ' ', false, json::error_handler_t::replace),
                             r.detail);
  if (reply.is_null()) return r;
  if (!reply.value("ok", false)) {
    r.detail = refusal(reply);
    return r;
  }
  const json& n = reply.contains("flushed") ? reply["flushed"] : json();
  r.ok = true;
  r.flushed = n.is_number_unsigned() ? n.get<size_t>() : 0;
  r.detail = peer_.box;
  return r;
}

PolicySync::PushResult PolicySync::push(const VersionMeta& meta, const std::string& yaml) {
  ++counters_.ha_policy_pushed;
  auto body = pushBody(meta, yaml);
  if (!body) {
    // The standby could not enforce the same rule set: as if it refused (the commit fails).
    ++counters_.ha_policy_refused;
    PushResult r;
    r.kind = PushResult::Kind::Refused;
    r.detail = body.error().toString();
    return r;
  }
  PushResult r;
  const json reply = request(MsgType::Push, std::move(*body), r.detail);
  if (reply.is_null()) return r;
  if (reply.value("ok", false)) {
    ++counters_.ha_policy_acked;
    r.kind = PushResult::Kind::Acked;
    r.detail = peer_.box;
    return r;
  }
  ++counters_.ha_policy_refused;
  r.kind = PushResult::Kind::Refused;
  r.detail = refusal(reply);
  peer_.error = r.detail;
  return r;
}

json PolicySync::status() const {
  const auto run = host_.running();
  json out = {{"local", config_.localText}, {"peer", config_.peerText}};
  const auto div = divergence();
  if (host_.active()) {
    std::string state = "unknown";
    if (!peer_.reachable) {
      state = peer_.everReached || !peer_.error.empty() ? "unreachable" : "unknown";
    } else if (run && peer_.version == run->meta.version && peer_.sha256 == run->meta.sha256) {
      state = "in-sync";
    } else if (peer_.refusedVersion) {
      state = "refused";
    } else {
      state = "catching-up";
    }
    out["state"] = state;
  } else {
    out["state"] = div ? "divergent" : announced_ ? "in-sync" : "no-announcement";
  }
  out["peer_box"] = peer_.box.empty() ? json(nullptr) : json(peer_.box);
  out["peer_version"] = peer_.everReached ? json(peer_.version) : json(nullptr);
  out["peer_reachable"] = peer_.reachable;
  out["last_contact"] = peer_.lastContact.empty() ? json(nullptr) : json(peer_.lastContact);
  out["error"] = peer_.error.empty() ? json(nullptr) : json(peer_.error);
  out["announced"] = announced_ ? json{{"box", announced_->box},
                                       {"version", announced_->version},
                                       {"sha256", announced_->sha256},
                                       {"at", announced_->at}}
                                : json(nullptr);
  out["divergence"] = div ? json(*div) : json(nullptr);
  json counts = json::object();
  counters_.forEach([&](const telemetry::CounterInfo& info, uint64_t v) { counts[std::string(info.name)] = v; });
  out["counters"] = counts;
  return out;
}

}  // namespace lbg::control
