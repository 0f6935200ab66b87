#include "dataplane/cert/request_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace lbg::cert {
namespace {

TEST(RequestIndex, FindsWhatWasInsertedAndForgetsWhatWasErased) {
  RequestIndex index(4);
  index.insert(7, 0);
  index.insert(9, 3);
  EXPECT_EQ(index.find(7), 0);
  EXPECT_EQ(index.find(9), 3);
  EXPECT_EQ(index.find(8), -1);
  index.erase(7);
  EXPECT_EQ(index.find(7), -1);
  EXPECT_EQ(index.find(9), 3);
  index.erase(42);  // absent: nothing happens
  EXPECT_EQ(index.find(9), 3);
}

// Against a std::map under random insert/erase at full occupancy: backward-shift deletion keeps
// every probe run intact.
TEST(RequestIndex, AgreesWithAMapUnderChurn) {
  constexpr uint32_t kRequests = 64;
  RequestIndex index(kRequests);
  std::map<uint64_t, int32_t> model;
  std::mt19937_64 rng(1);
  uint64_t nextFlow = 1;
  for (int step = 0; step < 20000; ++step) {
    if (model.size() < kRequests && (model.empty() || rng() % 2 == 0)) {
      const uint64_t flow = nextFlow++;
      const int32_t rq = int32_t(rng() % kRequests);
      index.insert(flow, rq);
      model[flow] = rq;
    } else {
      auto it = model.begin();
      std::advance(it, rng() % model.size());
      index.erase(it->first);
      model.erase(it);
    }
    if (step % 97 == 0) {
      for (const auto& [flow, rq] : model) ASSERT_EQ(index.find(flow), rq) << "step " << step;
      ASSERT_EQ(index.find(nextFlow), -1);
    }
  }
}

}  // namespace
}  // namespace lbg::cert
