#include "dataplane/core/counter_export.h"

#include <string_view>

#include "dataplane/core/counter_sections.h"
#include "dataplane/packet/packet_view.h"

namespace lbg::dataplane {

void WorkerCounters::add(const WorkerCounters& other) {
  pipeline.add(other.pipeline);
  port.add(other.port);
  flowTable.add(other.flowTable);
  streams.add(other.streams);
  reassembly.add(other.reassembly);
  appid.add(other.appid);
  for (size_t r = 0; r < kDecodeReasons; ++r) decodeDrops[r] += other.decodeDrops[r];
}

std::vector<ControlApi::Counter> exportCounters(const WorkerCounters& sum,
                                                const inspect::DnsBindingCounters::Plain& dns,
                                                const HaGauges& ha,
                                                const ha::SyncLinkCounters::Plain& sync) {
  std::vector<ControlApi::Counter> out;
  appendCounters(sum.pipeline, out);
  appendCounters(sum.port, out);
  // Decode drops are declared by packet::DropReason (its own list, with help texts).
  for (size_t r = 1; r < WorkerCounters::kDecodeReasons; ++r) {
    const auto reason = static_cast<packet::DropReason>(r);
    const char* name = packet::toString(reason);
    if (name == nullptr || std::string_view(name) == "unknown") continue;
    std::string n = std::string("decode_drop_") + name;
    for (auto& c : n) c = c == '-' ? '_' : c;
    out.push_back({n, packet::helpText(reason), sum.decodeDrops[r]});
  }
  appendCounters(sum.flowTable, out);
  appendCounters(sum.streams, out);
  appendCounters(sum.reassembly, out);
  appendCounters(sum.appid, out);
  appendCounters(dns, out);
  appendCounters(ha, out);
  appendCounters(sync, out);
  for (auto& c : out) {
    if (const CounterSection* s = counterSection(c.name)) {
      c.section = s->id;
      c.sectionTitle = s->title;
    }
  }
  return out;
}

}  // namespace lbg::dataplane
