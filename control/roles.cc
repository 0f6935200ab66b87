#include "control/roles.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <charconv>
#include <optional>

#include "control/atomic_file.h"
#include "control/yaml_util.h"

namespace lbg::control {

namespace {

std::optional<uint32_t> numericId(const std::string& s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(v);
}

// Reads one "name: role" map into the by-name and by-number tables.
Result<Ok> readSection(std::string_view file, const YAML::Node& section, const char* what,
                       std::map<std::string, Role>& byName, std::map<uint32_t, Role>& byId) {
  if (section.IsNull()) return Ok{};
  if (!section.IsMap())
    return yamlError(file, section, std::string(what) + ": expected a map of name: role");
  for (auto it = section.begin(); it != section.end(); ++it) {
    if (!it->first.IsScalar() || !it->second.IsScalar()) {
      return yamlError(file, it->first, std::string(what) + ": expected name: role");
    }
    const std::string key = it->first.Scalar();
    const std::string roleText = it->second.Scalar();
    const auto role = parseRole(roleText);
    if (!role) {
      return yamlError(file, it->second,
                       std::string(what) + "." + key + ": unknown role \"" + roleText +
                           "\" (admin, approver, operator, auditor)");
    }
    if (key.empty()) return yamlError(file, it->first, std::string(what) + ": empty name");
    bool fresh;
    if (auto id = numericId(key)) {
      fresh = byId.emplace(*id, *role).second;
    } else {
      fresh = byName.emplace(key, *role).second;
    }
    if (!fresh)
      return yamlError(file, it->first, std::string(what) + ": duplicate entry \"" + key + "\"");
  }
  return Ok{};
}

}  // namespace

Result<Roles> Roles::load(const std::string& path) {
  auto text = readFileLimited(path, 1u << 20);
  if (!text) return text.error();
  return parse(*text, path);
}

Result<Roles> Roles::parse(std::string_view yamlText, std::string_view fileName) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yamlText));
  } catch (const YAML::Exception& e) {
    return yamlError(fileName, e);
  }
  Roles roles;
  if (root.IsNull()) return roles;  // an empty file grants nothing: every request is refused
  if (!root.IsMap())
    return yamlError(fileName, root, "roles file: expected a map with users and groups");
  bool seenUsers = false;
  bool seenGroups = false;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string();
    Result<Ok> r = Ok{};
    if (key == "users" && !seenUsers) {
      seenUsers = true;
      r = readSection(fileName, it->second, "users", roles.users_, roles.uids_);
    } else if (key == "groups" && !seenGroups) {
      seenGroups = true;
      r = readSection(fileName, it->second, "groups", roles.groups_, roles.gids_);
    } else {
      return yamlError(fileName, it->first,
                       (key == "users" || key == "groups")
                           ? "duplicate key \"" + key + "\""
                           : "unknown key \"" + key + "\" (users, groups)");
    }
    if (!r) return r.error();
  }
  return roles;
}

Roles::Identity Roles::identify(uint32_t uid, uint32_t gid) {
  Identity id;
  id.uid = uid;
  std::vector<char> buf(16384);
  struct passwd pw {};
  struct passwd* pwr = nullptr;
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &pwr) == 0 && pwr) {
    id.user = pw.pw_name;
    int n = 64;
    std::vector<gid_t> gids(n);
    if (getgrouplist(pw.pw_name, gid, gids.data(), &n) < 0) {
      gids.resize(n);
      if (getgrouplist(pw.pw_name, gid, gids.data(), &n) < 0) n = 0;
    }
    gids.resize(n);
    for (gid_t g : gids) id.gids.push_back(g);
  }
  if (id.gids.empty()) id.gids.push_back(gid);
  for (uint32_t g : id.gids) {
    std::vector<char> gbuf(65536);
    struct group gr {};
    struct group* grr = nullptr;
    if (getgrgid_r(g, &gr, gbuf.data(), gbuf.size(), &grr) == 0 && grr)
      id.groups.push_back(gr.gr_name);
  }
  return id;
}

Result<Role> Roles::roleFor(const Identity& id) const {
  const std::string who = (id.user.empty() ? std::string("uid ") : "user " + id.user + " (uid ") +
                          std::to_string(id.uid) + (id.user.empty() ? "" : ")");
  if (!id.user.empty()) {
    if (auto it = users_.find(id.user); it != users_.end()) return it->second;
  }
  if (auto it = uids_.find(id.uid); it != uids_.end()) return it->second;
  std::optional<Role> found;
  std::string via;
  const auto consider = [&](Role r, const std::string& name) -> bool {
    if (found && *found != r) return false;
    found = r;
    via = name;
    return true;
  };
  for (const auto& g : id.groups) {
    if (auto it = groups_.find(g); it != groups_.end() && !consider(it->second, g)) {
      return Error{"ambiguous role for " + who + ": groups give both " + toString(*found) +
                   " and " + toString(it->second)};
    }
  }
  for (uint32_t g : id.gids) {
    if (auto it = gids_.find(g); it != gids_.end() && !consider(it->second, std::to_string(g))) {
      return Error{"ambiguous role for " + who + ": groups give both " + toString(*found) +
                   " and " + toString(it->second)};
    }
  }
  if (found) return *found;
  return Error{"no role for " + who};
}

}  // namespace lbg::control
