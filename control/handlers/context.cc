#include "control/handlers/context.h"

#include <ctime>

#include "control/handlers/handlers.h"
#include "control/ids_rules.h"
#include "control/ismap.h"
#include "control/proxy_stats.h"
#include "control/sha256.h"
#include "policy/snapshot.h"

namespace lbg::control {

using nlohmann::json;

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const time_t secs = std::chrono::system_clock::to_time_t(t);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() % 1000000;
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[48];
  const size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof(buf) - n, ".%06lldZ", static_cast<long long>(micros));
  return buf;
}

std::vector<dataplane::ControlApi::Counter> CommandContext::counters() const {
  auto out = api_.counters();
  if (policySync_) {
    // Shown in the dataplane's `ha` section, under the heading it declares.
    std::string title = "冗長化 / redundancy";
    for (const auto& c : out) {
      if (c.section == "ha") title = c.sectionTitle;
    }
    const auto add = [&](const telemetry::CounterInfo& info, uint64_t v, bool gauge) {
      out.push_back({std::string(info.name), std::string(info.help), v, gauge, "ha", title});
    };
    policySync_->gauges().forEach(
        [&](const telemetry::CounterInfo& info, uint64_t v) { add(info, v, true); });
    policySync_->counters().forEach(
        [&](const telemetry::CounterInfo& info, uint64_t v) { add(info, v, false); });
  }
  if (!config_.proxyStatsFile.empty()) {
    for (auto& c : readProxyCounters(config_.proxyStatsFile)) out.push_back(std::move(c));
  }
  return out;
}

std::chrono::sys_days CommandContext::today() const {
  return localDate(config_.clock());
}

std::string CommandContext::candidateText() const {
  if (auto c = store_->candidate()) return *c;
  if (auto r = store_->running()) return r->yaml;
  return emptyPolicyYaml();
}

Result<ValidationCache::Ptr> CommandContext::validated(const std::string& yaml,
                                                       const std::string& fileName,
                                                       std::chrono::sys_days day) const {
  return validateCached(validations_, yaml, fileName, day);
}

Result<ValidationCache::Ptr> CommandContext::runningCandidate() const {
  auto r = store_->running();
  if (!r) return Error{"no policy has been committed yet"};
  // For reading only (listing, diff, approval flag, expiry warnings): judged as of the epoch, so
  // that a registration that lapsed since the commit does not hide what the policy says.
  // Anything that publishes validates again with today's date.
  return validated(r->yaml, "version " + std::to_string(r->meta.version), std::chrono::sys_days{});
}

Outcome CommandContext::storeCandidate(Result<Candidate> c, const std::string& what) {
  if (!c) return invalid(c.error());
  if (auto w = store_->setCandidate(c->yaml); !w) return err(ErrorCode::Internal, w.error());
  const size_t services = c->doc.services.size();
  // Validated just now: the commit that follows need not parse nor compile it again. A compile
  // error is left for validate/commit to report, as before.
  auto snap = policy::Snapshot::create(c->doc, store_->nextVersion());
  prepared_ = snap ? Prepared{c->yaml, *snap} : Prepared{};
  const std::string text = c->yaml;
  validations_.insert(text, today(), std::make_shared<const Candidate>(std::move(*c)));
  return json{{"changed", what}, {"services", services}};
}

Result<std::shared_ptr<const policy::Snapshot>> CommandContext::compile(
    const policy::PolicyDoc& doc, uint64_t version) const {
  if (auto v = verifyStoredRules(doc, store_->rulesDir()); !v) return v.error();
  return policy::Snapshot::create(doc, version);
}

Outcome CommandContext::goLive(uint64_t version, std::shared_ptr<const policy::Snapshot> compiled) {
  Result<std::shared_ptr<const policy::Snapshot>> snap = Error{""};
  if (compiled && compiled->version() == version) {
    snap = std::move(compiled);
    // The rules a version names must be the text it was approved with (ids load).
    if (auto v = verifyStoredRules(snap.value()->doc(), store_->rulesDir()); !v) snap = v.error();
  } else {
    auto v = store_->show(version);
    if (!v) return err(ErrorCode::NotFound, v.error());
    auto c = validated(v->yaml, "version " + std::to_string(version), today());
    snap = c ? compile((*c)->doc, version)
             : Result<std::shared_ptr<const policy::Snapshot>>(c.error());
  }
  if (!snap) {
    (void)store_->fail(version, snap.error().toString());
    return invalid(snap.error());
  }
  // The snapshot being replaced is freed after the enforcement time is taken and the answer is
  // built, not inside publish() (freeing 10,000 services takes milliseconds).
  const auto previous = api_.current();
  if (auto p = api_.publish(*snap); !p) {
    (void)store_->fail(version, p.error().toString());
    return err(ErrorCode::Unavailable,
               Error{"publish failed; the previous policy stays in force: " + p.error().message});
  }
  // publish() returns once every worker has taken the new snapshot: from here on every packet
  // is judged by this version. Reported so that commit-to-enforced latency can be measured.
  const auto enforcedAt = std::chrono::system_clock::now();
  auto m = store_->activate(version);
  if (!m) {
    // The dataplane runs it but the store could not record it: report loudly, the next start
    // republishes the last recorded version.
    return err(ErrorCode::Internal, Error{"published but not recorded: " + m.error().toString()});
  }
  return json{{"version", version},
              {"state", toString(m->state)},
              {"sha256", m->sha256},
              {"received_at", rfc3339(received_)},
              {"enforced_at", rfc3339(enforcedAt)}};
}

std::optional<ApiError> CommandContext::refuseOnStandby() const {
  if (!policySync_ || api_.haRole() == dataplane::HaRole::Active) return std::nullopt;
  return err(ErrorCode::Conflict,
             "this box is the standby of an HA pair with policy sync: commit on the active box (" +
                 policySync_->config().peerText +
                 "); its commits are replicated here (to change the policy here anyway, make "
                 "this box active first: lbgctl ha active)");
}

Outcome CommandContext::replicateAndGoLive(const VersionMeta& meta, const std::string& yaml,
                                           std::shared_ptr<const policy::Snapshot> compiled) {
  if (!policySync_) return goLive(meta.version, std::move(compiled));
  const auto r = policySync_->push(meta, yaml);
  using Kind = PolicySync::PushResult::Kind;
  const std::string peer = policySync_->config().peerText;
  json rec = {{"peer", peer}, {"version", meta.version}, {"reason", "commit"}};
  if (r.kind == Kind::Refused) {
    // The standby validated it differently or cannot store it: nothing changes anywhere, the
    // previous version stays in force on both boxes.
    const std::string why = "refused by the standby (" + peer + "): " + r.detail;
    (void)store_->fail(meta.version, why);
    rec["error"] = why;
    api_.logEvent(handlers::haRecord(config_.clock(), "lbg-gateway", "ha.policy.replicated", "failed", rec));
    return err(ErrorCode::Conflict, "version " + std::to_string(meta.version) + " " + why +
                                        "; not enforced, the previous version stays in force on "
                                        "both boxes");
  }
  if (r.kind == Kind::Unreachable) {
    rec["error"] = r.detail;
    api_.logEvent(handlers::haRecord(config_.clock(), "lbg-gateway", "ha.policy.replicated", "failed", rec));
  } else {
    rec["peer_box"] = r.detail;
    api_.logEvent(handlers::haRecord(config_.clock(), "lbg-gateway", "ha.policy.replicated", "ok", rec));
  }
  auto out = goLive(meta.version, std::move(compiled));
  if (auto* j = std::get_if<json>(&out)) {
    if (r.kind == Kind::Acked) {
      (*j)["replicated"] = {{"peer", r.detail}, {"address", peer}, {"version", meta.version}};
    } else {
      (*j)["replicated"] = false;
      (*j)["warnings"] = json::array(
          {"NOT REPLICATED: " + r.detail + ". Version " + std::to_string(meta.version) +
           " is enforced on this box only; the standby is brought up to date when it answers "
           "again, and runs its older version until then"});
    }
  }
  return out;
}

Result<json> CommandContext::adoptFromPeer(const VersionMeta& meta, const std::string& yaml,
                                           const std::string& box) {
  const std::string what = "version " + std::to_string(meta.version) + " from " + box;
  if (sha256Hex(yaml) != meta.sha256) return Error{what + ": the text does not match its sha256"};
  if (auto have = store_->show(meta.version)) {
    if (have->meta.sha256 != meta.sha256) {
      return Error{"this box has its own version " + std::to_string(meta.version) +
                   " with another text (sha256 " + have->meta.sha256 +
                   "); restore a backup of the active box here (lbgctl backup there, lbgctl "
                   "restore here)"};
    }
    const auto run = store_->running();
    if (run && run->meta.version == meta.version) {
      return json{{"version", meta.version}, {"state", "active"}, {"already", true}};
    }
    if (have->meta.state != VersionState::Staged) {
      return Error{what + " is " + toString(have->meta.state) +
                   " here and an older or other version runs; restore a backup of the active "
                   "box here (lbgctl backup there, lbgctl restore here)"};
    }
  } else {
    // The same validation as a commit here, today's date included.
    auto c = validated(yaml, what, today());
    if (!c) return c.error();
    auto snap = policy::Snapshot::create((*c)->doc, meta.version);
    if (!snap) return snap.error();
    auto m = store_->adopt(meta, yaml, "replicated from " + box);
    if (!m) return m.error();
    auto out = goLive(meta.version, *snap);
    if (auto* e = std::get_if<ApiError>(&out)) return e->error;
    return std::get<json>(out);
  }
  auto out = goLive(meta.version);
  if (auto* e = std::get_if<ApiError>(&out)) return e->error;
  return std::get<json>(out);
}

Outcome CommandContext::commitText(const Caller& c, const std::string& yaml,
                                   const std::string& message, uint64_t rollbackOf) {
  if (auto refused = refuseOnStandby()) return *refused;
  auto validatedCand =
      validated(yaml, rollbackOf ? "version " + std::to_string(rollbackOf) : "candidate", today());
  if (!validatedCand) return invalid(validatedCand.error());
  const ValidationCache::Ptr cand = *validatedCand;
  // Compile before recording anything, numbered as the version it will be; the candidate was
  // usually compiled already when it was stored.
  std::shared_ptr<const policy::Snapshot> compiled;
  if (prepared_.snapshot && prepared_.snapshot->version() == store_->nextVersion() &&
      prepared_.yaml == cand->yaml) {
    compiled = prepared_.snapshot;
  } else {
    auto snap = compile(cand->doc, store_->nextVersion());
    if (!snap) return invalid(snap.error());
    compiled = *snap;
  }
  prepared_ = Prepared{};
  bool needsApproval = cand->doc.approvalRequired;
  if (auto run = store_->running()) {
    if (run->yaml == cand->yaml)
      return err(ErrorCode::Conflict, "no changes: the policy equals running version " +
                                          std::to_string(run->meta.version));
    // A commit that switches approval off still needs the approval the running policy demands.
    if (auto r = runningCandidate(); r && (*r)->doc.approvalRequired) needsApproval = true;
  }
  for (const auto& h : store_->history()) {
    if (h.state == VersionState::Pending) {
      return err(ErrorCode::Conflict, "version " + std::to_string(h.version) +
                                          " is waiting for approval; approve or reject it first");
    }
  }
  auto m = store_->add(cand->yaml, c.label, message, needsApproval, rollbackOf);
  if (!m) return err(ErrorCode::Internal, m.error());
  if (needsApproval) {
    if (!rollbackOf) (void)store_->discardCandidate();
    return json{{"version", m->version},
                {"state", "pending"},
                {"sha256", m->sha256},
                {"message", "waiting for approval by a different user with role approver"}};
  }
  auto out = replicateAndGoLive(*m, cand->yaml, std::move(compiled));
  if (!rollbackOf) (void)store_->discardCandidate();
  return out;
}

}  // namespace lbg::control
