#include "control/roles.h"

#include <unistd.h>

#include <gtest/gtest.h>

namespace lbg::control {
namespace {

Roles::Identity who(uint32_t uid, std::string user, std::vector<std::string> groups = {},
                    std::vector<uint32_t> gids = {}) {
  return Roles::Identity{uid, std::move(user), std::move(groups), std::move(gids)};
}

TEST(RolesTest, UsersByNameAndUid) {
  auto r = Roles::parse("users: {alice: admin, bob: approver, \"1003\": operator}\n", "roles.yaml");
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(*r->roleFor(who(1001, "alice")), Role::Admin);
  EXPECT_EQ(*r->roleFor(who(1002, "bob")), Role::Approver);
  EXPECT_EQ(*r->roleFor(who(1003, "")), Role::Operator);
  EXPECT_EQ(*r->roleFor(who(1003, "carol")), Role::Operator);
  auto none = r->roleFor(who(0, "root"));
  ASSERT_FALSE(none.ok()) << "root gets no role unless listed";
  EXPECT_EQ(none.error().message, "no role for user root (uid 0)");
}

TEST(RolesTest, GroupsAndPrecedence) {
  auto r = Roles::parse(
      "users: {dave: auditor}\ngroups: {netadm: admin, \"2000\": approver, audit: auditor}\n",
      "roles.yaml");
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(*r->roleFor(who(1, "erin", {"users", "netadm"})), Role::Admin);
  EXPECT_EQ(*r->roleFor(who(1, "", {}, {2000})), Role::Approver);
  EXPECT_EQ(*r->roleFor(who(1, "dave", {"netadm"})), Role::Auditor) << "own entry wins";
  EXPECT_EQ(*r->roleFor(who(1, "frank", {"audit", "audit"})), Role::Auditor);
  auto amb = r->roleFor(who(1, "gina", {"netadm"}, {2000}));
  ASSERT_FALSE(amb.ok()) << "two groups with different roles must not pick one silently";
  EXPECT_NE(amb.error().message.find("ambiguous"), std::string::npos);
}

TEST(RolesTest, ErrorsCarryPositions) {
  auto bad = Roles::parse("users:\n  alice: admin\n  bob: superuser\n", "roles.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().file, "roles.yaml");
  EXPECT_EQ(bad.error().line, 3);
  EXPECT_EQ(bad.error().column, 8);
  EXPECT_NE(bad.error().message.find("unknown role \"superuser\""), std::string::npos);

  auto dup = Roles::parse("users:\n  alice: admin\n  alice: approver\n", "roles.yaml");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().line, 3);
  EXPECT_NE(dup.error().message.find("duplicate"), std::string::npos);

  auto unknown = Roles::parse("user: {alice: admin}\n", "roles.yaml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().line, 1);
  EXPECT_NE(unknown.error().message.find("unknown key \"user\""), std::string::npos);

  auto syntax = Roles::parse("users: {alice: admin\n", "roles.yaml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_GT(syntax.error().line, 0);

  EXPECT_FALSE(Roles::parse("users: [alice]\n", "roles.yaml").ok());
  EXPECT_FALSE(Roles::parse("- 1\n", "roles.yaml").ok());
  EXPECT_FALSE(Roles::load("/nonexistent/roles.yaml").ok());
}

TEST(RolesTest, EmptyFileGrantsNothing) {
  auto r = Roles::parse("", "roles.yaml");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->roleFor(who(1000, "alice")).ok());
}

TEST(RolesTest, IdentifyResolvesRoot) {
  const auto id = Roles::identify(0, 0);
  EXPECT_EQ(id.user, "root");
  ASSERT_FALSE(id.groups.empty());
  EXPECT_EQ(id.groups[0], "root");
  // A uid without a passwd entry still resolves to its number.
  const auto anon = Roles::identify(4012345, 4012345);
  EXPECT_TRUE(anon.user.empty());
}

}  // namespace
}  // namespace lbg::control
