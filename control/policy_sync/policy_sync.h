#pragma once

// Policy sync of an HA pair (control/policy_sync/README.md; issue 14): the control plane of the
// active box replicates each version it is about to enforce to the standby, which validates it
// with the same validation, stores it under the same number and enforces it before it answers;
// the active announces its running version every second, and pushes it again to a standby that
// runs another one (one that was down during a commit catches up). A standby that runs another
// version than the one the active last announced says so in `ha health` (policy-divergent), so
// keepalived does not make it master silently.
//
// Runs on the gateway's service thread, like the control server: non-blocking sockets polled on
// each loop turn, except push(), which a commit calls and which waits (bounded) for the answer.
// The HA link is untrusted input: codec.h (HMAC-SHA256 under the pair's key, per-connection
// nonces, nothing parsed before the MAC verified).

#include <sys/socket.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/policy_sync/codec.h"
#include "control/policy_sync/counters.h"
#include "control/store.h"
#include "policy/base/result.h"

namespace lbg::control {

struct PolicySyncConfig {
  std::string self;  // this box's name (its appliance_id), as the peer reports it
  sockaddr_storage local{}, peer{};
  socklen_t localLen = 0, peerLen = 0;
  std::string localText, peerText;  // "ADDR:PORT", for status and messages
  std::string key;                  // the pair's shared key (ha.sync.key_file)
  // Where the active's last announcement is kept, so that a restarted standby still knows it
  // diverged; empty: memory only.
  std::string stateFile;
  std::chrono::milliseconds announceInterval{1000};
  std::chrono::milliseconds exchangeTimeout{2000};  // an announcement or a catch-up
  std::chrono::milliseconds pushTimeout{5000};      // a commit's push (the peer parses it)
};

class PolicySync {
 public:
  using Clock = std::chrono::steady_clock;
  // What the sync needs of the box it runs in (the command context), all on the service thread.
  struct Host {
    std::function<bool()> active;                        // this box's HA role is active
    std::function<std::optional<StoredVersion>()> running;  // the version this box enforces
    // Validates, stores and enforces a version the active sent; the answer's JSON, or why not.
    std::function<Result<nlohmann::json>(const VersionMeta&, const std::string& yaml,
                                          const std::string& fromBox)>
        adopt;
    // The IDS rule files `yaml` names, as carried with a push (carried_rules.h), or why that
    // version cannot be replicated.
    std::function<Result<nlohmann::json>(const std::string& yaml)> carryRules;
    // Stores the rule files a push carried, once checked (before `adopt`); how many, or why not.
    std::function<Result<size_t>(const nlohmann::json& rules)> adoptRules;
    // `lbgctl certs flush` on the active: forgets every certificate verdict here (this box's
    // ledger does not list the synced ones, so the active's selection cannot be matched); how
    // many ledger rows, or why not.
    std::function<Result<size_t>()> flushCerts;
    // One record of the sealed log: action ("ha.policy", ...), result, details.
    std::function<void(const std::string&, const std::string&, const nlohmann::json&)> record;
  };

  static Result<std::unique_ptr<PolicySync>> create(PolicySyncConfig config, Host host);
  ~PolicySync();
  PolicySync(const PolicySync&) = delete;
  PolicySync& operator=(const PolicySync&) = delete;

  // One turn of the service loop: answers the peer, announces when due, pushes a catch-up.
  void poll();

  struct PushResult {
    enum class Kind { Acked, Refused, Unreachable } kind = Kind::Unreachable;
    std::string detail;  // the peer's refusal, or why it could not be reached
  };
  // Sends `meta` / `yaml` to the peer and waits (pushTimeout at most) for its answer. Only an
  // Acked version is enforced on the peer.
  PushResult push(const VersionMeta& meta, const std::string& yaml);

  // `lbgctl certs flush` on the active: the standby forgets the verdicts it received by sync
  // (all of them: it cannot tell which were selected), waiting (pushTimeout at most) for its
  // answer. `what` is the active's selection, for the standby's log.
  struct FlushResult {
    bool ok = false;
    size_t flushed = 0;
    std::string detail;  // the peer's box when ok, else why not
  };
  FlushResult flushPeer(const nlohmann::json& what);

  // "policy-divergent: local N, peer M (box)..." while this box is standby and runs another
  // version than the active last announced; nullopt otherwise (no announcement heard: a peer
  // that never spoke cannot be compared with, and a lone box must still take over).
  std::optional<std::string> divergence() const;
  // This box became active: it is now the one that announces; the old announcement is void.
  void becameActive();

  nlohmann::json status() const;
  const PolicySyncCounters& counters() const { return counters_; }
  PolicySyncGauges gauges() const;
  const PolicySyncConfig& config() const { return config_; }

 private:
  struct Exchange;
  struct Inbound;
  struct Announced {
    std::string box;
    uint64_t version = 0;
    std::string sha256;
    std::string at;  // RFC 3339, when heard
  };
  PolicySync(PolicySyncConfig config, Host host);
  Result<Ok> listen();
  void loadState();
  void saveState();
  void acceptAll();
  void serve(Inbound& c);
  // The answer to an authenticated request (a Reply body).
  nlohmann::json answer(psync::MsgType type, std::string_view body, bool& malformed);
  // Runs one exchange to its end on this thread (a commit's push, a flush): bounded by `timeout`.
  std::unique_ptr<Exchange> runExchange(psync::MsgType type, std::string body,
                                        std::chrono::milliseconds timeout);
  // runExchange within pushTimeout, then the peer's bookkeeping (reached or unreachable, its box
  // and version): the reply object, or null with `unreachable` set.
  nlohmann::json request(psync::MsgType type, std::string body, std::string& unreachable);
  void startExchange(psync::MsgType type, std::string body, std::chrono::milliseconds timeout);
  void finishExchange();
  // The peer's reply of a finished exchange: a JSON object naming its box, or the exchange is
  // marked failed as malformed (counted).
  nlohmann::json readReply(Exchange& x);
  void onAnnounceReply(const nlohmann::json& reply);
  void onPushReply(const Exchange& x, const nlohmann::json& reply);
  void peerUnreachable(const std::string& why);
  void peerReached();
  void notePeer(const nlohmann::json& reply);  // the peer's box, version and hash
  Result<std::string> pushBody(const VersionMeta& meta, const std::string& yaml) const;

  PolicySyncConfig config_;
  Host host_;
  int listenFd_ = -1;
  std::vector<std::unique_ptr<Inbound>> inbound_;
  std::unique_ptr<Exchange> outbound_;
  Clock::time_point nextAnnounce_{};
  PolicySyncCounters counters_;
  // What the active peer last announced (this box standby), and why this box refused its push.
  std::optional<Announced> announced_;
  std::string refusedHere_;
  // What the peer answered this box (active): its version, and how the last push went.
  struct PeerView {
    std::string box;
    uint64_t version = 0;
    std::string sha256;
    bool reachable = false;
    bool everReached = false;
    std::string lastContact;
    std::string error;  // why it is unreachable, or why it refused
    uint64_t refusedVersion = 0;  // a catch-up of this version was refused...
    std::string refusedPeerSha;   // ...while the peer ran this: not pushed again until it changes
  } peer_;
};

}  // namespace lbg::control
