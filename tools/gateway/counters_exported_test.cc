// Every counter a module declares (telemetry/counters.h X-macro) reaches the operator: the
// gateway's counter export, `lbgctl stats` (the dispatcher's JSON) and the Prometheus text.
// Lives with lbg-gateway because that is where the dataplane's export meets control/.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/api.h"
#include "control/dispatcher.h"
#include "control/fake_control_api.h"
#include "dataplane/core/counter_export.h"
#include "dataplane/core/counter_sections.h"
#include "dataplane/proxy/counters_file.h"
#include "dataplane/telemetry/log/log_counters.h"

namespace lbg {
namespace {

using dataplane::ControlApi;

struct Declared {
  std::string name;
  std::string help;
  bool gauge;
};

template <class Set>
void declare(std::vector<Declared>& out) {
  for (const auto& info : Set::kInfo) {
    out.push_back(
        {std::string(Set::kPrefix) + std::string(info.name), std::string(info.help), Set::kGauge});
  }
}

// Every declared set of the gateway. A module adding a set adds it here and to its export.
std::vector<Declared> declaredCounters() {
  std::vector<Declared> d;
  declare<dataplane::PipelineCounters>(d);
  declare<dataplane::PortCounters>(d);
  declare<dataplane::HaGauges>(d);
  declare<ha::SyncLinkCounters::Plain>(d);
  declare<flow::FlowTableCounters>(d);
  declare<flow::StreamBufferCounters>(d);
  declare<packet::ReassemblerCounters>(d);
  declare<inspect::AppIdCounters>(d);
  declare<inspect::DnsBindingCounters::Plain>(d);
  declare<telemetry::LogCounters>(d);
  declare<telemetry::LogGauges>(d);
  return d;
}

// What the running gateway reports: the runtime's export plus the log writer's sets, as
// lbg-gateway's service counters add them. Each value is distinct, to catch a crossed wire.
std::vector<ControlApi::Counter> gatewayCounters() {
  dataplane::WorkerCounters w;
  w.pipeline.rx_packets = 11;
  w.port.tx_dropped = 12;
  w.flowTable.evicted = 13;
  w.streams.bad_release = 14;
  w.reassembly.too_big = 15;
  w.appid.gave_up = 16;
  inspect::DnsBindingCounters dns;
  dns.read_retries.store(17);
  w.port.ha_standby_dropped = 19;
  dataplane::HaGauges ha;
  ha.ha_standby = 1;
  ha::SyncLinkCounters sync;
  sync.ha_sync_auth_failed.store(20);
  w.pipeline.ha_sync_installed = 21;
  auto out = dataplane::exportCounters(w, dns.snapshot(), ha, sync.snapshot());
  telemetry::LogCounters log;
  log.records_lost = 18;
  telemetry::LogGauges gauges;
  gauges.alarm = 1;
  dataplane::appendCounters(log, out);
  dataplane::appendCounters(gauges, out);
  return out;
}

TEST(CountersExported, EveryDeclaredCounterIsInTheExportOnceWithItsHelp) {
  const auto exported = gatewayCounters();
  std::set<std::string> names;
  for (const auto& c : exported) EXPECT_TRUE(names.insert(c.name).second) << "twice: " << c.name;
  for (const auto& d : declaredCounters()) {
    const auto it = std::find_if(exported.begin(), exported.end(),
                                 [&](const ControlApi::Counter& c) { return c.name == d.name; });
    ASSERT_NE(it, exported.end()) << d.name << " is declared but not exported";
    EXPECT_EQ(it->help, d.help);
    EXPECT_FALSE(it->help.empty()) << d.name;
    EXPECT_EQ(it->gauge, d.gauge) << d.name;
  }
  auto value = [&](const std::string& n) {
    for (const auto& c : exported)
      if (c.name == n) return c.value;
    return uint64_t(0);
  };
  EXPECT_EQ(value("rx_packets"), 11u);
  EXPECT_EQ(value("tx_dropped"), 12u);
  EXPECT_EQ(value("flow_table_evicted"), 13u);
  EXPECT_EQ(value("stream_buffer_bad_release"), 14u);
  EXPECT_EQ(value("reassembly_too_big"), 15u);
  EXPECT_EQ(value("appid_gave_up"), 16u);
  EXPECT_EQ(value("dns_binding_read_retries"), 17u);
  EXPECT_EQ(value("log_records_lost"), 18u);
  EXPECT_EQ(value("log_alarm"), 1u);
  EXPECT_EQ(value("ha_standby_dropped"), 19u);
  EXPECT_EQ(value("ha_standby"), 1u);
  EXPECT_EQ(value("ha_sync_auth_failed"), 20u);
  EXPECT_EQ(value("ha_sync_installed"), 21u);
}

// The `ddos` section is the guard's sub-list of the pipeline counters, exactly: every guard_
// counter is in it (with its heading), and no other counter is; likewise `ha` and the ha_ ones.
TEST(CountersExported, GuardCountersFormTheDdosSection) {
  const auto exported = gatewayCounters();
  std::set<std::string> inSection, inHa;
  for (const auto& c : exported) {
    if (c.section.empty()) {
      EXPECT_TRUE(c.sectionTitle.empty()) << c.name;
      continue;
    }
    if (c.section == "ha") {
      EXPECT_TRUE(c.name.starts_with("ha_")) << c.name;
      EXPECT_NE(c.sectionTitle.find("HA"), std::string::npos) << c.name;
      inHa.insert(c.name);
      continue;
    }
    EXPECT_EQ(c.section, "ddos") << c.name;
    EXPECT_NE(c.sectionTitle.find("DDoS"), std::string::npos) << c.name;
    inSection.insert(c.name);
  }
  std::set<std::string> ha;
  for (const auto& info : dataplane::kHaCounterInfo) ha.insert(std::string(info.name));
  EXPECT_EQ(inHa, ha);
  for (const char* n : {"ha_standby", "ha_standby_dropped", "ha_sync_queued", "ha_sync_installed",
                        "ha_sync_auth_failed", "ha_sync_version_mismatch", "ha_sync_deleted"}) {
    EXPECT_TRUE(inHa.count(n)) << n;
  }
  std::set<std::string> guard;
  for (const auto& info : dataplane::PipelineCounters::kInfo)
    if (info.name.starts_with("guard_")) guard.insert(std::string(info.name));
  EXPECT_EQ(inSection, guard);
  EXPECT_EQ(guard.size(), std::size(dataplane::kGuardCounterInfo));
  for (const char* n : {"guard_rate_limited", "guard_concurrent_limited", "guard_outside_dropped",
                        "guard_udp_flood_dropped", "guard_icmp_flood_dropped",
                        "guard_fragment_flood_dropped", "guard_sources_full", "guard_dests_full",
                        "guard_deny_summaries", "guard_deny_unsummarised"})
    EXPECT_TRUE(inSection.count(n)) << n;
}

TEST(CountersExported, WorkerSumsAddEverySet) {
  dataplane::WorkerCounters a, b;
  a.flowTable.inserted = 2;
  b.flowTable.inserted = 3;
  b.appid.packets = 4;
  b.decodeDrops[1] = 5;
  a.add(b);
  EXPECT_EQ(a.flowTable.inserted, 5u);
  EXPECT_EQ(a.appid.packets, 4u);
  EXPECT_EQ(a.decodeDrops[1], 5u);
}

class CountersReachOperator : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lbg-counters-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/roles.yaml") << "users:\n  \"0\": admin\n";
    api_.counters_ = gatewayCounters();
    control::Dispatcher::Config config;
    config.storeDir = dir_ + "/store";
    config.rolesFile = dir_ + "/roles.yaml";
    auto d = control::Dispatcher::create(config, api_);
    ASSERT_TRUE(d.ok()) << d.error().toString();
    dispatcher_ = std::move(*d);
  }
  void TearDown() override {
    dispatcher_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  control::testing::FakeControlApi api_;
  std::unique_ptr<control::Dispatcher> dispatcher_;
};

TEST_F(CountersReachOperator, EveryDeclaredCounterIsInStatsJson) {
  const std::string line = dispatcher_->handle(
      0, 0, control::encodeRequest(control::Request{1, "stats", nlohmann::json::object()}), -1);
  const auto j = nlohmann::json::parse(line);
  ASSERT_TRUE(j["ok"].get<bool>()) << line;
  std::set<std::string> names;
  for (const auto& c : j["result"]["counters"]) {
    names.insert(c["name"].get<std::string>());
    EXPECT_FALSE(c["help"].get<std::string>().empty());
  }
  for (const auto& d : declaredCounters()) EXPECT_TRUE(names.count(d.name)) << d.name;
}

// `lbgctl stats --json`: the guard's counters carry `section: ddos`, the HA role's `section: ha`,
// each section named once in `sections`.
TEST_F(CountersReachOperator, StatsJsonHasTheDdosSection) {
  const std::string line = dispatcher_->handle(
      0, 0, control::encodeRequest(control::Request{1, "stats", nlohmann::json::object()}), -1);
  const auto j = nlohmann::json::parse(line);
  ASSERT_TRUE(j["ok"].get<bool>()) << line;
  const auto& sections = j["result"]["sections"];
  ASSERT_EQ(sections.size(), 2u) << sections.dump();
  EXPECT_EQ(sections[0]["id"], "ddos");
  EXPECT_NE(sections[0]["title"].get<std::string>().find("DDoS"), std::string::npos);
  EXPECT_EQ(sections[1]["id"], "ha");
  size_t inDdos = 0, inHa = 0;
  for (const auto& c : j["result"]["counters"]) {
    const std::string name = c["name"].get<std::string>();
    const bool guard = name.starts_with("guard_");
    const bool ha = name.starts_with("ha_");
    EXPECT_EQ(c.value("section", std::string()), guard ? "ddos" : ha ? "ha" : "") << name;
    inDdos += guard;
    inHa += ha;
  }
  EXPECT_EQ(inDdos, std::size(dataplane::kGuardCounterInfo));
  EXPECT_EQ(inHa, std::size(dataplane::kHaCounterInfo));
}

TEST_F(CountersReachOperator, EveryDeclaredCounterIsInPrometheusText) {
  const std::string text = dispatcher_->metricsText();
  for (const auto& d : declaredCounters()) {
    const std::string metric = "lbg_" + d.name + (d.gauge ? "" : "_total");
    EXPECT_NE(text.find("# HELP " + metric + " " + d.help + "\n"), std::string::npos) << metric;
    EXPECT_NE(text.find("# TYPE " + metric + (d.gauge ? " gauge\n" : " counter\n")),
              std::string::npos)
        << metric;
  }
}

// lbg-proxy is another process: its counters reach the operator through the file it writes
// (dataplane/proxy/counters_file.h) and the control server reads (control.proxy_stats). Every
// counter of its X-macro is in `lbgctl stats` (section `proxy`) and Prometheus with its value.
TEST(ProxyCountersReachOperator, EveryProxyCounterIsInStatsAndPrometheus) {
  char tmpl[] = "/tmp/lbg-proxy-counters-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::ofstream(dir + "/roles.yaml") << "users:\n  \"0\": admin\n";
  proxy::ProxyCounters pc;
  // Distinct values, set through the declaration so a counter added later is covered too.
  uint64_t* fields = reinterpret_cast<uint64_t*>(&pc);
  static_assert(sizeof(pc) == proxy::ProxyCounters::kCount * sizeof(uint64_t));
  for (size_t i = 0; i < proxy::ProxyCounters::kCount; ++i) fields[i] = 100 + i;
  ASSERT_TRUE(proxy::writeCountersFile(dir + "/proxy.json", pc));
  control::testing::FakeControlApi api;
  api.counters_ = gatewayCounters();
  control::Dispatcher::Config config;
  config.storeDir = dir + "/store";
  config.rolesFile = dir + "/roles.yaml";
  config.proxyStatsFile = dir + "/proxy.json";
  {
    auto d = control::Dispatcher::create(config, api);
    ASSERT_TRUE(d.ok()) << d.error().toString();
    const auto j = nlohmann::json::parse((*d)->handle(
        0, 0, control::encodeRequest(control::Request{1, "stats", nlohmann::json::object()}), -1));
    ASSERT_TRUE(j["ok"].get<bool>()) << j.dump();
    const std::string prom = (*d)->metricsText();
    size_t seen = 0;
    pc.forEach([&](const telemetry::CounterInfo& info, uint64_t value) {
      const std::string name = "proxy_" + std::string(info.name);
      bool found = false;
      for (const auto& c : j["result"]["counters"]) {
        if (c["name"] != name) continue;
        found = true;
        EXPECT_EQ(c["value"].get<uint64_t>(), value) << name;
        EXPECT_EQ(c["help"].get<std::string>(), info.help) << name;
        EXPECT_EQ(c.value("section", std::string()), "proxy") << name;
      }
      EXPECT_TRUE(found) << name << " is declared but not in stats";
      EXPECT_NE(prom.find("# HELP lbg_" + name + "_total " + std::string(info.help) + "\n"),
                std::string::npos)
          << name;
      EXPECT_NE(prom.find("\nlbg_" + name + "_total " + std::to_string(value) + "\n"),
                std::string::npos)
          << name;
      ++seen;
    });
    EXPECT_EQ(seen, proxy::ProxyCounters::kCount);
    // This process wrote the file and runs: proxy_running is 1.
    EXPECT_NE(prom.find("\nlbg_proxy_running 1\n"), std::string::npos);
    bool section = false;
    for (const auto& s : j["result"]["sections"]) section |= s["id"] == "proxy";
    EXPECT_TRUE(section) << j["result"]["sections"].dump();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lbg
