#include "dataplane/core/ha_role.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace lbg::dataplane {
namespace {

TEST(HaRoleTest, ParsesAndPrintsBothRoles) {
  EXPECT_EQ(parseHaRole("active"), HaRole::Active);
  EXPECT_EQ(parseHaRole("standby"), HaRole::Standby);
  EXPECT_FALSE(parseHaRole("master").has_value());
  EXPECT_EQ(toString(HaRole::Standby), "standby");
}

// set() returns only once every running worker has read the new role at the top of an
// iteration: afterwards none forwards under the old one.
TEST(HaRoleTest, SetWaitsForEveryRunningWorker) {
  HaRoleSwitch s(HaRole::Standby, 2);
  EXPECT_EQ(s.role(), HaRole::Standby);
  // No worker iterates: the switch is not acknowledged.
  EXPECT_FALSE(s.set(HaRole::Active, std::chrono::milliseconds(5)));
  EXPECT_EQ(s.role(), HaRole::Active);  // the role is set all the same
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> iterations{0};
  std::thread w0([&] {
    uint64_t now = 1;
    while (!stop.load()) {
      s.workerRole(0, now++);
      iterations.fetch_add(1);
    }
    s.workerStopped(0);
  });
  // Worker 1 never runs; once stopped it no longer counts.
  s.workerStopped(1);
  EXPECT_TRUE(s.set(HaRole::Standby, std::chrono::seconds(10)));
  EXPECT_TRUE(s.set(HaRole::Active, std::chrono::seconds(10)));
  stop.store(true);
  w0.join();
  EXPECT_GT(s.lastBeatNs(0), 0u);
  EXPECT_EQ(s.lastBeatNs(1), 0u);
  EXPECT_TRUE(s.stopped(0));
}

TEST(HaRoleTest, WorkerSeesTheRoleItAcknowledges) {
  HaRoleSwitch s(HaRole::Active, 1);
  EXPECT_EQ(s.workerRole(0, 5), HaRole::Active);
  std::thread w([&] {
    while (s.workerRole(0, 6) != HaRole::Standby) {
    }
  });
  EXPECT_TRUE(s.set(HaRole::Standby, std::chrono::seconds(10)));
  w.join();
  EXPECT_EQ(s.lastBeatNs(0), 6u);
}

}  // namespace
}  // namespace lbg::dataplane
