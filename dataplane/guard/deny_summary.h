#pragma once

// Denied packets are logged aggregated, never one record per packet: the guard stage adds each
// packet it refuses or drops here, keyed by (source, reason), and once per interval the pipeline
// turns every row into one `ddos` record with its counts and starts over. The table is bounded:
// at most `slots` records per interval per worker whatever arrives, so a flood (spoofed sources
// included) cannot fill the log writer's queue; a packet that finds no row (its probe window
// full) is not aggregated and only counted (overflow).
//
// Per worker, no allocation after construction, no syscalls; time is the caller's.

#include <cstdint>
#include <memory>

#include "policy/base/ip_addr.h"

namespace lbg::dataplane::guard {

struct DenyRow {
  IpAddr src;
  IpAddr dst;        // the first destination of the interval: an example for the reader
  uint64_t packets;
  uint64_t bytes;    // frame lengths
  uint64_t firstNs;  // first and last packet of the interval
  uint64_t lastNs;
  uint8_t reason;    // the caller's reason code (telemetry::Reason)
  uint8_t proto;     // IP protocol of the first packet
  uint16_t dstPort;  // of the first packet
  bool used;
};

class DenySummary {
 public:
  static constexpr uint32_t kProbe = 16;

  // `slots` is rounded up to a power of two (at least kProbe); `intervalNs` > 0.
  DenySummary(uint32_t slots, uint64_t intervalNs);

  // One denied packet. False: no row free in its window (the caller counts the overflow).
  bool add(const IpAddr& src, uint8_t reason, const IpAddr& dst, uint16_t dstPort, uint8_t proto,
           uint32_t bytes, uint64_t nowNs);

  // The interval that began with the first row is over.
  bool due(uint64_t nowNs) const { return used_ > 0 && nowNs >= windowStartNs_ + intervalNs_; }

  // Hands every row to f(const DenyRow&) and empties the table (O(slots): once per interval).
  template <class F>
  void flush(F&& f) {
    if (used_ == 0) return;
    for (uint32_t i = 0; i <= mask_; ++i) {
      if (!rows_[i].used) continue;
      f(static_cast<const DenyRow&>(rows_[i]));
      rows_[i].used = false;
    }
    used_ = 0;
  }

  uint32_t used() const { return used_; }
  uint32_t capacity() const { return mask_ + 1; }
  uint64_t intervalNs() const { return intervalNs_; }

 private:
  std::unique_ptr<DenyRow[]> rows_;
  uint32_t mask_;
  uint32_t used_ = 0;
  uint64_t intervalNs_;
  uint64_t windowStartNs_ = 0;
};

}  // namespace lbg::dataplane::guard
