#include "control/lbgctl_stats.h"

#include <gtest/gtest.h>

namespace lbg::control::cli {
namespace {

using nlohmann::json;

json counter(const char* name, uint64_t v, const char* section = nullptr) {
  json c = {{"name", name}, {"help", "about " + std::to_string(v)}, {"value", v}};
  if (section != nullptr) c["section"] = section;
  return c;
}

// The section's counters move under its heading, in order; the others stay in the first table.
TEST(LbgctlStats, SectionCountersUnderTheirHeading) {
  const json r = {{"counters", json::array({counter("rx_packets", 5), counter("guard_rate_limited", 7, "ddos"),
                                            counter("tx_packets", 6), counter("guard_dests_full", 8, "ddos")})},
                  {"sections", json::array({{{"id", "ddos"}, {"title", "DDoS対策 / DDoS protection"}}})}};
  const std::string out = renderStats(r);
  const size_t heading = out.find("[ddos] DDoS対策 / DDoS protection\n");
  ASSERT_NE(heading, std::string::npos) << out;
  EXPECT_LT(out.find("rx_packets"), heading);
  EXPECT_LT(out.find("tx_packets"), heading);
  const size_t rate = out.find("guard_rate_limited");
  const size_t dests = out.find("guard_dests_full");
  EXPECT_GT(rate, heading);
  EXPECT_GT(dests, rate);
  EXPECT_EQ(out.find("guard_rate_limited", rate + 1), std::string::npos) << "listed twice";
  EXPECT_NE(out.find("about 8"), std::string::npos);
}

// A daemon older than sections (no `sections`) still prints every counter.
TEST(LbgctlStats, WithoutSectionsOneTable) {
  const json r = {{"counters", json::array({counter("rx_packets", 5), counter("tx_packets", 6)})}};
  const std::string out = renderStats(r);
  EXPECT_NE(out.find("rx_packets"), std::string::npos);
  EXPECT_NE(out.find("tx_packets"), std::string::npos);
  EXPECT_EQ(out.find('['), std::string::npos);
}

}  // namespace
}  // namespace lbg::control::cli
