#include "control/fake_control_api.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "dataplane/telemetry/log/vocabulary.h"

namespace lbg::control::testing {

Result<Ok> FakeControlApi::publish(std::shared_ptr<const policy::Snapshot> snapshot) {
  if (failPublish) return Error{"workers did not acknowledge within the timeout"};
  current_ = std::move(snapshot);
  published.push_back(current_->version());
  return Ok{};
}

std::vector<std::string> FakeControlApi::flows(size_t limit) const {
  std::vector<std::string> out;
  for (size_t i = 0; i < flowRows.size() && i < limit; ++i) out.push_back(flowRows[i]);
  return out;
}

Result<std::vector<std::string>> FakeControlApi::replayVerdicts(
    std::shared_ptr<const policy::Snapshot> snapshot, const std::string& capturePath) {
  std::ifstream in(capturePath);
  if (!in) return Error{"cannot open capture", capturePath};
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string src, dst, sni;
    unsigned sport = 0, dport = 0;
    if (!(f >> src >> sport >> dst >> dport)) return Error{"not a capture", capturePath};
    f >> sni;
    const auto dstAddr = IpAddr::parse(dst);
    int svc =
        sni.empty() ? -1 : snapshot->matchName(sni, policy::L4::Tcp, static_cast<uint16_t>(dport));
    if (svc < 0 && dstAddr)
      svc = snapshot->matchAddress(*dstAddr, policy::L4::Tcp, static_cast<uint16_t>(dport));
    nlohmann::json e = {{"event_type", telemetry::toString(telemetry::LogEventType::Flow)},
                        {"phase", "verdict"},
                        {"src_ip", src},
                        {"src_port", sport},
                        {"dest_ip", dst},
                        {"dest_port", dport},
                        {"proto", "TCP"},
                        {"action", svc >= 0 ? "allow" : "deny"},
                        {"reason", telemetry::reasonInfo(svc >= 0 ? telemetry::Reason::Sni : telemetry::Reason::NoMatch).name},
                        {"policy",
                         {{"version", snapshot->version()},
                          {"service", svc >= 0 ? nlohmann::json(snapshot->service(svc).name)
                                               : nlohmann::json(nullptr)}}}};
    if (!sni.empty()) e["tls"] = {{"sni", sni}};
    out.push_back(e.dump());
  }
  return out;
}

Result<std::vector<std::string>> FakeControlApi::replayAlerts(
    std::shared_ptr<const policy::Snapshot> snapshot, const std::string& capturePath,
    size_t maxEvents) {
  if (!std::ifstream(capturePath)) return Error{"cannot open capture", capturePath};
  alertReplays.push_back(snapshot->version());
  if (!snapshot->doc().ids) return std::vector<std::string>{};
  std::vector<std::string> out(alertLines.begin(),
                               alertLines.begin() + std::min(maxEvents, alertLines.size()));
  return out;
}

}  // namespace lbg::control::testing
