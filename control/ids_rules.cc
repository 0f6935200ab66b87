#include "control/ids_rules.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "control/atomic_file.h"
#include "control/sha256.h"

namespace lbg::control {

namespace {

constexpr size_t kMaxFiles = 64;
constexpr size_t kMaxRulesBytes = 64u << 20;  // PolicyStore's bound for a stored file

std::string sidName(uint32_t gid, uint32_t sid) {
  return gid == 1 ? std::to_string(sid) : std::to_string(gid) + ":" + std::to_string(sid);
}

// One policy's rules: each file with its hash and rule count, and every rule's revision by
// (gid, sid).
struct RulesView {
  std::map<std::string, PolicyDiff::IdsRules::File> files;  // by path
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> revs;
  size_t rules = 0;
};

RulesView viewOf(const policy::PolicyDoc& doc, const std::string& rulesDir) {
  RulesView v;
  if (!doc.ids) return v;
  const ids::Variables vars = ids::Variables::defaults(homeNetOf(doc));
  for (const auto& path : doc.ids->rules) {
    PolicyDiff::IdsRules::File f;
    f.path = path;
    f.name = std::filesystem::path(path).filename().string();
    if (!storedRulesFileHash(path, rulesDir).empty()) f.name = f.name.substr(65);
    auto text = readFileLimited(path, kMaxRulesBytes);
    if (!text) {
      f.error = text.error().message;
    } else {
      f.sha256 = sha256Hex(*text);
      ids::RuleSetBuilder b(vars);
      b.addRules(*text, path);
      auto set = std::move(b).build();
      f.rules = set->rules().size();
      v.rules += f.rules;
      for (const auto& r : set->rules()) v.revs[{r.gid, r.sid}] = r.rev;
    }
    v.files[path] = std::move(f);
  }
  return v;
}

void addSid(std::vector<std::string>& list, size_t& total, uint32_t gid, uint32_t sid) {
  if (list.size() < PolicyDiff::IdsRules::kMaxSids) list.push_back(sidName(gid, sid));
  ++total;
}

}  // namespace

std::string storedRulesFileHash(const std::string& path, const std::string& rulesDir) {
  const std::filesystem::path p(path);
  std::error_code ec;
  if (p.parent_path() != std::filesystem::absolute(rulesDir, ec).lexically_normal()) return "";
  const std::string name = p.filename().string();
  if (name.size() < 66 || name[64] != '-') return "";
  for (size_t i = 0; i < 64; ++i) {
    const char c = name[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return "";
  }
  return name.substr(0, 64);
}

std::string rulesFileName(std::string_view given) {
  std::string_view base = given;
  if (auto slash = base.find_last_of('/'); slash != std::string_view::npos)
    base = base.substr(slash + 1);
  std::string out;
  for (char c : base.substr(0, 100)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    out += ok ? c : '_';
  }
  // No hidden files, no "." or "..": the store's directory listing must show every file.
  if (out.empty() || out.front() == '.') out = "rules" + out;
  return out;
}

std::string homeNetOf(const policy::PolicyDoc& doc) {
  std::string out = "[";
  for (size_t i = 0; i < doc.inside.size(); ++i) {
    if (i) out += ',';
    out += doc.inside[i].toString();
  }
  return out + "]";
}

Result<std::vector<RulesFileReport>> checkRulesFiles(const std::vector<RulesUpload>& files,
                                                     const policy::PolicyDoc& doc) {
  if (files.empty()) return Error{"ids load needs at least one rule file"};
  if (files.size() > kMaxFiles)
    return Error{"at most " + std::to_string(kMaxFiles) + " rule files at once"};
  std::vector<RulesFileReport> out;
  std::set<std::string> names;
  ids::RuleSetBuilder builder(ids::Variables::defaults(homeNetOf(doc)));
  for (const auto& f : files) {
    RulesFileReport r;
    r.name = rulesFileName(f.name);
    if (!names.insert(r.name).second)
      return Error{"the file name '" + r.name + "' is given twice", f.name};
    if (f.content.find_first_not_of(" \t\r\n") == std::string::npos)
      return Error{"the rule file is empty", f.name};
    builder.addRules(f.content, r.name);
    out.push_back(std::move(r));
  }
  auto set = std::move(builder).build();
  std::map<std::string, RulesFileReport*> byName;
  for (auto& r : out) byName[r.name] = &r;
  for (const auto& rule : set->rules()) byName[rule.file]->loaded++;
  for (const auto& x : set->report().rejections) byName[x.file]->rejections.push_back(x);
  for (size_t i = 0; i < out.size(); ++i) {
    const RulesFileReport& r = out[i];
    if (r.loaded > 0) continue;
    if (r.rejections.empty()) return Error{"the file holds no rule", files[i].name};
    const ids::Rejection& first = r.rejections.front();
    return Error{"none of the file's " + std::to_string(r.rejections.size()) +
                     " rules loads; the first: '" + first.keyword + "': " + first.message,
                 files[i].name, first.line, first.column};
  }
  return out;
}

Result<Ok> verifyStoredRules(const policy::PolicyDoc& doc, const std::string& rulesDir) {
  if (!doc.ids) return Ok{};
  for (const auto& path : doc.ids->rules) {
    const std::string hash = storedRulesFileHash(path, rulesDir);
    if (hash.empty()) continue;  // a plain path: its content is whatever the file holds
    auto text = readFileLimited(path, kMaxRulesBytes);
    if (!text) return text.error();
    if (sha256Hex(*text) != hash)
      return Error{"the stored IDS rule file no longer matches the hash in its name (edited?)",
                   path};
  }
  return Ok{};
}

void diffIdsRules(const policy::PolicyDoc& from, const policy::PolicyDoc& to,
                  const std::string& rulesDir, PolicyDiff& diff) {
  const RulesView a = viewOf(from, rulesDir);
  const RulesView b = viewOf(to, rulesDir);
  PolicyDiff::IdsRules& d = diff.ids;
  d = {};
  d.rulesFrom = a.rules;
  d.rulesTo = b.rules;
  // A file is the same when it is the same path with the same content: a plain path whose file
  // was edited shows as removed and added again.
  const auto same = [](const PolicyDiff::IdsRules::File& x, const RulesView& other) {
    auto it = other.files.find(x.path);
    return it != other.files.end() && it->second.sha256 == x.sha256 && x.error.empty();
  };
  for (const auto& [path, f] : a.files) {
    if (!same(f, b)) d.removed.push_back(f);
  }
  for (const auto& [path, f] : b.files) {
    if (!same(f, a)) d.added.push_back(f);
  }
  for (const auto& [key, rev] : b.revs) {
    auto it = a.revs.find(key);
    if (it == a.revs.end()) {
      addSid(d.sidsAdded, d.sidsAddedTotal, key.first, key.second);
    } else if (it->second != rev) {
      addSid(d.sidsRevised, d.sidsRevisedTotal, key.first, key.second);
    }
  }
  for (const auto& [key, rev] : a.revs) {
    if (!b.revs.count(key)) addSid(d.sidsRemoved, d.sidsRemovedTotal, key.first, key.second);
  }
}

}  // namespace lbg::control
