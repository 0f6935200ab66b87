// parallelFor (parallel_for.h): every index exactly once, on at most the threads asked for, and a
// callee's exception back on the caller's thread.

#include "sanitizer/common/parallel_for.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace lbg::sanitizer {
namespace {

TEST(ParallelFor, EveryIndexOnceOnAtMostTheThreadsAsked) {
  for (unsigned threads : {1u, 2u, 5u}) {
    std::vector<std::atomic<int>> seen(100);
    std::mutex lock;
    std::set<std::thread::id> ids;
    parallelFor(seen.size(), threads, [&](size_t i) {
      seen[i].fetch_add(1);
      std::lock_guard<std::mutex> hold(lock);
      ids.insert(std::this_thread::get_id());
    });
    for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i].load(), 1) << i;
    EXPECT_LE(ids.size(), threads);
    if (threads == 1) EXPECT_EQ(*ids.begin(), std::this_thread::get_id()) << "one thread: the caller's";
  }
}

TEST(ParallelFor, NothingToDoRunsNothing) {
  int calls = 0;
  parallelFor(0, 4, [&](size_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(ParallelFor, AnExceptionReachesTheCallerAfterEveryThreadStopped) {
  for (unsigned threads : {1u, 3u}) {
    std::atomic<int> running{0};
    EXPECT_THROW(parallelFor(50, threads,
                             [&](size_t i) {
                               running.fetch_add(1);
                               if (i == 7) {
                                 running.fetch_sub(1);
                                 throw std::runtime_error("seven");
                               }
                               running.fetch_sub(1);
                             }),
                 std::runtime_error);
    EXPECT_EQ(running.load(), 0);
  }
}

}  // namespace
}  // namespace lbg::sanitizer
