#include <gtest/gtest.h>

#include "control/ismap.h"
#include "control/prometheus.h"
#include "control/sha256.h"
#include "control/verdict_diff.h"

namespace lbg::control {
namespace {

TEST(Sha256Test, KnownVector) {
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(VerdictDiffTest, PairsByTupleAndOccurrence) {
  const auto ev = [](int sport, const char* action, const char* service) {
    return std::string(
               R"({"event_type":"flow","phase":"verdict","proto":"TCP","src_ip":"10.0.0.1","src_port":)") +
           std::to_string(sport) + R"(,"dest_ip":"1.2.3.4","dest_port":443,"action":")" + action +
           R"(","reason":"sni","policy":{"version":1,"service":)" + service +
           R"(},"tls":{"sni":"a.example.com"}})";
  };
  const std::vector<std::string> running = {ev(1, "allow", "\"a\""), ev(2, "deny", "null"),
                                            ev(2, "deny", "null"),
                                            R"({"event_type":"flow","phase":"end"})", "garbage"};
  const std::vector<std::string> candidate = {ev(1, "allow", "\"a\""), ev(2, "deny", "null"),
                                              ev(2, "allow", "\"b\""), ev(3, "allow", "\"b\"")};
  const auto cmp = compareVerdicts(running, candidate);
  EXPECT_EQ(cmp.flows, 4u);
  ASSERT_EQ(cmp.changes.size(), 2u);
  EXPECT_EQ(cmp.changes[0].flow, "TCP 10.0.0.1:2 -> 1.2.3.4:443");
  EXPECT_EQ(cmp.changes[0].fromAction, "deny");
  EXPECT_EQ(cmp.changes[0].toService, "b");
  EXPECT_EQ(cmp.changes[0].name, "a.example.com");
  EXPECT_EQ(cmp.changes[1].fromAction, "-") << "no verdict in the running replay";
  EXPECT_TRUE(compareVerdicts(running, running).changes.empty());
}

// `policy test` on a gateway with an exception port: a flow that a candidate hands to lbg-proxy
// at its SYN shows as intercept, with the DNS-bound name that made it so.
TEST(VerdictDiffTest, InterceptShowsTheBoundName) {
  const std::string base =
      R"({"event_type":"flow","phase":"verdict","proto":"TCP","src_ip":"10.0.0.1","src_port":5,)"
      R"("dest_ip":"1.2.3.4","dest_port":443,)";
  const std::vector<std::string> running = {
      base + R"("action":"deny","reason":"intercept-unavailable:no-exception-port","policy":{"service":"entra"}})"};
  const std::vector<std::string> candidate = {
      base + R"("action":"allow","reason":"intercept","policy":{"service":"entra"},"dns":{"rrname":"login.microsoftonline.com"}})"};
  const auto cmp = compareVerdicts(running, candidate);
  ASSERT_EQ(cmp.changes.size(), 1u);
  EXPECT_EQ(cmp.changes[0].toReason, "intercept");
  EXPECT_EQ(cmp.changes[0].name, "login.microsoftonline.com");
}

TEST(IsmapTest, ExpiringSortedAndInclusive) {
  using namespace std::chrono;
  policy::PolicyDoc doc;
  const auto svc = [](std::string name, std::string expires) {
    policy::ServiceSpec s;
    s.name = std::move(name);
    s.ismap = policy::Ismap{"C00-0000-0", std::move(expires)};
    return s;
  };
  doc.services = {svc("late", "2027-01-31"), svc("soon", "2026-12-01"), svc("edge", "2026-12-23"),
                  policy::ServiceSpec{}};
  const sys_days today = 2026y / November / 23;
  const auto e = expiringServices(doc, today, 30);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].name, "soon");
  EXPECT_EQ(e[0].daysLeft, 8);
  EXPECT_EQ(e[1].name, "edge");
  EXPECT_EQ(e[1].daysLeft, 30);
  EXPECT_FALSE(parseIsoDate("2026-02-30"));
  EXPECT_FALSE(parseIsoDate("2026-2-3"));
  EXPECT_TRUE(parseIsoDate("2028-02-29"));
}

TEST(PrometheusTest, IdsRulesPerRuleWithLabels) {
  std::string none;
  appendPrometheusIdsRules(none, ids::RuleCostReport{});
  EXPECT_EQ(none, "");  // no IDS in the running policy
  ids::RuleCostReport r;
  r.enabled = true;
  r.rules = 3;
  r.rulesChecked = 2;
  r.rulesMatched = 1;
  r.top.push_back({1, 2013315, 4, "ET HUNTING UA", {10, 2, 900}});
  r.top.push_back({1, 7, 1, "local", {3, 0, 50}});
  std::string t;
  appendPrometheusIdsRules(t, r);
  EXPECT_NE(t.find("lbg_ids_rules 3\n"), std::string::npos);
  EXPECT_NE(t.find("lbg_ids_rules_matched 1\n"), std::string::npos);
  EXPECT_NE(t.find("# TYPE lbg_ids_rule_matches_total counter\n"
                   "lbg_ids_rule_matches_total{gid=\"1\",sid=\"2013315\",rev=\"4\"} 2\n"
                   "lbg_ids_rule_matches_total{gid=\"1\",sid=\"7\",rev=\"1\"} 0\n"),
            std::string::npos);
  EXPECT_NE(t.find("lbg_ids_rule_cycles_total{gid=\"1\",sid=\"7\",rev=\"1\"} 50\n"),
            std::string::npos);
}

TEST(PrometheusTest, Exposition) {
  const std::string t = renderPrometheus({{"rx_packets", "packets received", 7},
                                          {"9bad-name", "x\\y", 1},
                                          {"bytes_total", "already total", 2}});
  EXPECT_EQ(
      t,
      "# HELP lbg_rx_packets_total packets received\n# TYPE lbg_rx_packets_total counter\n"
      "lbg_rx_packets_total 7\n"
      "# HELP lbg_9bad_name_total x\\\\y\n# TYPE lbg_9bad_name_total counter\nlbg_9bad_name_total "
      "1\n"
      "# HELP lbg_bytes_total already total\n# TYPE lbg_bytes_total counter\nlbg_bytes_total 2\n");
  std::string g;
  appendPrometheusGauge(g, "lbg_policy_running_version", "v", 3);
  EXPECT_EQ(g,
            "# HELP lbg_policy_running_version v\n# TYPE lbg_policy_running_version gauge\n"
            "lbg_policy_running_version 3\n");
  // A state (the log's alarm) is a gauge and keeps its name.
  EXPECT_EQ(renderPrometheus({{"log_alarm", "alarm raised", 1, true}}),
            "# HELP lbg_log_alarm alarm raised\n# TYPE lbg_log_alarm gauge\nlbg_log_alarm 1\n");
}

}  // namespace
}  // namespace lbg::control
