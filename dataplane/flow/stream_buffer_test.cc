#include "dataplane/flow/stream_buffer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

namespace lbg::flow {
namespace {

std::vector<uint8_t> bytes(size_t n, uint8_t seed = 1) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(seed + i * 31 + (i >> 8));
  return b;
}

class Stream : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = StreamBufferPool::create(4, 1024);
    ASSERT_TRUE(p.ok());
    pool_ = std::move(p.value());
  }
  StreamStatus add(uint32_t seq, const std::vector<uint8_t>& data, size_t from, size_t len) {
    return streamAdd(*pool_, s_, seq + uint32_t(from), data.data() + from, uint32_t(len));
  }
  std::vector<uint8_t> contiguous() const {
    const auto sp = streamContiguous(*pool_, s_);
    return {sp.begin(), sp.end()};
  }

  std::unique_ptr<StreamBufferPool> pool_;
  StreamState s_{};
};

TEST_F(Stream, InactiveStateRefuses) {
  const auto d = bytes(10);
  EXPECT_FALSE(s_.active());
  EXPECT_EQ(add(0, d, 0, 10), StreamStatus::OutOfWindow);
  EXPECT_TRUE(streamContiguous(*pool_, s_).empty());
}

TEST_F(Stream, InOrderOneByteSegments) {
  ASSERT_TRUE(pool_->attach(s_, 1000));
  const auto d = bytes(700);
  for (size_t i = 0; i < d.size(); ++i) ASSERT_EQ(add(1000, d, i, 1), StreamStatus::Ok) << i;
  EXPECT_EQ(contiguous(), d);
  EXPECT_EQ(s_.rangeCount, 0);
}

TEST_F(Stream, ReverseOrderOneByteSegments) {
  ASSERT_TRUE(pool_->attach(s_, 77));
  const auto d = bytes(500);
  for (size_t i = d.size(); i-- > 1;) {
    ASSERT_EQ(add(77, d, i, 1), StreamStatus::Ok) << i;
    ASSERT_EQ(s_.rangeCount, 1);  // one island, growing downwards
    ASSERT_TRUE(contiguous().empty());
  }
  EXPECT_EQ(add(77, d, 0, 1), StreamStatus::Ok);
  EXPECT_EQ(contiguous(), d);
  EXPECT_EQ(s_.rangeCount, 0);
}

TEST_F(Stream, RandomPermutationsAssembleExactly) {
  // 16 segments of random sizes in a random order, many seeds: never more than 8 islands.
  const auto d = bytes(1000, 9);
  for (uint32_t seed = 0; seed < 300; ++seed) {
    std::mt19937 rng(seed);
    std::vector<size_t> cuts = {0, d.size()};
    while (cuts.size() < 17) {
      const size_t c = 1 + rng() % (d.size() - 1);
      if (std::find(cuts.begin(), cuts.end(), c) == cuts.end()) cuts.push_back(c);
    }
    std::sort(cuts.begin(), cuts.end());
    std::vector<size_t> order(16);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    StreamState s{};
    const uint32_t base = rng();  // anywhere in sequence space, wrap-around included
    ASSERT_TRUE(pool_->attach(s, base));
    for (size_t k : order) {
      ASSERT_EQ(streamAdd(*pool_, s, base + uint32_t(cuts[k]), d.data() + cuts[k],
                          uint32_t(cuts[k + 1] - cuts[k])),
                StreamStatus::Ok)
          << "seed " << seed;
    }
    const auto sp = streamContiguous(*pool_, s);
    ASSERT_EQ(std::vector<uint8_t>(sp.begin(), sp.end()), d) << "seed " << seed;
    pool_->detach(s);
  }
  EXPECT_EQ(pool_->available(), pool_->buffers());
}

TEST_F(Stream, DuplicatesAndIdenticalOverlapsAreFine) {
  ASSERT_TRUE(pool_->attach(s_, 0));
  const auto d = bytes(300);
  EXPECT_EQ(add(0, d, 0, 100), StreamStatus::Ok);
  EXPECT_EQ(add(0, d, 0, 100), StreamStatus::Duplicate);
  EXPECT_EQ(add(0, d, 10, 20), StreamStatus::Duplicate);
  EXPECT_EQ(add(0, d, 200, 50), StreamStatus::Ok);
  EXPECT_EQ(add(0, d, 210, 10), StreamStatus::Duplicate);
  EXPECT_EQ(add(0, d, 50, 200), StreamStatus::Ok);  // overlaps both sides identically, fills gap
  EXPECT_EQ(contiguous(), std::vector<uint8_t>(d.begin(), d.begin() + 250));
  EXPECT_EQ(add(0, d, 0, 0), StreamStatus::Duplicate);
}

TEST_F(Stream, ConflictingOverlapIsReported) {
  ASSERT_TRUE(pool_->attach(s_, 5000));
  const auto d = bytes(200);
  auto evil = d;
  evil[120] ^= 0xff;
  EXPECT_EQ(add(5000, d, 100, 50), StreamStatus::Ok);  // an island [100,150)
  EXPECT_EQ(add(5000, evil, 90, 40), StreamStatus::Conflict);
  EXPECT_EQ(add(5000, d, 0, 100), StreamStatus::Ok);
  EXPECT_EQ(add(5000, evil, 110, 20), StreamStatus::Conflict);  // now in the contiguous part
  EXPECT_EQ(contiguous(), std::vector<uint8_t>(d.begin(), d.begin() + 150));  // unchanged
}

TEST_F(Stream, SequenceWrapAround) {
  const uint32_t base = 0xfffffff0u;
  ASSERT_TRUE(pool_->attach(s_, base));
  const auto d = bytes(64);
  EXPECT_EQ(add(base, d, 32, 32), StreamStatus::Ok);  // seq 0x10: after the wrap
  EXPECT_EQ(add(base, d, 0, 32), StreamStatus::Ok);   // straddles 2^32
  EXPECT_EQ(contiguous(), d);
  // Data from before byte 0 (a retransmitted SYN payload, say) is trimmed to the stream.
  EXPECT_EQ(streamAdd(*pool_, s_, base - 10, d.data(), 10), StreamStatus::Duplicate);
  std::vector<uint8_t> pre(30, 0xaa);  // 10 bytes before byte 0, then the first 20
  std::copy(d.begin(), d.begin() + 20, pre.begin() + 10);
  EXPECT_EQ(streamAdd(*pool_, s_, base - 10, pre.data(), uint32_t(pre.size())),
            StreamStatus::Duplicate);
  pre[15] ^= 1;
  EXPECT_EQ(streamAdd(*pool_, s_, base - 10, pre.data(), uint32_t(pre.size())),
            StreamStatus::Conflict);
}

TEST_F(Stream, CapacityAndHoles) {
  ASSERT_TRUE(pool_->attach(s_, 0));
  const auto d = bytes(2000);
  EXPECT_EQ(add(0, d, 1024, 10), StreamStatus::OutOfWindow);  // wholly beyond the buffer
  EXPECT_EQ(add(0, d, 1000, 100), StreamStatus::Ok);          // the part that fits is kept
  // Eight islands fit, a ninth does not.
  for (int i = 0; i < 7; ++i) EXPECT_EQ(add(0, d, 100 + i * 100, 10), StreamStatus::Ok) << i;
  EXPECT_EQ(s_.rangeCount, 8);
  EXPECT_EQ(add(0, d, 50, 10), StreamStatus::OutOfWindow);
  EXPECT_EQ(s_.rangeCount, 8);
  EXPECT_EQ(add(0, d, 105, 100), StreamStatus::Ok);  // joins two islands
  EXPECT_EQ(s_.rangeCount, 7);
  EXPECT_EQ(add(0, d, 0, 1000), StreamStatus::Ok);
  EXPECT_EQ(s_.rangeCount, 0);
  EXPECT_EQ(contiguous(), std::vector<uint8_t>(d.begin(), d.begin() + 1024));
  EXPECT_EQ(add(0, d, 1023, 50), StreamStatus::Duplicate);
}

TEST_F(Stream, PoolExhaustionAndRelease) {
  std::vector<StreamState> states(5);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(pool_->attach(states[i], 0));
  EXPECT_FALSE(pool_->attach(states[4], 0));
  EXPECT_FALSE(states[4].active());
  EXPECT_EQ(pool_->counters.exhausted, 1u);
  pool_->detach(states[1]);
  EXPECT_FALSE(states[1].active());
  pool_->detach(states[1]);  // harmless
  pool_->release(2);         // already in use by states[2]: a real release
  pool_->release(2);         // double: ignored and counted
  pool_->release(-3);
  EXPECT_EQ(pool_->counters.bad_release, 2u);
  EXPECT_EQ(pool_->available(), 2u);
  EXPECT_TRUE(pool_->attach(states[4], 0));
}

TEST(StreamPool, Validated) {
  EXPECT_FALSE(StreamBufferPool::create(0, 100).ok());
  EXPECT_FALSE(StreamBufferPool::create(10, 0).ok());
  EXPECT_FALSE(StreamBufferPool::create(10, 70000).ok());
  EXPECT_TRUE(StreamBufferPool::create(10, 65535).ok());
}

}  // namespace
}  // namespace lbg::flow
