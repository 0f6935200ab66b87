#include "dataplane/core/gateway_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace lbg::dataplane {
namespace {

class GatewayConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lbg-gwconfig-test-XXXXXX";
    const int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    ::close(fd);
    path_ = tmpl;
  }
  void TearDown() override { ::unlink(path_.c_str()); }

  // A valid configuration followed by `extra` (top-level YAML lines).
  Result<GatewayConfig> load(const std::string& extra) {
    std::ofstream(path_, std::ios::trunc) << "ports: {inside: net_null0, outside: net_null1}\n"
                                             "policy: /etc/lbg/policy.yaml\n"
                                          << extra;
    return loadGatewayConfig(path_);
  }

  std::string path_;
};

TEST_F(GatewayConfigTest, ExceptionPortIsOptionalAndAPortOfItsOwn) {
  auto none = load("");
  ASSERT_TRUE(none.ok()) << none.error().toString();
  EXPECT_TRUE(none.value().exceptionPort.empty());
  std::ofstream(path_, std::ios::trunc)
      << "ports: {inside: net_null0, outside: net_null1, exception: \"net_tap0,iface=lbgx0\"}\n"
         "policy: /etc/lbg/policy.yaml\n";
  auto tap = loadGatewayConfig(path_);
  ASSERT_TRUE(tap.ok()) << tap.error().toString();
  EXPECT_EQ(tap.value().exceptionPort, "net_tap0,iface=lbgx0");
  std::ofstream(path_, std::ios::trunc)
      << "ports: {inside: net_null0, outside: net_null1, exception: net_null1}\n"
         "policy: /etc/lbg/policy.yaml\n";
  auto same = loadGatewayConfig(path_);
  ASSERT_FALSE(same.ok());
  EXPECT_NE(same.error().toString().find("exception port"), std::string::npos);
  // Several workers with the exception port: each tap frame is steered to its flow's worker
  // (runtime_steer.cc), so the combination is accepted.
  std::ofstream(path_, std::ios::trunc)
      << "ports: {inside: net_null0, outside: net_null1, exception: \"net_tap0,iface=lbgx0\"}\n"
         "workers: 2\npolicy: /etc/lbg/policy.yaml\n";
  auto two = loadGatewayConfig(path_);
  ASSERT_TRUE(two.ok()) << two.error().toString();
  EXPECT_EQ(two.value().workers, 2u);
  EXPECT_EQ(two.value().exceptionPort, "net_tap0,iface=lbgx0");
}

// ha: one box of an active/standby pair; without it, a single gateway (active, as always).
TEST_F(GatewayConfigTest, HaRoleAtStart) {
  auto single = load("");
  ASSERT_TRUE(single.ok()) << single.error().toString();
  EXPECT_FALSE(single.value().haConfigured);
  EXPECT_FALSE(single.value().haStartStandby);
  auto standby = load("ha: {role_at_start: standby}\n");
  ASSERT_TRUE(standby.ok()) << standby.error().toString();
  EXPECT_TRUE(standby.value().haConfigured);
  EXPECT_TRUE(standby.value().haStartStandby);
  auto active = load("ha: {role_at_start: active}\n");
  ASSERT_TRUE(active.ok()) << active.error().toString();
  EXPECT_FALSE(active.value().haStartStandby);
  auto bad = load("ha: {role_at_start: master}\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().line, 3);
  EXPECT_NE(bad.error().message.find("active or standby"), std::string::npos);
  auto unknown = load("ha: {peer: 10.0.0.2}\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("ha.peer"), std::string::npos);
}

// ha.sync: flow-state sync with the peer; every field checked at load, the key read once.
TEST_F(GatewayConfigTest, HaSyncIsValidatedOnce) {
  const std::string key = path_ + ".key";
  std::ofstream(key) << "0123456789abcdef0123456789abcdef\n";
  ::chmod(key.c_str(), 0600);
  auto ok = load("ha: {role_at_start: standby, sync: {local: \"192.168.7.1:7400\", peer: "
                 "\"192.168.7.2:7400\", key_file: " + key + "}}\n");
  ASSERT_TRUE(ok.ok()) << ok.error().toString();
  ASSERT_TRUE(ok.value().haSync.has_value());
  EXPECT_EQ(ok.value().haSync->peer.text, "192.168.7.2:7400");
  EXPECT_EQ(ok.value().haSync->key.bytes.size(), 32u);
  EXPECT_FALSE(load("").value().haSync.has_value());
  const struct {
    std::string yaml;
    std::string says;
  } bad[] = {
      {"ha: {sync: {peer: \"192.168.7.2:7400\", key_file: " + key + "}}", "ha.sync.local"},
      {"ha: {sync: {local: \"192.168.7.1\", peer: \"192.168.7.2:7400\", key_file: " + key + "}}",
       "ha.sync.local"},
      {"ha: {sync: {local: \"192.168.7.1:7400\", peer: \"peer.example:7400\", key_file: " + key +
           "}}",
       "ha.sync.peer"},
      {"ha: {sync: {local: \"192.168.7.1:7400\", peer: \"[fd00::2]:7400\", key_file: " + key +
           "}}",
       "both IPv4 or both IPv6"},
      {"ha: {sync: {local: \"192.168.7.1:7400\", peer: \"192.168.7.2:7400\"}}", "ha.sync.key_file"},
      {"ha: {sync: {local: \"192.168.7.1:7400\", peer: \"192.168.7.2:7400\", key_file: /nonexistent}}",
       "ha.sync.key_file"},
      {"ha: {sync: {local: \"192.168.7.1:7400\", peer: \"192.168.7.2:7400\", key_file: " + key +
           ", mtu: 9000}}",
       "ha.sync.mtu"},
      {"ha: {sync: \"192.168.7.2:7400\"}", "ha.sync must be a mapping"},
  };
  for (const auto& b : bad) {
    auto r = load(b.yaml + "\n");
    ASSERT_FALSE(r.ok()) << b.yaml;
    EXPECT_NE(r.error().toString().find(b.says), std::string::npos) << r.error().toString();
  }
  ::chmod(key.c_str(), 0644);  // readable by others: refused
  auto open = load("ha: {sync: {local: \"192.168.7.1:7400\", peer: \"192.168.7.2:7400\", key_file: " +
                   key + "}}\n");
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.error().toString().find("chmod 600"), std::string::npos);
  ::unlink(key.c_str());
}

// ha.policy: policy sync between the control planes; needs ha.sync's key, checked at load.
TEST_F(GatewayConfigTest, HaPolicyIsValidatedOnce) {
  const std::string key = path_ + ".key";
  std::ofstream(key) << "0123456789abcdef0123456789abcdef\n";
  ::chmod(key.c_str(), 0600);
  const std::string sync =
      "sync: {local: \"192.168.7.1:7400\", peer: \"192.168.7.2:7400\", key_file: " + key + "}";
  auto ok = load("ha: {" + sync +
                 ", policy: {local: \"192.168.7.1:7401\", peer: \"192.168.7.2:7401\"}}\n");
  ASSERT_TRUE(ok.ok()) << ok.error().toString();
  ASSERT_TRUE(ok.value().haPolicy.has_value());
  EXPECT_EQ(ok.value().haPolicy->peer.text, "192.168.7.2:7401");
  EXPECT_FALSE(load("ha: {" + sync + "}\n").value().haPolicy.has_value());
  const struct {
    std::string yaml;
    std::string says;
  } bad[] = {
      {"ha: {policy: {local: \"192.168.7.1:7401\", peer: \"192.168.7.2:7401\"}}", "needs ha.sync"},
      {"ha: {" + sync + ", policy: {peer: \"192.168.7.2:7401\"}}", "ha.policy.local"},
      {"ha: {" + sync + ", policy: {local: \"192.168.7.1:7401\", peer: \"lbg-b:7401\"}}",
       "ha.policy.peer"},
      {"ha: {" + sync + ", policy: {local: \"192.168.7.1:7401\", peer: \"[fd00::2]:7401\"}}",
       "both IPv4 or both IPv6"},
      {"ha: {" + sync + ", policy: {local: \"192.168.7.1:7401\", peer: \"192.168.7.1:7401\"}}",
       "must differ"},
      {"ha: {" + sync + ", policy: {local: \"192.168.7.1:7401\", peer: \"192.168.7.2:7401\", key_file: x}}",
       "ha.policy.key_file"},
      {"ha: {" + sync + ", policy: 7401}", "ha.policy must be a mapping"},
  };
  for (const auto& b : bad) {
    auto r = load(b.yaml + "\n");
    ASSERT_FALSE(r.ok()) << b.yaml;
    EXPECT_NE(r.error().toString().find(b.says), std::string::npos) << r.error().toString();
  }
  ::unlink(key.c_str());
}

TEST_F(GatewayConfigTest, MetricsAddressIsTyped) {
  auto off = load("");
  ASSERT_TRUE(off.ok()) << off.error().toString();
  EXPECT_FALSE(off.value().metricsListen.has_value());
  auto c = load("metrics: \"127.0.0.1:9100\"\n");
  ASSERT_TRUE(c.ok()) << c.error().toString();
  ASSERT_TRUE(c.value().metricsListen.has_value());
  EXPECT_EQ(c.value().metricsListen->host, "127.0.0.1");
  EXPECT_EQ(c.value().metricsListen->port, 9100);
  auto bare = load("metrics: 9100\n");
  ASSERT_TRUE(bare.ok()) << bare.error().toString();
  EXPECT_EQ(bare.value().metricsListen->port, 9100);
}

// control.proxy_stats: lbg-proxy's counters file, shown by lbgctl stats and Prometheus.
TEST_F(GatewayConfigTest, ProxyStatsFileIsOptional) {
  auto none = load("control: {socket: /run/lbg/control.sock}\n");
  ASSERT_TRUE(none.ok()) << none.error().toString();
  EXPECT_TRUE(none.value().proxyStatsFile.empty());
  auto set = load("control: {socket: /run/lbg/control.sock, proxy_stats: /run/lbg-proxy/counters.json}\n");
  ASSERT_TRUE(set.ok()) << set.error().toString();
  EXPECT_EQ(set.value().proxyStatsFile, "/run/lbg-proxy/counters.json");
}

TEST_F(GatewayConfigTest, TrustStoreAndCertRequests) {
  auto d = load("");
  ASSERT_TRUE(d.ok()) << d.error().toString();
  EXPECT_EQ(d.value().trustStore, "/etc/ssl/certs/ca-certificates.crt");
  EXPECT_EQ(d.value().certRequests, 4096u);
  auto c = load("trust_store: /etc/lbg/roots.pem\ncert_requests: 32\n");
  ASSERT_TRUE(c.ok()) << c.error().toString();
  EXPECT_EQ(c.value().trustStore, "/etc/lbg/roots.pem");
  EXPECT_EQ(c.value().certRequests, 32u);
  auto empty = load("trust_store: \"\"\n");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().line, 3);
  auto zero = load("cert_requests: 0\n");
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message.find("cert_requests"), std::string::npos);
}

// Pool sizes are validated once with their position: zero stream buffers would deny every
// followed flow, and a typo's billions would ask for more memory than the box has.
TEST_F(GatewayConfigTest, PoolSizesAreBounded) {
  auto ok = load("stream_buffers: 1024\nhold_slots: 4096\n");
  ASSERT_TRUE(ok.ok()) << ok.error().toString();
  EXPECT_EQ(ok.value().pipeline.streamBuffers, 1024u);
  EXPECT_EQ(ok.value().pipeline.holdSlots, 4096u);
  for (const char* bad : {"stream_buffers: 0\n", "stream_buffers: 4000000000\n", "hold_slots: 1\n",
                          "hold_slots: 100000000\n"}) {
    auto c = load(bad);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.error().line, 3) << bad;
    EXPECT_NE(c.error().message.find(std::string(bad).substr(0, std::string(bad).find(':'))), std::string::npos)
        << c.error().message;
  }
}

TEST_F(GatewayConfigTest, BadMetricsAddressIsAPositionedError) {
  auto c = load("metrics: \"127.0.0.1:http\"\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().file, path_);
  EXPECT_EQ(c.error().line, 3);
  EXPECT_EQ(c.error().column, 10);
  EXPECT_NE(c.error().message.find("metrics:"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("port must be a number"), std::string::npos);

  auto big = load("metrics: \"127.0.0.1:70000\"\n");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("0..65535"), std::string::npos) << big.error().message;
}

TEST_F(GatewayConfigTest, MetricsHostOtherThanLoopbackIsRefused) {
  // The exporter binds 127.0.0.1 only: a host it would silently ignore is an error instead.
  auto c = load("metrics: \"0.0.0.0:9100\"\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().line, 3);
  EXPECT_NE(c.error().message.find("127.0.0.1 only"), std::string::npos) << c.error().message;
  EXPECT_FALSE(load("metrics: \"[::1]:9100\"\n").ok());
  EXPECT_TRUE(load("metrics: \"localhost:9100\"\n").ok());
}

TEST_F(GatewayConfigTest, SyslogTransportIsAnEnumParsedOnce) {
  auto c = load(
      "log:\n"
      "  dir: /var/log/lbg\n"
      "  syslog:\n"
      "    - {host: siem, port: 6514, transport: tls}\n"
      "    - {host: siem2}\n");
  ASSERT_TRUE(c.ok()) << c.error().toString();
  ASSERT_EQ(c.value().logSyslog.size(), 2u);
  EXPECT_EQ(c.value().logSyslog[0].transport, telemetry::SyslogTarget::Transport::Tls);
  EXPECT_EQ(c.value().logSyslog[1].transport, telemetry::SyslogTarget::Transport::Udp);
}

TEST_F(GatewayConfigTest, BadSyslogTransportIsAPositionedError) {
  auto c = load(
      "log:\n"
      "  dir: /var/log/lbg\n"
      "  syslog:\n"
      "    - host: siem\n"
      "      transport: TLS\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().line, 7);
  EXPECT_EQ(c.error().column, 18);
  EXPECT_NE(c.error().message.find("udp, tcp or tls, not 'TLS'"), std::string::npos)
      << c.error().message;
}

}  // namespace
}  // namespace lbg::dataplane
