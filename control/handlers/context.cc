#include "control/handlers/context.h"

#include <ctime>

#include "control/ismap.h"
#include "control/proxy_stats.h"
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

Outcome CommandContext::goLive(uint64_t version, std::shared_ptr<const policy::Snapshot> compiled) {
  Result<std::shared_ptr<const policy::Snapshot>> snap = Error{""};
  if (compiled && compiled->version() == version) {
    snap = std::move(compiled);
  } else {
    auto v = store_->show(version);
    if (!v) return err(ErrorCode::NotFound, v.error());
    auto c = validated(v->yaml, "version " + std::to_string(version), today());
    snap = c ? policy::Snapshot::create((*c)->doc, version)
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

Outcome CommandContext::commitText(const Caller& c, const std::string& yaml,
                                   const std::string& message, uint64_t rollbackOf) {
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
    auto snap = policy::Snapshot::create(cand->doc, store_->nextVersion());
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
  auto out = goLive(m->version, std::move(compiled));
  if (!rollbackOf) (void)store_->discardCandidate();
  return out;
}

}  // namespace lbg::control
