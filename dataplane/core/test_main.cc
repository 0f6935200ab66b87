// gtest main for tests that need DPDK's EAL (mbuf pools): initialised once, offline arguments.
#include <gtest/gtest.h>

#include <cstdio>

#include "dataplane/core/eal.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  auto ok = lbg::dataplane::initEal(lbg::dataplane::offlineEalArgs());
  if (!ok) {
    std::fprintf(stderr, "%s\n", ok.error().toString().c_str());
    return 1;
  }
  return RUN_ALL_TESTS();
}
