// GET /metrics and the metrics file: the dataplane's counters, the control plane's gauges and
// the IDS's per-rule counters in Prometheus's text format (control/prometheus.h).

#include "control/dispatcher.h"
#include "control/prometheus.h"

namespace lbg::control {

std::string Dispatcher::metricsText() const {
  std::string out = renderPrometheus(ctx_.counters());
  const auto run = ctx_.store_->running();
  size_t pending = 0;
  for (const auto& h : ctx_.store_->history()) pending += h.state == VersionState::Pending;
  appendPrometheusGauge(out, "lbg_policy_running_version",
                        "policy version recorded as running in the store",
                        run ? run->meta.version : 0);
  const auto cur = ctx_.api_.current();
  appendPrometheusGauge(out, "lbg_policy_dataplane_version", "policy version the dataplane runs",
                        cur ? cur->version() : 0);
  appendPrometheusGauge(out, "lbg_policy_pending_approvals", "commits waiting for approval",
                        pending);
  appendPrometheusGauge(out, "lbg_control_requests", "control requests handled since start",
                        requests_);
  appendPrometheusGauge(out, "lbg_control_refused",
                        "control requests refused or failed since start", refused_);
  appendPrometheusGauge(out, "lbg_store_problems",
                        "corrupt or unusable store entries found at open", ctx_.problems_.size());
  appendPrometheusIdsRules(out, ctx_.api_.idsRuleCosts(kPrometheusIdsRules));
  return out;
}

}  // namespace lbg::control
