#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

// Counters are declared once per module with an X-macro list of (name, help). The macro below
// turns such a list into a plain struct of uint64_t (one per lcore, written only by its lcore, so no
// atomics on the hot path), with the names and help texts as constexpr tables for `lbgctl stats`,
// the replay summary and the Prometheus exporter.
//
//   #define LBG_FOO_COUNTERS(X) X(rx_packets, "packets received") X(...)
//   LBG_DECLARE_COUNTERS(FooCounters, LBG_FOO_COUNTERS)
//
// A module whose counter names would be ambiguous beside the others' declares a prefix, part of
// the exported name only (`flow_table_` + `evicted`): LBG_DECLARE_PREFIXED_COUNTERS(Type, "flow_table_", LIST).
// A set written by several threads (one table shared by all workers) keeps relaxed atomics:
// LBG_DECLARE_SHARED_COUNTERS, whose snapshot() is the plain struct `Type::Plain`.
// LBG_DECLARE_GAUGES declares current states (an alarm: 0 or 1) rather than totals.
// Every set is exported by dataplane/core/counter_export.h; nothing else names a counter.

namespace lbg::telemetry {

struct CounterInfo {
  std::string_view name;
  std::string_view help;
};

}  // namespace lbg::telemetry

#define LBG_COUNTER_FIELD_(name, help) uint64_t name = 0;
#define LBG_COUNTER_INFO_(name, help) ::lbg::telemetry::CounterInfo{#name, help},
#define LBG_COUNTER_ONE_(name, help) +1
#define LBG_COUNTER_VISIT_(name, help) f(kInfo[i++], name);
#define LBG_COUNTER_ADD_(name, help) name += other.name;

#define LBG_COUNTER_ATOMIC_FIELD_(name, help) std::atomic<uint64_t> name{0};
#define LBG_COUNTER_LOAD_(name, help) p.name = name.load(std::memory_order_relaxed);

#define LBG_DECLARE_COUNTER_SET_(Type, PREFIX, GAUGE, LIST)                                 \
  struct Type {                                                                             \
    LIST(LBG_COUNTER_FIELD_)                                                                \
    static constexpr std::string_view kPrefix = PREFIX;                                     \
    static constexpr bool kGauge = GAUGE;                                                   \
    static constexpr size_t kCount = 0 LIST(LBG_COUNTER_ONE_);                              \
    static constexpr std::array<::lbg::telemetry::CounterInfo, kCount> kInfo = {            \
        {LIST(LBG_COUNTER_INFO_)}};                                                         \
    /* f(const CounterInfo&, uint64_t value), in declaration order */                      \
    template <class F>                                                                      \
    void forEach(F&& f) const {                                                             \
      size_t i = 0;                                                                         \
      LIST(LBG_COUNTER_VISIT_)                                                              \
    }                                                                                       \
    void add(const Type& other) { LIST(LBG_COUNTER_ADD_) }                                  \
  }

#define LBG_DECLARE_PREFIXED_COUNTERS(Type, PREFIX, LIST) \
  LBG_DECLARE_COUNTER_SET_(Type, PREFIX, false, LIST)
#define LBG_DECLARE_COUNTERS(Type, LIST) LBG_DECLARE_COUNTER_SET_(Type, "", false, LIST)
// Current states (an alarm raised: 0 or 1), not totals: Prometheus `gauge`, never summed by rate().
#define LBG_DECLARE_GAUGES(Type, PREFIX, LIST) LBG_DECLARE_COUNTER_SET_(Type, PREFIX, true, LIST)

// Relaxed atomics, for a set that several lcores write; read through snapshot().
#define LBG_DECLARE_SHARED_COUNTERS(Type, PREFIX, LIST)                                     \
  struct Type {                                                                             \
    LBG_DECLARE_PREFIXED_COUNTERS(Plain, PREFIX, LIST);                                     \
    LIST(LBG_COUNTER_ATOMIC_FIELD_)                                                         \
    Plain snapshot() const {                                                                \
      Plain p;                                                                              \
      LIST(LBG_COUNTER_LOAD_)                                                               \
      return p;                                                                             \
    }                                                                                       \
  }
