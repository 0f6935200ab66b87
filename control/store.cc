#include "control/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <set>
#include <string_view>

#include "control/atomic_file.h"
#include "control/sha256.h"

namespace lbg::control {

namespace {

using nlohmann::json;

constexpr size_t kMaxPolicyBytes = 8u << 20;
constexpr size_t kMaxRulesBytes = 64u << 20;
constexpr const char* kBackupFormat = "lbg-policy-backup";
constexpr std::array<const char*, 5> kStateNames = {"pending", "staged", "active", "rejected",
                                                    "failed"};

std::string nowRfc3339() {
  const auto now = std::chrono::system_clock::now();
  const time_t t = std::chrono::system_clock::to_time_t(now);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string number6(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof(buf), "%06llu", static_cast<unsigned long long>(v));
  return buf;
}

Error sysError(const std::string& what, const std::string& path) {
  return Error{what + ": " + std::strerror(errno), path};
}

Result<Ok> makeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0750) != 0 && errno != EEXIST)
    return sysError("cannot create directory", path);
  return Ok{};
}

// "000123.json" → 123; anything else (temp files, strays) → 0.
uint64_t parseNumbered(const std::string& name, const std::string& ext) {
  if (name.size() != 6 + ext.size() || name.compare(6, ext.size(), ext) != 0) return 0;
  uint64_t v = 0;
  for (size_t i = 0; i < 6; ++i) {
    if (name[i] < '0' || name[i] > '9') return 0;
    v = v * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return v;
}

std::vector<std::string> listDir(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (!d) return out;
  while (struct dirent* e = ::readdir(d)) out.emplace_back(e->d_name);
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> readLink(const std::string& path) {
  char buf[256];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf) - 1);
  if (n < 0) return sysError("cannot read link", path);
  return std::string(buf, static_cast<size_t>(n));
}

bool validGenerationName(const std::string& s) {
  return s.size() == 7 && s[0] == 'g' &&
         std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Points DIR/current at `generation` atomically: a new symlink renamed over the old one.
Result<Ok> switchCurrent(const std::string& dir, const std::string& generation) {
  const std::string tmp = dir + "/current.tmp." + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  if (::symlink(generation.c_str(), tmp.c_str()) != 0) return sysError("cannot create link", tmp);
  if (::rename(tmp.c_str(), (dir + "/current").c_str()) != 0) {
    const Error e = sysError("cannot switch generation", dir + "/current");
    ::unlink(tmp.c_str());
    return e;
  }
  return syncDirectory(dir);
}

// `rules`: the stored IDS rule files by name (only when there are any, so a store without them
// backs up as before).
json backupContent(const std::vector<StoredVersion>& versions,
                   const std::optional<std::string>& candidate,
                   const std::map<std::string, std::string>& rules) {
  json list = json::array();
  for (const auto& v : versions) list.push_back({{"meta", v.meta.toJson()}, {"yaml", v.yaml}});
  json j = {{"format", kBackupFormat},
            {"v", 1},
            {"versions", list},
            {"candidate", candidate ? json(*candidate) : json(nullptr)}};
  if (!rules.empty()) j["rules"] = rules;
  return j;
}

struct ParsedBackup {
  std::vector<StoredVersion> versions;
  std::optional<std::string> candidate;
  std::map<std::string, std::string> rules;  // stored IDS rule files, each checked by its name
};

std::string storedRulesHash(const std::string& name);

Result<ParsedBackup> parseBackup(const std::string& text, const std::string& key) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{"backup is not a JSON object", "backup"};
  if (!j.contains("format") || j["format"] != kBackupFormat)
    return Error{"not an lbg policy backup", "backup"};
  if (!j.contains("v") || j["v"] != 1) return Error{"unsupported backup version", "backup"};
  if (!j.contains("sha256") || !j["sha256"].is_string())
    return Error{"backup has no sha256", "backup"};
  if (!j.contains("hmac") || !j["hmac"].is_string())
    return Error{"backup has no hmac seal", "backup"};
  const std::string claimed = j["sha256"].get<std::string>();
  const std::string seal = j["hmac"].get<std::string>();
  j.erase("sha256");
  j.erase("hmac");
  // dump() of nlohmann's std::map-backed objects is canonical (sorted keys), so the hash is
  // independent of the writer's key order.
  const std::string canonical = j.dump();
  const std::string actual = sha256Hex(canonical);
  if (actual != claimed) {
    return Error{"backup hash mismatch: file says " + claimed + ", content hashes to " + actual +
                     " (damaged or edited)",
                 "backup"};
  }
  if (hmacSha256Hex(key, canonical) != seal) {
    return Error{
        "backup seal (HMAC) does not verify: not made by this store, or edited and re-hashed. "
        "To move a store to new hardware, copy DIR/backup.key along with the backup",
        "backup"};
  }
  if (!j.contains("versions") || !j["versions"].is_array())
    return Error{"backup has no versions list", "backup"};
  ParsedBackup out;
  uint64_t last = 0;
  for (size_t i = 0; i < j["versions"].size(); ++i) {
    const json& v = j["versions"][i];
    const std::string where = "versions[" + std::to_string(i) + "]";
    if (!v.is_object() || !v.contains("meta") || !v.contains("yaml") || !v["yaml"].is_string()) {
      return Error{where + ": expected {meta, yaml}", "backup"};
    }
    auto meta = VersionMeta::fromJson(v["meta"]);
    if (!meta) return Error{where + ".meta: " + meta.error().message, "backup"};
    StoredVersion sv{*meta, v["yaml"].get<std::string>()};
    if (sha256Hex(sv.yaml) != sv.meta.sha256) {
      return Error{
          where + ": version " + std::to_string(sv.meta.version) + " does not match its hash",
          "backup"};
    }
    if (sv.meta.version <= last) return Error{where + ": versions out of order", "backup"};
    last = sv.meta.version;
    out.versions.push_back(std::move(sv));
  }
  if (j.contains("candidate") && j["candidate"].is_string())
    out.candidate = j["candidate"].get<std::string>();
  if (j.contains("rules")) {
    if (!j["rules"].is_object()) return Error{"backup rules: expected an object", "backup"};
    for (const auto& [name, text] : j["rules"].items()) {
      const std::string hash = storedRulesHash(name);
      if (hash.empty() || name.find('/') != std::string::npos || !text.is_string() ||
          sha256Hex(text.get<std::string>()) != hash) {
        return Error{"backup rules: '" + name + "' does not match the hash in its name", "backup"};
      }
      out.rules[name] = text.get<std::string>();
    }
  }
  return out;
}

// The backup sealing key: 32 random bytes, created once, readable by root only.
Result<std::string> loadOrCreateKey(const std::string& path) {
  if (::access(path.c_str(), F_OK) == 0) {
    auto k = readFileLimited(path, 4096);
    if (!k) return k.error();
    if (k->size() < 32) return Error{"backup key too short (corrupt?)", path};
    return *k;
  }
  std::string key(32, '\0');
  if (::getrandom(key.data(), key.size(), 0) != static_cast<ssize_t>(key.size())) {
    return sysError("cannot get random bytes for the backup key", path);
  }
  if (auto w = writeFileAtomic(path, key, 0600); !w) return w.error();
  return key;
}

const StoredVersion* newestActive(const std::vector<StoredVersion>& versions) {
  const StoredVersion* best = nullptr;
  for (const auto& v : versions) {
    if (v.meta.state == VersionState::Active &&
        (!best || v.meta.activation > best->meta.activation))
      best = &v;
  }
  return best;
}

// A stored rule file's name: 64 hex digits of its content's SHA-256, '-', the name it was loaded
// under (letters, digits, '.', '_', '-'). Returns the hash part, or empty when not such a name.
std::string storedRulesHash(const std::string& name) {
  if (name.size() < 66 || name[64] != '-') return "";
  for (size_t i = 0; i < 64; ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(name[i])) || std::isupper(name[i])) return "";
  }
  return name.substr(0, 64);
}

// The stored rule files a policy text names: every "rules/<sha256>-<name>" in it (versions name
// the absolute path DIR/rules/...). A mention anywhere counts, a comment too: collecting keeps
// more rather than less.
void referencedRules(std::string_view text, std::set<std::string>& out) {
  constexpr std::string_view kDir = "rules/";
  for (size_t at = text.find(kDir); at != std::string_view::npos; at = text.find(kDir, at + 1)) {
    size_t end = at + kDir.size();
    while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                                 text[end] == '.' || text[end] == '_' || text[end] == '-'))
      ++end;
    std::string name(text.substr(at + kDir.size(), end - at - kDir.size()));
    if (!storedRulesHash(name).empty()) out.insert(std::move(name));
  }
}

// Checks every stored rule file against the hash in its name: a changed file would silently
// change what the versions naming it enforce, so it is reported like a corrupt version.
void checkStoredRules(const std::string& dir, std::vector<Error>& problems) {
  for (const auto& name : listDir(dir)) {
    const std::string hash = storedRulesHash(name);
    if (hash.empty()) continue;
    auto text = readFileLimited(dir + "/" + name, kMaxRulesBytes);
    if (!text) {
      problems.push_back(text.error());
    } else if (sha256Hex(*text) != hash) {
      problems.push_back(
          Error{"IDS rule file does not match the hash in its name (edited?); "
                "the versions that name it will not load",
                dir + "/" + name});
    }
  }
}

}  // namespace

const char* toString(VersionState s) {
  return kStateNames[static_cast<size_t>(s)];
}

json VersionMeta::toJson() const {
  json j = {{"version", version},      {"sha256", sha256},   {"author", author},
            {"created_at", createdAt}, {"message", message}, {"state", toString(state)},
            {"activation", activation}};
  if (!approver.empty()) j["approver"] = approver;
  if (!decidedAt.empty()) j["decided_at"] = decidedAt;
  if (!note.empty()) j["note"] = note;
  if (rollbackOf) j["rollback_of"] = rollbackOf;
  if (base) j["base"] = base;
  return j;
}

Result<VersionMeta> VersionMeta::fromJson(const json& j) {
  if (!j.is_object()) return Error{"meta is not an object"};
  VersionMeta m;
  const auto str = [&](const char* k, std::string& out, bool required) -> bool {
    if (!j.contains(k)) return !required;
    if (!j[k].is_string()) return false;
    out = j[k].get<std::string>();
    return true;
  };
  const auto num = [&](const char* k, uint64_t& out, bool required) -> bool {
    if (!j.contains(k)) return !required;
    if (!j[k].is_number_unsigned()) return false;
    out = j[k].get<uint64_t>();
    return true;
  };
  std::string state;
  if (!num("version", m.version, true) || m.version == 0)
    return Error{"bad or missing \"version\""};
  if (!str("sha256", m.sha256, true) || m.sha256.size() != 64)
    return Error{"bad or missing \"sha256\""};
  if (!str("author", m.author, true) || !str("created_at", m.createdAt, true) ||
      !str("message", m.message, true) || !str("state", state, true) ||
      !str("approver", m.approver, false) || !str("decided_at", m.decidedAt, false) ||
      !str("note", m.note, false) || !num("activation", m.activation, true) ||
      !num("rollback_of", m.rollbackOf, false) || !num("base", m.base, false)) {
    return Error{"bad or missing field"};
  }
  const auto it = std::find_if(kStateNames.begin(), kStateNames.end(),
                               [&](const char* s) { return state == s; });
  if (it == kStateNames.end()) return Error{"unknown state \"" + state + "\""};
  m.state = static_cast<VersionState>(it - kStateNames.begin());
  if ((m.state == VersionState::Active) != (m.activation != 0))
    return Error{"activation inconsistent with state"};
  return m;
}

PolicyStore::~PolicyStore() {
  if (lockFd_ >= 0) ::close(lockFd_);
}

Result<std::unique_ptr<PolicyStore>> PolicyStore::open(const std::string& dir) {
  std::unique_ptr<PolicyStore> s(new PolicyStore());
  s->dir_ = dir;
  if (auto r = makeDir(dir); !r) return r.error();
  s->lockFd_ = ::open((dir + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (s->lockFd_ < 0) return sysError("cannot open lock file", dir + "/lock");
  if (::flock(s->lockFd_, LOCK_EX | LOCK_NB) != 0) {
    return Error{"policy store is in use by another process", dir + "/lock"};
  }
  struct stat st {};
  if (::lstat((dir + "/current").c_str(), &st) != 0) {
    // Fresh store. (A crash inside restore() leaves `current` in place, so a missing link means
    // the store was never initialised.)
    if (auto r = makeDir(dir + "/g000001"); !r) return r.error();
    if (auto r = makeDir(dir + "/g000001/versions"); !r) return r.error();
    if (auto r = syncDirectory(dir + "/g000001"); !r) return r.error();
    if (auto r = switchCurrent(dir, "g000001"); !r) return r.error();
  }
  if (auto k = loadOrCreateKey(dir + "/backup.key"); !k) {
    return k.error();
  } else {
    s->backupKey_ = std::move(*k);
  }
  auto gen = readLink(dir + "/current");
  if (!gen) return gen.error();
  if (!validGenerationName(*gen))
    return Error{"store link points outside the store: " + *gen, dir + "/current"};
  s->generation_ = *gen;
  if (auto r = s->loadGeneration(); !r) return r.error();
  return s;
}

Result<Ok> PolicyStore::reload() {
  auto gen = readLink(dir_ + "/current");
  if (!gen) return gen.error();
  if (!validGenerationName(*gen))
    return Error{"store link points outside the store: " + *gen, dir_ + "/current"};
  generation_ = *gen;
  return loadGeneration();
}

std::string PolicyStore::versionsDir() const {
  return genDir() + "/versions";
}

Result<Ok> PolicyStore::loadGeneration() {
  candidateFile_.reset();
  versions_.clear();
  problems_.clear();
  highestNumber_ = 0;
  const std::string vdir = versionsDir();
  struct stat st {};
  if (::stat(vdir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Error{"store has no versions directory", vdir};
  for (const auto& name : listDir(vdir)) {
    if (uint64_t n = parseNumbered(name, ".yaml")) highestNumber_ = std::max(highestNumber_, n);
    const uint64_t n = parseNumbered(name, ".json");
    if (!n) continue;
    highestNumber_ = std::max(highestNumber_, n);
    const std::string metaPath = vdir + "/" + name;
    const std::string yamlPath = vdir + "/" + number6(n) + ".yaml";
    auto metaText = readFileLimited(metaPath, 1u << 20);
    if (!metaText) {
      problems_.push_back(metaText.error());
      continue;
    }
    json mj = json::parse(*metaText, nullptr, false);
    auto meta =
        mj.is_discarded() ? Result<VersionMeta>(Error{"not JSON"}) : VersionMeta::fromJson(mj);
    if (!meta || meta->version != n) {
      problems_.push_back(Error{"corrupt version metadata (" +
                                    (meta ? std::string("wrong number") : meta.error().message) +
                                    "); version " + std::to_string(n) + " ignored",
                                metaPath});
      continue;
    }
    auto yaml = readFileLimited(yamlPath, kMaxPolicyBytes);
    if (!yaml) {
      problems_.push_back(
          Error{yaml.error().message + "; version " + std::to_string(n) + " ignored", yamlPath});
      continue;
    }
    const std::string actual = sha256Hex(*yaml);
    if (actual != meta->sha256) {
      problems_.push_back(Error{"hash mismatch: metadata says " + meta->sha256 +
                                    ", file hashes to " + actual + "; version " +
                                    std::to_string(n) + " is corrupt and ignored",
                                yamlPath});
      continue;
    }
    if (meta->state == VersionState::Staged) {
      // The process stopped between recording and publishing: it never went live.
      meta->state = VersionState::Failed;
      meta->note = "interrupted before it went live";
      if (auto w = writeFileAtomic(metaPath, meta->toJson().dump(2) + "\n"); !w)
        problems_.push_back(w.error());
    }
    versions_.push_back(StoredVersion{*meta, std::move(*yaml)});
  }
  // Tell the operator which version stays in force when the newest live one is unusable.
  uint64_t maxActivationSeen = 0;
  for (const auto& name : listDir(vdir)) {
    const uint64_t n = parseNumbered(name, ".json");
    if (!n) continue;
    auto text = readFileLimited(vdir + "/" + name, 1u << 20);
    if (!text) continue;
    json mj = json::parse(*text, nullptr, false);
    if (mj.is_object() && mj.contains("activation") && mj["activation"].is_number_unsigned()) {
      maxActivationSeen = std::max(maxActivationSeen, mj["activation"].get<uint64_t>());
    }
  }
  checkStoredRules(rulesDir(), problems_);
  const StoredVersion* run = newestActive(versions_);
  if (!problems_.empty() && maxActivationSeen > (run ? run->meta.activation : 0)) {
    problems_.push_back(Error{run ? "the newest live version is unusable; version " +
                                        std::to_string(run->meta.version) +
                                        " (last good) stays in force"
                                  : "no usable live version left in the store",
                              vdir});
  }
  pinRules();
  return Ok{};
}

void PolicyStore::pinRules() {
  // Versions are never changed once written, nor are the generations a restore replaced: their
  // texts are read here once (open, reload, restore), and add()/adopt() add the new version's.
  pinnedRules_.clear();
  pinnedComplete_ = true;
  for (const auto& gen : listDir(dir_)) {
    if (!validGenerationName(gen)) continue;
    const std::string vdir = dir_ + "/" + gen + "/versions";
    for (const auto& name : listDir(vdir)) {
      if (parseNumbered(name, ".yaml") == 0) continue;
      if (auto text = readFileLimited(vdir + "/" + name, kMaxPolicyBytes))
        referencedRules(*text, pinnedRules_);
      else
        pinnedComplete_ = false;  // unknown: collectRules() removes nothing
    }
  }
}

std::optional<StoredVersion> PolicyStore::running() const {
  if (const StoredVersion* v = newestActive(versions_)) return *v;
  return std::nullopt;
}

std::vector<VersionMeta> PolicyStore::history() const {
  std::vector<VersionMeta> out;
  for (const auto& v : versions_) out.push_back(v.meta);
  return out;
}

Result<StoredVersion> PolicyStore::show(uint64_t version) const {
  for (const auto& v : versions_) {
    if (v.meta.version == version) return v;
  }
  return Error{"no version " + std::to_string(version)};
}

Result<VersionMeta> PolicyStore::writeMeta(const VersionMeta& m) {
  const std::string path = versionsDir() + "/" + number6(m.version) + ".json";
  if (auto w = writeFileAtomic(path, m.toJson().dump(2) + "\n"); !w) return w.error();
  for (auto& v : versions_) {
    if (v.meta.version == m.version) v.meta = m;
  }
  return m;
}

Result<VersionMeta> PolicyStore::add(const std::string& yaml, const std::string& author,
                                     const std::string& message, bool needsApproval,
                                     uint64_t rollbackOf) {
  if (yaml.size() > kMaxPolicyBytes) return Error{"policy too large"};
  VersionMeta m;
  m.version = highestNumber_ + 1;
  m.sha256 = sha256Hex(yaml);
  m.author = author;
  m.createdAt = nowRfc3339();
  m.message = message;
  m.state = needsApproval ? VersionState::Pending : VersionState::Staged;
  m.rollbackOf = rollbackOf;
  if (const StoredVersion* run = newestActive(versions_)) m.base = run->meta.version;
  // The YAML first, the meta last: a version exists only once its meta is durable, so a crash in
  // between leaves an orphan YAML that open() skips (its number is still never reused).
  const std::string base = versionsDir() + "/" + number6(m.version);
  if (!linkCandidate(m.sha256, base + ".yaml")) {
    if (auto w = writeFileAtomic(base + ".yaml", yaml); !w) return w.error();
  }
  highestNumber_ = m.version;
  if (auto w = writeFileAtomic(base + ".json", m.toJson().dump(2) + "\n"); !w) return w.error();
  versions_.push_back(StoredVersion{m, yaml});
  referencedRules(yaml, pinnedRules_);
  // The version is durable: rule files nothing names any more go (best effort: a file that could
  // not be removed is tried again at the next commit; the commit itself stands).
  (void)collectRules();
  return m;
}

Result<VersionMeta> PolicyStore::adopt(const VersionMeta& peer, const std::string& yaml,
                                       const std::string& note) {
  if (yaml.size() > kMaxPolicyBytes) return Error{"policy too large"};
  if (sha256Hex(yaml) != peer.sha256) {
    return Error{"version " + std::to_string(peer.version) + ": the text does not match its sha256"};
  }
  if (peer.version <= highestNumber_) {
    return Error{"this store already used version numbers up to " + std::to_string(highestNumber_) +
                 ", so it cannot take version " + std::to_string(peer.version) +
                 " (restore a backup of the active box here: lbgctl backup there, lbgctl restore here)"};
  }
  VersionMeta m = peer;
  m.state = VersionState::Staged;
  m.activation = 0;
  m.note = note;
  m.base = 0;
  if (const StoredVersion* run = newestActive(versions_)) m.base = run->meta.version;
  const std::string base = versionsDir() + "/" + number6(m.version);
  if (auto w = writeFileAtomic(base + ".yaml", yaml); !w) return w.error();
  highestNumber_ = m.version;
  if (auto w = writeFileAtomic(base + ".json", m.toJson().dump(2) + "\n"); !w) return w.error();
  versions_.push_back(StoredVersion{m, yaml});
  referencedRules(yaml, pinnedRules_);
  return m;
}

Result<VersionMeta> PolicyStore::transition(uint64_t version, VersionState from, VersionState to) {
  auto v = show(version);
  if (!v) return v.error();
  if (v->meta.state != from) {
    return Error{"version " + std::to_string(version) + " is " + toString(v->meta.state) +
                 ", not " + toString(from)};
  }
  VersionMeta m = v->meta;
  m.state = to;
  return m;
}

Result<VersionMeta> PolicyStore::approve(uint64_t version, const std::string& approver) {
  auto m = transition(version, VersionState::Pending, VersionState::Staged);
  if (!m) return m.error();
  if (approver == m->author) {
    return Error{"version " + std::to_string(version) + " was committed by " + approver +
                 "; it must be approved by a different user"};
  }
  m->approver = approver;
  m->decidedAt = nowRfc3339();
  return writeMeta(*m);
}

Result<VersionMeta> PolicyStore::reject(uint64_t version, const std::string& approver,
                                        const std::string& reason) {
  auto m = transition(version, VersionState::Pending, VersionState::Rejected);
  if (!m) return m.error();
  m->approver = approver;
  m->decidedAt = nowRfc3339();
  m->note = reason;
  return writeMeta(*m);
}

Result<VersionMeta> PolicyStore::activate(uint64_t version) {
  auto m = transition(version, VersionState::Staged, VersionState::Active);
  if (!m) return m.error();
  uint64_t maxActivation = 0;
  for (const auto& v : versions_) maxActivation = std::max(maxActivation, v.meta.activation);
  m->activation = maxActivation + 1;
  return writeMeta(*m);
}

Result<VersionMeta> PolicyStore::fail(uint64_t version, const std::string& reason) {
  auto m = transition(version, VersionState::Staged, VersionState::Failed);
  if (!m) return m.error();
  m->note = reason;
  return writeMeta(*m);
}

std::optional<std::string> PolicyStore::candidate() const {
  auto text = readFileLimited(genDir() + "/candidate.yaml", kMaxPolicyBytes);
  if (!text) return std::nullopt;
  return *text;
}

Result<Ok> PolicyStore::setCandidate(const std::string& yaml) {
  if (yaml.size() > kMaxPolicyBytes) return Error{"policy too large"};
  candidateFile_.reset();
  const std::string path = genDir() + "/candidate.yaml";
  if (auto w = writeFileAtomic(path, yaml); !w) return w;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    candidateFile_ = CandidateFile{sha256Hex(yaml), uint64_t(st.st_dev), uint64_t(st.st_ino),
                                   uint64_t(st.st_size),
                                   int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
  }
  return Ok{};
}

bool PolicyStore::linkCandidate(const std::string& sha256, const std::string& target) {
  if (!candidateFile_ || candidateFile_->sha256 != sha256) return false;
  const std::string path = genDir() + "/candidate.yaml";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  const CandidateFile& f = *candidateFile_;
  if (uint64_t(st.st_dev) != f.dev || uint64_t(st.st_ino) != f.ino ||
      uint64_t(st.st_size) != f.size ||
      int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec != f.mtimeNs) {
    return false;
  }
  // Its data was synced when it was written; the new name must be durable before the meta.
  if (::link(path.c_str(), target.c_str()) != 0) return false;
  if (!syncDirectory(versionsDir())) {
    ::unlink(target.c_str());
    return false;
  }
  return true;
}

Result<Ok> PolicyStore::discardCandidate() {
  candidateFile_.reset();
  const std::string path = genDir() + "/candidate.yaml";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sysError("cannot remove", path);
  return syncDirectory(genDir());
}

std::string PolicyStore::backup() const {
  std::map<std::string, std::string> rules;
  for (const auto& name : listDir(rulesDir())) {
    if (storedRulesHash(name).empty()) continue;
    if (auto text = readFileLimited(rulesDir() + "/" + name, kMaxRulesBytes)) rules[name] = *text;
  }
  json j = backupContent(versions_, candidate(), rules);
  j["created_at"] = nowRfc3339();
  const std::string canonical = j.dump();  // everything but the two seals; see parseBackup()
  j["sha256"] = sha256Hex(canonical);
  j["hmac"] = hmacSha256Hex(backupKey_, canonical);
  return j.dump(1) + "\n";
}

Result<std::optional<StoredVersion>> PolicyStore::verifyBackup(const std::string& text) const {
  auto b = parseBackup(text, backupKey_);
  if (!b) return b.error();
  if (const StoredVersion* v = newestActive(b->versions)) return std::optional<StoredVersion>(*v);
  return std::optional<StoredVersion>();
}

Result<size_t> PolicyStore::restoreRules(const std::string& text) {
  auto b = parseBackup(text, backupKey_);
  if (!b) return b.error();
  for (const auto& [name, content] : b->rules) {
    if (auto p = putRules(name.substr(65), content); !p) return p.error();
  }
  return b->rules.size();
}

Result<Ok> PolicyStore::restore(const std::string& text) {
  auto b = parseBackup(text, backupKey_);
  if (!b) return b.error();
  if (auto r = restoreRules(text); !r) return r.error();
  // A new generation beside the current one; the switch is a single rename of the link.
  uint64_t maxGen = 0;
  for (const auto& name : listDir(dir_)) {
    if (validGenerationName(name)) maxGen = std::max<uint64_t>(maxGen, std::stoull(name.substr(1)));
  }
  char genName[16];
  snprintf(genName, sizeof(genName), "g%06llu", static_cast<unsigned long long>(maxGen + 1));
  const std::string gdir = dir_ + "/" + genName;
  if (auto r = makeDir(gdir); !r) return r.error();
  if (auto r = makeDir(gdir + "/versions"); !r) return r.error();
  for (const auto& v : b->versions) {
    VersionMeta m = v.meta;
    if (m.state == VersionState::Staged) m.state = VersionState::Failed;
    const std::string base = gdir + "/versions/" + number6(m.version);
    if (auto w = writeFileAtomic(base + ".yaml", v.yaml); !w) return w.error();
    if (auto w = writeFileAtomic(base + ".json", m.toJson().dump(2) + "\n"); !w) return w.error();
  }
  if (b->candidate) {
    if (auto w = writeFileAtomic(gdir + "/candidate.yaml", *b->candidate); !w) return w.error();
  }
  if (auto r = syncDirectory(gdir); !r) return r.error();
  if (auto r = switchCurrent(dir_, genName); !r) return r.error();
  generation_ = genName;
  return loadGeneration();
}

Result<size_t> PolicyStore::collectRules() {
  std::vector<std::string> stored;
  for (auto& name : listDir(rulesDir()))
    if (!storedRulesHash(name).empty()) stored.push_back(std::move(name));
  if (stored.empty()) return size_t(0);  // a store without IDS rule files: nothing read
  if (!pinnedComplete_) return Error{"a version could not be read: no rule file removed", dir_};
  // What every version of every generation on disk names (pinRules(), kept up to date by add()
  // and adopt()), and what each generation's candidate names. A text that cannot be read stops
  // the collection: nothing is removed on a partial view.
  std::set<std::string> keep = pinnedRules_;
  for (const auto& gen : listDir(dir_)) {
    if (!validGenerationName(gen)) continue;
    const std::string gdir = dir_ + "/" + gen;
    const std::string cand = gdir + "/candidate.yaml";
    if (::access(cand.c_str(), F_OK) != 0) continue;
    auto text = readFileLimited(cand, kMaxPolicyBytes);
    if (!text) return text.error();
    referencedRules(*text, keep);
  }
  size_t removed = 0;
  for (const auto& name : stored) {
    if (keep.count(name)) continue;
    const std::string path = rulesDir() + "/" + name;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sysError("cannot remove", path);
    ++removed;
  }
  if (removed > 0) {
    if (auto r = syncDirectory(rulesDir()); !r) return r.error();
  }
  return removed;
}

Result<std::string> PolicyStore::putRules(const std::string& name, const std::string& content) {
  const std::string hash = sha256Hex(content);
  const std::string path = rulesDir() + "/" + hash + "-" + name;
  const bool plain =
      !name.empty() && name.size() <= 128 && name.front() != '.' &&
      std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      });
  if (!plain) return Error{"not a plain rule file name: '" + name + "'"};
  if (auto have = readFileLimited(path, kMaxRulesBytes); have && *have == content) return path;
  if (auto r = makeDir(rulesDir()); !r) return r.error();
  if (auto w = writeFileAtomic(path, content, 0440); !w) return w.error();
  if (auto r = syncDirectory(rulesDir()); !r) return r.error();
  return path;
}

}  // namespace lbg::control
