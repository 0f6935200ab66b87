#include "dataplane/telemetry/spsc_ring.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace lbg::telemetry {
namespace {

TEST(SpscRing, FullRingRefusesInsteadOfBlocking) {
  SpscRing<uint64_t> ring(4);
  for (uint64_t i = 0; i < 4; ++i) EXPECT_TRUE(ring.tryPush(i));
  EXPECT_FALSE(ring.tryPush(99));
  uint64_t v = 0;
  ASSERT_TRUE(ring.tryPop(v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(ring.tryPush(4));
}

TEST(SpscRing, ConcurrentProducerConsumerKeepsOrderAndCountsLoss) {
  SpscRing<uint64_t> ring(64);
  constexpr uint64_t kN = 200000;
  std::atomic<uint64_t> lost{0};
  std::thread producer([&] {
    for (uint64_t i = 0; i < kN; ++i) {
      if (!ring.tryPush(i)) ++lost;
    }
  });
  uint64_t received = 0, last = 0;
  bool ordered = true, first = true;
  while (true) {
    uint64_t v;
    if (ring.tryPop(v)) {
      if (!first && v <= last) ordered = false;
      first = false;
      last = v;
      ++received;
    } else if (received + lost == kN) {
      break;
    } else {
      std::this_thread::yield();
    }
  }
  producer.join();
  EXPECT_TRUE(ordered);
  EXPECT_EQ(received + lost, kN);
}

}  // namespace
}  // namespace lbg::telemetry
