#include "control/dispatcher.h"

#include <algorithm>
#include <ctime>

#include "control/asp_csv_import.h"
#include "control/atomic_file.h"
#include "control/diff.h"
#include "control/ismap.h"
#include "control/m365_import.h"
#include "control/prometheus.h"
#include "control/sha256.h"
#include "control/verdict_diff.h"
#include "policy/snapshot.h"

namespace lbg::control {

namespace {

using nlohmann::json;

// Arguments longer than this are logged as a digest: file contents (backups, catalogues) belong
// in the store, the log records which content it was.
constexpr size_t kMaxLoggedArg = 512;
constexpr size_t kMaxFileArg = 64u << 20;

ApiError err(ErrorCode code, Error e) {
  return ApiError{code, std::move(e)};
}
ApiError err(ErrorCode code, std::string message) {
  return ApiError{code, Error{std::move(message), "", 0, 0}};
}
ApiError invalid(const Error& e) {
  return ApiError{ErrorCode::Invalid, e};
}

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

json redact(const json& args) {
  if (args.is_string()) {
    const auto& s = args.get_ref<const std::string&>();
    if (s.size() <= kMaxLoggedArg) return args;
    return {{"sha256", sha256Hex(s)}, {"bytes", s.size()}};
  }
  if (args.is_object() || args.is_array()) {
    json out = args.is_object() ? json::object() : json::array();
    for (auto it = args.begin(); it != args.end(); ++it) {
      if (args.is_object()) {
        out[it.key()] = redact(*it);
      } else {
        out.push_back(redact(*it));
      }
    }
    return out;
  }
  return args;
}

json serviceJson(const policy::ServiceSpec& s) {
  json j = {{"name", s.name},
            {"kind", policy::toString(s.kind)},
            {"fqdn", s.fqdns},
            {"cidr", json::array()},
            {"ports", json::array()},
            {"intercept", s.intercept},
            {"description", s.description}};
  for (const auto& p : s.cidrs) j["cidr"].push_back(p.toString());
  for (const auto& p : s.ports) j["ports"].push_back(policy::toString(p));
  if (s.ismap) j["ismap"] = {{"id", s.ismap->id}, {"expires", s.ismap->expires}};
  return j;
}

// Dotted-path lookup in a flow row: "tls.sni", "policy.service".
const json* lookup(const json& row, const std::string& path) {
  const json* cur = &row;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = std::min(path.find('.', start), path.size());
    const std::string key = path.substr(start, dot - start);
    if (!cur->is_object() || !cur->contains(key)) return nullptr;
    cur = &(*cur)[key];
    start = dot + 1;
  }
  return cur;
}

const char* measureOf(std::string_view action) {
  if (action.rfind("policy.", 0) == 0 || action == "restore") return "AP-PROCEDURE";
  return "AP-PRIV";
}

}  // namespace

Result<std::unique_ptr<Dispatcher>> Dispatcher::create(Config config, dataplane::ControlApi& api) {
  if (!config.clock) config.clock = [] { return std::chrono::system_clock::now(); };
  std::unique_ptr<Dispatcher> d(new Dispatcher(std::move(config), api));
  if (auto r = d->startUp(); !r) return r.error();
  return d;
}

Result<Ok> Dispatcher::startUp() {
  auto roles = Roles::load(config_.rolesFile);
  if (!roles) return roles.error();
  roles_ = std::move(*roles);
  auto store = PolicyStore::open(config_.storeDir);
  if (!store) return store.error();
  store_ = std::move(*store);
  problems_ = store_->problems();
  if (!store_->running() && store_->history().empty() && !config_.bootstrapPolicyFile.empty()) {
    auto text = readFileLimited(config_.bootstrapPolicyFile, kMaxFileArg);
    if (!text) return text.error();
    auto c = validateCandidate(*text, config_.bootstrapPolicyFile, today());
    if (!c) return c.error();
    auto m = store_->add(c->yaml, "bootstrap", "initial policy from " + config_.bootstrapPolicyFile,
                         false);
    if (!m) return m.error();
    if (auto live = goLive(m->version); std::holds_alternative<ApiError>(live)) {
      return std::get<ApiError>(live).error;
    }
  } else if (auto run = store_->running()) {
    const auto cur = api_.current();
    if (!cur || cur->version() != run->meta.version) {
      auto c =
          validateCandidate(run->yaml, "version " + std::to_string(run->meta.version), today());
      Result<std::shared_ptr<const policy::Snapshot>> snap =
          c ? policy::Snapshot::create(c->doc, run->meta.version)
            : Result<std::shared_ptr<const policy::Snapshot>>(c.error());
      if (!snap) {
        problems_.push_back(
            Error{"running version " + std::to_string(run->meta.version) +
                  " no longer validates and was not published: " + snap.error().toString()});
      } else if (auto p = api_.publish(*snap); !p) {
        problems_.push_back(Error{"publishing version " + std::to_string(run->meta.version) +
                                  " failed: " + p.error().toString()});
      }
    }
  }
  for (const auto& p : problems_) {
    api_.logEvent(json({{"timestamp", rfc3339(config_.clock())},
                        {"event_type", "admin"},
                        {"admin",
                         {{"user", "lbg-gateway"},
                          {"action", "store.open"},
                          {"result", "problem"},
                          {"error", {{"message", p.toString()}}}}},
                        {"measure", "AP-LOG"}})
                      .dump(-1, ' ', false, json::error_handler_t::replace));
  }
  return Ok{};
}

std::chrono::sys_days Dispatcher::today() const {
  return localDate(config_.clock());
}

Dispatcher::Caller Dispatcher::identify(uint32_t uid, uint32_t gid) const {
  Caller c;
  c.id = Roles::identify(uid, gid);
  c.label = c.id.user.empty() ? "uid " + std::to_string(uid) : c.id.user;
  if (auto r = roles_.roleFor(c.id)) c.role = *r;
  return c;
}

void Dispatcher::logAdmin(const Caller& c, std::string_view action, const json& args,
                          const Outcome& outcome) {
  json a = {{"user", c.id.user.empty() ? json(nullptr) : json(c.id.user)},
            {"uid", c.id.uid},
            {"role", c.role ? json(toString(*c.role)) : json(nullptr)},
            {"action", action},
            {"args", redact(args)}};
  if (const auto* e = std::get_if<ApiError>(&outcome)) {
    a["result"] = e->code == ErrorCode::Forbidden ? "refused" : "failed";
    a["error"] = {{"code", toString(e->code)}, {"message", e->error.toString()}};
  } else {
    a["result"] = "ok";
    const json& r = std::get<json>(outcome);
    if (r.is_object() && r.contains("version")) a["version"] = r["version"];
  }
  api_.logEvent(json({{"timestamp", rfc3339(config_.clock())},
                      {"event_type", "admin"},
                      {"admin", a},
                      {"measure", measureOf(action)}})
                    .dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string Dispatcher::refuse(uint32_t uid, uint32_t gid, const ApiError& error) {
  ++refused_;
  const Caller c = identify(uid, gid);
  logAdmin(c, "(unread)", json::object(), error);
  return encodeError(error);
}

std::string Dispatcher::handle(uint32_t uid, uint32_t gid, std::string_view line, int passedFd) {
  received_ = std::chrono::system_clock::now();
  ++requests_;
  const Caller c = identify(uid, gid);
  auto parsed = parseRequest(line);
  if (auto* e = std::get_if<ApiError>(&parsed)) {
    ++refused_;
    logAdmin(c, "(malformed)", json::object(), *e);
    return encodeError(*e);
  }
  const Request& req = std::get<Request>(parsed);
  const CommandInfo* info = findCommand(req.cmd);  // parseRequest guarantees it exists
  Outcome out;
  if (!c.role) {
    auto why = roles_.roleFor(c.id);
    out = err(ErrorCode::Forbidden, why ? std::string("no role") : why.error().message);
  } else if (!roleMay(*info, *c.role)) {
    out = err(ErrorCode::Forbidden,
              std::string("role ") + toString(*c.role) + " may not run " + req.cmd);
  } else {
    out = run(c, req, passedFd);
  }
  if (std::holds_alternative<ApiError>(out)) ++refused_;
  logAdmin(c, req.cmd, req.args, out);
  if (const auto* e = std::get_if<ApiError>(&out)) return encodeError(*e);
  return encodeOk(std::get<json>(out));
}

Dispatcher::Outcome Dispatcher::run(const Caller& c, const Request& r, int passedFd) {
  const std::string& cmd = r.cmd;
  const json& a = r.args;
  if (cmd == "whoami")
    return json{{"user", c.label}, {"uid", c.id.uid}, {"role", toString(*c.role)}};
  if (cmd == "service.list") return serviceList(a);
  if (cmd == "service.show") return serviceShow(a);
  if (cmd == "service.add") return serviceAdd(a);
  if (cmd == "service.edit") return serviceEdit(a);
  if (cmd == "service.remove") return serviceRemove(a);
  if (cmd == "service.import-m365") return importM365(a);
  if (cmd == "service.import-asp") return importAsp(a);
  if (cmd == "service.expiring") return serviceExpiring(a);
  if (cmd == "policy.candidate")
    return json{{"yaml", candidateText()}, {"saved", store_->candidate().has_value()}};
  if (cmd == "policy.load") return policyLoad(a);
  if (cmd == "policy.discard") {
    if (auto d = store_->discardCandidate(); !d) return err(ErrorCode::Internal, d.error());
    return json{{"discarded", true}};
  }
  if (cmd == "policy.diff") return policyDiff();
  if (cmd == "policy.validate") return policyValidate();
  if (cmd == "policy.test") return policyTest(passedFd);
  if (cmd == "policy.commit") return policyCommit(c, a);
  if (cmd == "policy.approve") return policyApprove(c, a);
  if (cmd == "policy.reject") return policyReject(c, a);
  if (cmd == "policy.history") return policyHistory();
  if (cmd == "policy.show") return policyShow(a);
  if (cmd == "policy.rollback") return policyRollback(c, a);
  if (cmd == "status") return status(c);
  if (cmd == "stats") return stats();
  if (cmd == "flows") return flows(a);
  if (cmd == "reload") return reload();
  if (cmd == "backup") return backup();
  if (cmd == "restore") return restore(a);
  // The command table and this switch must agree; a gap is a programming error, reported, not
  // silently ignored.
  return err(ErrorCode::Internal, "command " + cmd + " has no handler");
}

// ---------------------------------------------------------------------------------------------
// candidate helpers

std::string Dispatcher::candidateText() const {
  if (auto c = store_->candidate()) return *c;
  if (auto r = store_->running()) return r->yaml;
  return emptyPolicyYaml();
}

Result<ValidationCache::Ptr> Dispatcher::validated(const std::string& yaml,
                                                   const std::string& fileName,
                                                   std::chrono::sys_days day) const {
  return validateCached(validations_, yaml, fileName, day);
}

Result<ValidationCache::Ptr> Dispatcher::runningCandidate() const {
  auto r = store_->running();
  if (!r) return Error{"no policy has been committed yet"};
  // For reading only (listing, diff, approval flag, expiry warnings): judged as of the epoch, so
  // that a registration that lapsed since the commit does not hide what the policy says.
  // Anything that publishes validates again with today's date.
  return validated(r->yaml, "version " + std::to_string(r->meta.version), std::chrono::sys_days{});
}

Dispatcher::Outcome Dispatcher::storeCandidate(Result<Candidate> c, const std::string& what) {
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

// ---------------------------------------------------------------------------------------------
// service.*

Dispatcher::Outcome Dispatcher::serviceList(const json& args) {
  const std::string which = argOptString(args, "policy").value_or("candidate");
  Result<ValidationCache::Ptr> c = Error{""};
  if (which == "candidate") {
    // Listing is reading: judged as of the epoch so that a lapsed registration does not hide
    // the list (edits and commits validate with today's date).
    c = validated(candidateText(), "candidate", std::chrono::sys_days{});
  } else if (which == "running") {
    c = runningCandidate();
  } else {
    return err(ErrorCode::Invalid, "\"policy\" must be candidate or running");
  }
  if (!c) return invalid(c.error());
  json list = json::array();
  for (const auto& s : (*c)->doc.services) list.push_back(serviceJson(s));
  return json{{"policy", which}, {"services", list}};
}

Dispatcher::Outcome Dispatcher::serviceShow(const json& args) {
  auto name = argString(args, "name");
  if (!name) return invalid(name.error());
  auto list = serviceList(args);
  if (std::holds_alternative<ApiError>(list)) return list;
  for (const auto& s : std::get<json>(list)["services"]) {
    if (s["name"] == *name) return s;
  }
  return err(ErrorCode::NotFound, "no service \"" + *name + "\"");
}

Dispatcher::Outcome Dispatcher::serviceAdd(const json& args) {
  auto d = ServiceDraft::fromJson(args);
  if (!d) return invalid(d.error());
  auto c = addService(candidateText(), *d, today());
  if (!c && c.error().message.find("already exists") != std::string::npos)
    return err(ErrorCode::Conflict, c.error());
  return storeCandidate(std::move(c), "added " + d->name);
}

Dispatcher::Outcome Dispatcher::serviceEdit(const json& args) {
  auto name = argString(args, "name");
  if (!name) return invalid(name.error());
  auto e = ServiceEdit::fromJson(args);
  if (!e) return invalid(e.error());
  auto c = editService(candidateText(), *name, *e, today());
  if (!c && c.error().message.rfind("no service", 0) == 0)
    return err(ErrorCode::NotFound, c.error());
  return storeCandidate(std::move(c), "edited " + *name);
}

Dispatcher::Outcome Dispatcher::serviceRemove(const json& args) {
  auto name = argString(args, "name");
  if (!name) return invalid(name.error());
  auto c = removeService(candidateText(), *name, today());
  if (!c && c.error().message.rfind("no service", 0) == 0)
    return err(ErrorCode::NotFound, c.error());
  return storeCandidate(std::move(c), "removed " + *name);
}

Dispatcher::Outcome Dispatcher::importM365(const json& args) {
  auto content = argString(args, "content");
  if (!content) return invalid(content.error());
  M365Options o;
  auto areas = argStringList(args, "areas");
  auto cats = argStringList(args, "categories");
  if (!areas) return invalid(areas.error());
  if (!cats) return invalid(cats.error());
  o.areas = *areas;
  o.categories = *cats;
  o.requiredOnly = args.value("required_only", false);
  o.ismapId = argOptString(args, "ismap_id").value_or("");
  o.ismapExpires = argOptString(args, "ismap_expires").value_or("");
  const std::string file = argOptString(args, "file").value_or("m365.json");
  auto imported = control::importM365(*content, file, o);
  if (!imported) return invalid(imported.error());
  if (imported->services.empty())
    return err(ErrorCode::Invalid, "no endpoint set matched the selection");
  auto c = mergeImported(candidateText(), *imported, o.namePrefix + "-", today());
  auto out = storeCandidate(
      std::move(c), "imported " + std::to_string(imported->services.size()) + " M365 services");
  if (auto* j = std::get_if<json>(&out)) {
    (*j)["imported"] = imported->services.size();
    (*j)["warnings"] = imported->warnings;
  }
  return out;
}

Dispatcher::Outcome Dispatcher::importAsp(const json& args) {
  auto content = argString(args, "content");
  if (!content) return invalid(content.error());
  const std::string file = argOptString(args, "file").value_or("asp.csv");
  auto imported = importAspCsv(*content, file);
  if (!imported) return invalid(imported.error());
  auto c = mergeImported(candidateText(), *imported, "", today());
  auto out = storeCandidate(std::move(c), "imported " + std::to_string(imported->services.size()) +
                                              " LGWAN-ASP services");
  if (auto* j = std::get_if<json>(&out)) (*j)["imported"] = imported->services.size();
  return out;
}

Dispatcher::Outcome Dispatcher::serviceExpiring(const json& args) {
  int days = config_.ismapWarnDays;
  if (args.contains("days")) {
    auto d = argUint(args, "days");
    if (!d || *d > 3650) return err(ErrorCode::Invalid, "\"days\" must be 0..3650");
    days = static_cast<int>(*d);
  }
  // The running policy is what the gateway enforces; a lapse there is what stops traffic.
  auto c = runningCandidate();
  if (!c) c = validated(candidateText(), "candidate", today());
  if (!c) return invalid(c.error());
  json list = json::array();
  for (const auto& e : expiringServices((*c)->doc, today(), days)) {
    list.push_back({{"name", e.name},
                    {"ismap_id", e.ismapId},
                    {"expires", e.expires},
                    {"days_left", e.daysLeft}});
  }
  return json{{"days", days}, {"services", list}};
}

// ---------------------------------------------------------------------------------------------
// policy.*

Dispatcher::Outcome Dispatcher::policyLoad(const json& args) {
  auto content = argString(args, "content");
  if (!content) return invalid(content.error());
  const std::string file = argOptString(args, "file").value_or("policy.yaml");
  return storeCandidate(validateCandidate(*content, file, today()), "loaded " + file);
}

Dispatcher::Outcome Dispatcher::policyDiff() {
  auto cand = validated(candidateText(), "candidate", today());
  if (!cand) return invalid(cand.error());
  const policy::PolicyDoc none;
  ValidationCache::Ptr run;
  if (store_->running()) {
    auto doc = runningCandidate();
    if (!doc) return invalid(doc.error());
    run = *doc;
  }
  const PolicyDiff d = diffPolicies(run ? run->doc : none, (*cand)->doc);
  return json{
      {"running", store_->running() ? json(store_->running()->meta.version) : json(nullptr)},
      {"diff", d.toJson()},
      {"text", d.toText()}};
}

Dispatcher::Outcome Dispatcher::policyValidate() {
  auto cand = validated(candidateText(), "candidate", today());
  if (!cand) return invalid(cand.error());
  auto snap = policy::Snapshot::create((*cand)->doc, 0);
  if (!snap) return invalid(snap.error());
  return json{{"valid", true},
              {"services", (*cand)->doc.services.size()},
              {"sha256", sha256Hex((*cand)->yaml)}};
}

Dispatcher::Outcome Dispatcher::policyTest(int passedFd) {
  if (passedFd < 0)
    return err(ErrorCode::Invalid, "policy.test needs the capture passed as a file descriptor");
  auto cand = validated(candidateText(), "candidate", today());
  if (!cand) return invalid(cand.error());
  auto candSnap = policy::Snapshot::create((*cand)->doc, 0);
  if (!candSnap) return invalid(candSnap.error());
  auto running = api_.current();
  if (!running) return err(ErrorCode::Unavailable, "the dataplane runs no policy");
  // The dataplane reads the capture through the descriptor the caller opened with its own
  // rights; the daemon never opens a path a client names.
  const std::string path = "/proc/self/fd/" + std::to_string(passedFd);
  auto a = api_.replayVerdicts(running, path);
  if (!a) return invalid(a.error());
  auto b = api_.replayVerdicts(*candSnap, path);
  if (!b) return invalid(b.error());
  json out = compareVerdicts(*a, *b).toJson();
  out["running"] = running->version();
  return out;
}

Dispatcher::Outcome Dispatcher::goLive(uint64_t version,
                                       std::shared_ptr<const policy::Snapshot> compiled) {
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

Dispatcher::Outcome Dispatcher::commitText(const Caller& c, const std::string& yaml,
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

Dispatcher::Outcome Dispatcher::policyCommit(const Caller& c, const json& args) {
  auto msg = argString(args, "message");
  if (!msg) return invalid(msg.error());
  if (msg->empty()) return err(ErrorCode::Invalid, "a commit needs a message (-m)");
  return commitText(c, candidateText(), *msg, 0);
}

Dispatcher::Outcome Dispatcher::policyApprove(const Caller& c, const json& args) {
  auto n = argUint(args, "version");
  if (!n) return invalid(n.error());
  auto v = store_->show(*n);
  if (!v) return err(ErrorCode::NotFound, v.error());
  if (v->meta.state != VersionState::Pending) {
    return err(ErrorCode::Conflict,
               "version " + std::to_string(*n) + " is " + toString(v->meta.state));
  }
  if (v->meta.author == c.label) {
    return err(ErrorCode::Conflict, "version " + std::to_string(*n) + " was committed by " +
                                        c.label + "; it must be approved by a different user");
  }
  const uint64_t running = store_->running() ? store_->running()->meta.version : 0;
  if (v->meta.base != running) {
    return err(ErrorCode::Conflict, "version " + std::to_string(*n) + " was based on version " +
                                        std::to_string(v->meta.base) + " but version " +
                                        std::to_string(running) +
                                        " runs now; reject it and commit again");
  }
  // Validate with today's date before approving: a registration may have lapsed since.
  auto cand = validated(v->yaml, "version " + std::to_string(*n), today());
  if (!cand) return invalid(cand.error());
  auto a = store_->approve(*n, c.label);
  if (!a) return err(ErrorCode::Conflict, a.error());
  auto out = goLive(*n);
  if (auto* j = std::get_if<json>(&out)) (*j)["approver"] = c.label;
  return out;
}

Dispatcher::Outcome Dispatcher::policyReject(const Caller& c, const json& args) {
  auto n = argUint(args, "version");
  if (!n) return invalid(n.error());
  const std::string reason = argOptString(args, "reason").value_or("");
  if (!store_->show(*n)) return err(ErrorCode::NotFound, "no version " + std::to_string(*n));
  auto r = store_->reject(*n, c.label, reason);
  if (!r) return err(ErrorCode::Conflict, r.error());
  return json{{"version", *n}, {"state", toString(r->state)}};
}

Dispatcher::Outcome Dispatcher::policyHistory() {
  json list = json::array();
  for (const auto& m : store_->history()) list.push_back(m.toJson());
  const auto run = store_->running();
  json problems = json::array();
  for (const auto& p : store_->problems()) problems.push_back(p.toString());
  return json{{"running", run ? json(run->meta.version) : json(nullptr)},
              {"versions", list},
              {"problems", problems}};
}

Dispatcher::Outcome Dispatcher::policyShow(const json& args) {
  auto n = argUint(args, "version");
  if (!n) return invalid(n.error());
  auto v = store_->show(*n);
  if (!v) return err(ErrorCode::NotFound, v.error());
  return json{{"meta", v->meta.toJson()}, {"yaml", v->yaml}};
}

Dispatcher::Outcome Dispatcher::policyRollback(const Caller& c, const json& args) {
  auto n = argUint(args, "version");
  if (!n) return invalid(n.error());
  auto v = store_->show(*n);
  if (!v) return err(ErrorCode::NotFound, v.error());
  const std::string msg = argOptString(args, "message").value_or("");
  return commitText(c, v->yaml,
                    "rollback to version " + std::to_string(*n) + (msg.empty() ? "" : ": " + msg),
                    *n);
}

// ---------------------------------------------------------------------------------------------
// operations

Dispatcher::Outcome Dispatcher::status(const Caller& c) {
  const auto cur = api_.current();
  const auto run = store_->running();
  size_t pending = 0;
  for (const auto& h : store_->history()) pending += h.state == VersionState::Pending;
  const auto cand = store_->candidate();
  json problems = json::array();
  for (const auto& p : problems_) problems.push_back(p.toString());
  json expiring = json::array();
  if (auto rc = runningCandidate()) {
    for (const auto& e : expiringServices((*rc)->doc, today(), config_.ismapWarnDays))
      expiring.push_back(e.name);
  }
  return json{{"user", c.label},
              {"role", toString(*c.role)},
              {"dataplane_version", cur ? json(cur->version()) : json(nullptr)},
              {"running_version", run ? json(run->meta.version) : json(nullptr)},
              {"in_sync", cur && run && cur->version() == run->meta.version},
              {"pending", pending},
              {"candidate_changed", cand.has_value() && (!run || *cand != run->yaml)},
              {"ismap_expiring", expiring},
              {"problems", problems}};
}

Dispatcher::Outcome Dispatcher::stats() {
  json list = json::array();
  for (const auto& c : api_.counters())
    list.push_back({{"name", c.name}, {"help", c.help}, {"value", c.value}});
  return json{{"counters", list}};
}

Dispatcher::Outcome Dispatcher::flows(const json& args) {
  size_t limit = 100;
  if (args.contains("limit")) {
    auto l = argUint(args, "limit");
    if (!l || *l == 0 || *l > config_.maxFlowRows) {
      return err(ErrorCode::Invalid, "\"limit\" must be 1.." + std::to_string(config_.maxFlowRows));
    }
    limit = *l;
  }
  std::vector<std::pair<std::string, std::string>> filters;
  if (args.contains("filter")) {
    if (!args["filter"].is_object())
      return err(ErrorCode::Invalid, "\"filter\" must map field names to values");
    for (auto it = args["filter"].begin(); it != args["filter"].end(); ++it) {
      if (!it->is_string() && !it->is_number())
        return err(ErrorCode::Invalid, "filter values are strings or numbers");
      filters.emplace_back(it.key(), it->is_string() ? it->get<std::string>() : it->dump());
    }
  }
  // Filters run over the full table the dataplane hands out (bounded by maxFlowRows), then
  // the result is cut to `limit`.
  json rows = json::array();
  size_t scanned = 0;
  for (const auto& line : api_.flows(filters.empty() ? limit : config_.maxFlowRows)) {
    ++scanned;
    json row = json::parse(line, nullptr, false);
    if (row.is_discarded()) continue;
    bool match = true;
    for (const auto& [k, v] : filters) {
      const json* f = lookup(row, k);
      if (!f || (f->is_string() ? f->get<std::string>() : f->dump()) != v) match = false;
    }
    if (!match) continue;
    rows.push_back(std::move(row));
    if (rows.size() >= limit) break;
  }
  return json{{"flows", rows}, {"scanned", scanned}};
}

Dispatcher::Outcome Dispatcher::reload() {
  auto roles = Roles::load(config_.rolesFile);
  if (!roles) return invalid(roles.error());  // the old roles stay in force
  // Re-verify the store from disk (e.g. after a file-level restore by the administrator).
  if (auto r = store_->reload(); !r) return err(ErrorCode::Internal, r.error());
  roles_ = std::move(*roles);
  problems_ = store_->problems();
  json out = {{"roles", roles_.size()}, {"problems", json::array()}};
  for (const auto& p : problems_) out["problems"].push_back(p.toString());
  const auto run = store_->running();
  const auto cur = api_.current();
  if (run && (!cur || cur->version() != run->meta.version)) {
    auto c = validated(run->yaml, "version " + std::to_string(run->meta.version), today());
    if (!c) return invalid(c.error());
    auto snap = policy::Snapshot::create((*c)->doc, run->meta.version);
    if (!snap) return invalid(snap.error());
    if (auto p = api_.publish(*snap); !p) return err(ErrorCode::Unavailable, p.error());
  }
  out["version"] = run ? json(run->meta.version) : json(nullptr);
  return out;
}

Dispatcher::Outcome Dispatcher::backup() {
  const std::string text = store_->backup();
  return json{
      {"content", text}, {"sha256", sha256Hex(text)}, {"versions", store_->history().size()}};
}

Dispatcher::Outcome Dispatcher::restore(const json& args) {
  auto content = argString(args, "content");
  if (!content) return invalid(content.error());
  auto verified = store_->verifyBackup(*content);
  if (!verified) return invalid(verified.error());
  // A restore must not become a way around approval: if the running policy demands approval,
  // the backup may only bring back the policy that runs now (recovering history); going back
  // to another policy is a rollback, which is approved like any commit.
  if (auto run = store_->running()) {
    auto rc = runningCandidate();
    const bool changesRunning = !*verified || (*verified)->yaml != run->yaml;
    if (rc && (*rc)->doc.approvalRequired && changesRunning) {
      return err(ErrorCode::Conflict,
                 "the running policy requires approval and this backup would run a different "
                 "policy; restore it on a store whose running policy matches, or use "
                 "policy rollback (approved like a commit)");
    }
  }
  // Compile what would run before touching the store: a backup whose policy no longer
  // validates is refused and nothing changes.
  std::shared_ptr<const policy::Snapshot> snap;
  if (*verified) {
    const auto& v = **verified;
    auto c = validateCandidate(v.yaml, "backup version " + std::to_string(v.meta.version), today());
    if (!c) return invalid(c.error());
    auto s = policy::Snapshot::create(c->doc, v.meta.version);
    if (!s) return invalid(s.error());
    snap = *s;
  }
  if (auto r = store_->restore(*content); !r) return err(ErrorCode::Internal, r.error());
  problems_ = store_->problems();
  if (snap) {
    if (auto p = api_.publish(snap); !p) return err(ErrorCode::Unavailable, p.error());
  }
  return json{{"restored", store_->history().size()},
              {"version", snap ? json(snap->version()) : json(nullptr)}};
}

// ---------------------------------------------------------------------------------------------

void Dispatcher::tick() {
  const auto now = config_.clock();
  if (now < nextIsmapCheck_) return;
  nextIsmapCheck_ = now + std::chrono::hours(24);
  auto rc = runningCandidate();
  if (!rc) return;
  for (const auto& e : expiringServices((*rc)->doc, today(), config_.ismapWarnDays)) {
    api_.logEvent(
        json({{"timestamp", rfc3339(now)},
              {"event_type", "policy"},
              {"policy", {{"version", store_->running()->meta.version}, {"service", e.name}}},
              {"warning", "ismap-expiring"},
              {"ismap", {{"id", e.ismapId}, {"expires", e.expires}, {"days_left", e.daysLeft}}},
              {"measure", "AP-EX-ISMAP"}})
            .dump(-1, ' ', false, json::error_handler_t::replace));
  }
}

std::string Dispatcher::metricsText() const {
  std::string out = renderPrometheus(api_.counters());
  const auto run = store_->running();
  size_t pending = 0;
  for (const auto& h : store_->history()) pending += h.state == VersionState::Pending;
  appendPrometheusGauge(out, "lbg_policy_running_version",
                        "policy version recorded as running in the store",
                        run ? run->meta.version : 0);
  const auto cur = api_.current();
  appendPrometheusGauge(out, "lbg_policy_dataplane_version", "policy version the dataplane runs",
                        cur ? cur->version() : 0);
  appendPrometheusGauge(out, "lbg_policy_pending_approvals", "commits waiting for approval",
                        pending);
  appendPrometheusGauge(out, "lbg_control_requests", "control requests handled since start",
                        requests_);
  appendPrometheusGauge(out, "lbg_control_refused",
                        "control requests refused or failed since start", refused_);
  appendPrometheusGauge(out, "lbg_store_problems",
                        "corrupt or unusable store entries found at open", problems_.size());
  return out;
}

}  // namespace lbg::control
