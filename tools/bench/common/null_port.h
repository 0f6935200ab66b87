#pragma once

// What the pipeline benchmarks share (fastpath, flood, ids): a net_null port the pipeline sends
// to (freeing the frames is a reference drop, as a NIC's TX completion), and the wall clock the
// pipeline is driven by. Benchmarks only; never linked into the appliance.

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <chrono>
#include <cstdint>

#include "dataplane/core/pipeline.h"

namespace lbg::bench {

// Every frame the pipeline sends goes to one net_null port, in bursts of up to 64.
class NullPortSink : public dataplane::TxSink {
 public:
  explicit NullPortSink(uint16_t port) : port_(port) {}
  void send(dataplane::PortRole, rte_mbuf* m) override {
    buf_[n_++] = m;
    if (n_ == kMax) flush();
  }
  void flush() {
    uint16_t done = 0;
    while (done < n_) done += rte_eth_tx_burst(port_, 0, buf_ + done, n_ - done);
    n_ = 0;
  }

 private:
  static constexpr uint16_t kMax = 64;
  uint16_t port_;
  rte_mbuf* buf_[kMax];
  uint16_t n_ = 0;
};

// One RX and one TX queue of 1024 descriptors, started.
inline bool startPort(uint16_t port, rte_mempool* pool) {
  rte_eth_conf conf{};
  return rte_eth_dev_configure(port, 1, 1, &conf) == 0 &&
         rte_eth_rx_queue_setup(port, 0, 1024, SOCKET_ID_ANY, nullptr, pool) == 0 &&
         rte_eth_tx_queue_setup(port, 0, 1024, SOCKET_ID_ANY, nullptr) == 0 &&
         rte_eth_dev_start(port) == 0;
}

inline uint64_t nowNs() {
  return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count());
}

}  // namespace lbg::bench
