#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "control/api.h"
#include "policy/base/result.h"

namespace lbg::control {

// Who may do what: OS users (by name or numeric uid) and groups mapped to exactly one role.
//
//   users:  {alice: admin, bob: approver, "1002": operator}
//   groups: {lbg-audit: auditor}
//
// A user's own entry wins over group entries. A user whose groups name different roles gets no
// role at all (ambiguous): separation of duties must not depend on map order. Nobody has a role
// by default, not even root.
class Roles {
 public:
  static Result<Roles> load(const std::string& path);
  static Result<Roles> parse(std::string_view yamlText, std::string_view fileName);

  struct Identity {
    uint32_t uid = 0;
    std::string user;                 // may be empty (uid without a passwd entry)
    std::vector<std::string> groups;  // names of all groups, primary first
    std::vector<uint32_t> gids;
  };
  // Resolves a peer's uid/gid through the system user database (getpwuid_r, getgrouplist).
  static Identity identify(uint32_t uid, uint32_t gid);

  // The role, or an error message suitable for the caller ("no role for user carol (uid 1003)").
  Result<Role> roleFor(const Identity& id) const;

  size_t size() const { return users_.size() + uids_.size() + groups_.size() + gids_.size(); }

 private:
  std::map<std::string, Role> users_;
  std::map<uint32_t, Role> uids_;
  std::map<std::string, Role> groups_;
  std::map<uint32_t, Role> gids_;
};

}  // namespace lbg::control
