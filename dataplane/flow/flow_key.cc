#include "dataplane/flow/flow_key.h"

#include <random>

namespace lbg::flow::detail {

uint64_t processHashSeed() {
  std::random_device rd;
  // Odd, so that a multiplier built from it is never zero.
  return (uint64_t(rd()) << 32 | rd()) | 1;
}

}  // namespace lbg::flow::detail
