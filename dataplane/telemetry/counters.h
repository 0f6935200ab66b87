#pragma once

#include <array>
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

#define LBG_DECLARE_COUNTERS(Type, LIST)                                                    \
  struct Type {                                                                             \
    LIST(LBG_COUNTER_FIELD_)                                                                \
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
