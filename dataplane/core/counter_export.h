#pragma once

#include <array>
#include <string>
#include <vector>

#include "dataplane/core/control_api.h"
#include "dataplane/core/pipeline_counters.h"
#include "dataplane/core/port_counters.h"
#include "dataplane/flow/flow_table_counters.h"
#include "dataplane/flow/stream_buffer.h"
#include "dataplane/ha/sync_counters.h"
#include "dataplane/inspect/appid/appid.h"
#include "dataplane/inspect/dns/binding_table.h"
#include "dataplane/packet/fragment_reassembler.h"

namespace lbg::dataplane {

// Every counter set one worker lcore keeps (each declared once, with the X-macro, in its
// module). Workers write their own without atomics; the service thread copies and sums them.
struct WorkerCounters {
  static constexpr size_t kDecodeReasons = 32;  // packet::DropReason values (index 0 unused)

  PipelineCounters pipeline;
  PortCounters port;
  flow::FlowTableCounters flowTable;
  flow::StreamBufferCounters streams;
  packet::ReassemblerCounters reassembly;
  inspect::AppIdCounters appid;
  std::array<uint64_t, kDecodeReasons> decodeDrops{};  // malformed frames by reason

  void add(const WorkerCounters& other);
};

// Appends one declared set as (prefix + name, help, value) rows, in declaration order.
template <class Set>
void appendCounters(const Set& set, std::vector<ControlApi::Counter>& out) {
  set.forEach([&](const telemetry::CounterInfo& info, uint64_t v) {
    out.push_back({std::string(Set::kPrefix) + std::string(info.name), std::string(info.help), v,
                   Set::kGauge});
  });
}

// The gateway's counters as ControlApi::counters() returns them (lbgctl stats, Prometheus, the
// exit report): the workers' sum, then the shared DNS binding table's, then the HA role's gauge
// and the flow-sync link's counters (zero without `ha.sync`).
std::vector<ControlApi::Counter> exportCounters(const WorkerCounters& sum,
                                                const inspect::DnsBindingCounters::Plain& dns,
                                                const HaGauges& ha = {},
                                                const ha::SyncLinkCounters::Plain& sync = {});

}  // namespace lbg::dataplane
