#include "control/policy_sync/carried_rules.h"

#include <filesystem>
#include <set>

#include "control/atomic_file.h"
#include "control/ids_rules.h"
#include "control/sha256.h"
#include "control/store.h"

namespace lbg::control {

using nlohmann::json;

namespace {

constexpr size_t kMaxPath = 4096;
constexpr size_t kMaxRulesFileBytes = 64u << 20;  // PolicyStore's bound for a stored file

bool isSha256Hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A name shaped like a stored file's (<64 hex>-<name>), whatever its directory.
bool looksStored(const std::string& path) {
  const std::string name = std::filesystem::path(path).filename().string();
  return name.size() >= 66 && name[64] == '-' && isSha256Hex(name.substr(0, 64));
}

}  // namespace

Result<std::vector<CarriedRulesFile>> carriedRulesOf(const policy::PolicyDoc& doc,
                                                     const std::string& rulesDir) {
  std::vector<CarriedRulesFile> out;
  if (!doc.ids) return out;
  if (doc.ids->rules.size() > kMaxCarriedRulesFiles)
    return Error{"the policy names " + std::to_string(doc.ids->rules.size()) +
                 " IDS rule files; policy sync carries at most " +
                 std::to_string(kMaxCarriedRulesFiles)};
  size_t bytes = 0;
  for (const auto& path : doc.ids->rules) {
    auto text = readFileLimited(path, kMaxRulesFileBytes);
    if (!text) return text.error();
    CarriedRulesFile f{path, sha256Hex(*text), std::nullopt};
    const std::string hash = storedRulesFileHash(path, rulesDir);
    if (!hash.empty()) {
      if (hash != f.sha256)
        return Error{"the stored IDS rule file no longer matches the hash in its name (edited?)",
                     path};
      bytes += text->size();
      if (bytes > kMaxCarriedRulesBytes)
        return Error{"the policy's IDS rule files hold more than " +
                     std::to_string(kMaxCarriedRulesBytes >> 20) +
                     " MiB, more than policy sync carries to the standby"};
      f.content = std::move(*text);
    }
    out.push_back(std::move(f));
  }
  return out;
}

json carriedRulesToJson(const std::vector<CarriedRulesFile>& files) {
  json out = json::array();
  for (const auto& f : files) {
    json j = {{"path", f.path}, {"sha256", f.sha256}};
    if (f.content) j["content"] = *f.content;
    out.push_back(std::move(j));
  }
  return out;
}

Result<std::vector<CarriedRulesFile>> carriedRulesFromJson(const json& j) {
  if (!j.is_array()) return Error{"rules: expected a list"};
  if (j.size() > kMaxCarriedRulesFiles) return Error{"rules: too many files"};
  std::vector<CarriedRulesFile> out;
  std::set<std::string> seen;
  size_t bytes = 0;
  for (const auto& f : j) {
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string() ||
        !f.contains("sha256") || !f["sha256"].is_string())
      return Error{"rules: each file needs a path and a sha256"};
    CarriedRulesFile c{f["path"].get<std::string>(), f["sha256"].get<std::string>(), std::nullopt};
    if (c.path.empty() || c.path.size() > kMaxPath || c.path.front() != '/' ||
        c.path.find('\0') != std::string::npos)
      return Error{"rules: a path is not absolute or too long"};
    if (!isSha256Hex(c.sha256)) return Error{"rules: a sha256 is not 64 lowercase hex digits"};
    if (!seen.insert(c.path).second) return Error{"rules: a path is given twice", c.path};
    if (f.contains("content")) {
      if (!f["content"].is_string()) return Error{"rules: a content is not text", c.path};
      c.content = f["content"].get<std::string>();
      bytes += c.content->size();
      if (bytes > kMaxCarriedRulesBytes) return Error{"rules: more text than policy sync carries"};
    }
    out.push_back(std::move(c));
  }
  return out;
}

Result<size_t> adoptCarriedRules(const std::vector<CarriedRulesFile>& files, PolicyStore& store) {
  const std::string rulesDir = store.rulesDir();
  // Every file is checked before any is stored: a refused version leaves nothing behind.
  for (const auto& f : files) {
    const std::string hash = storedRulesFileHash(f.path, rulesDir);
    if (!hash.empty()) {
      if (!f.content)
        return Error{"the active sent the stored IDS rule file without its text", f.path};
      const std::string got = sha256Hex(*f.content);
      if (f.sha256 != hash || got != hash)
        return Error{"the IDS rule file's text from the active does not match the hash in its "
                     "name (sha256 " + got + "); not stored, version refused",
                     f.path};
      continue;
    }
    if (looksStored(f.path) || f.content) {
      // Another box's store: the version's path would name a file this box does not have.
      return Error{"the IDS rule file is in the active's policy store, which is not this box's (" +
                       rulesDir + "): both boxes of a pair must use the same control.store "
                       "directory",
                   f.path};
    }
    // A plain file: each box has its own; it must be the same text.
    auto text = readFileLimited(f.path, kMaxRulesFileBytes);
    if (!text)
      return Error{"the IDS rule file cannot be read on this box (" + text.error().message +
                       "); put the active's file (sha256 " + f.sha256 + ") here",
                   f.path};
    if (sha256Hex(*text) != f.sha256)
      return Error{"the IDS rule file differs from the active's (sha256 here " + sha256Hex(*text) +
                       ", on the active " + f.sha256 + "): both boxes must enforce the same rules",
                   f.path};
  }
  size_t stored = 0;
  for (const auto& f : files) {
    if (!f.content) continue;
    const std::string name = std::filesystem::path(f.path).filename().string().substr(65);
    auto path = store.putRules(name, *f.content);
    if (!path) return path.error();
    if (std::filesystem::absolute(*path).lexically_normal().string() != f.path)
      return Error{"the IDS rule file was stored as " + *path + ", not where the version names it",
                   f.path};
    ++stored;
  }
  return stored;
}

}  // namespace lbg::control
