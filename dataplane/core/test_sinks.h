#pragma once

// Test doubles shared by the pipeline's tests: a TxSink that keeps copies of the frames sent
// (and frees the mbufs, so that leaks show in the pool's count) and an EventSink that keeps the
// events as parsed JSON.

#include <rte_mbuf.h>

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "dataplane/core/event_sink.h"
#include "dataplane/core/pipeline.h"
#include "dataplane/packet/test_frame.h"

namespace lbg::testing {

struct Sent {
  dataplane::PortRole port;
  Bytes bytes;
};

class CaptureSink : public dataplane::TxSink {
 public:
  void send(dataplane::PortRole out, rte_mbuf* m) override {
    const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
    frames.push_back({out, Bytes(d, d + rte_pktmbuf_data_len(m))});
    rte_pktmbuf_free(m);
  }
  std::vector<Sent> frames;
};

class CollectSink : public dataplane::EventSink {
 public:
  void write(std::string_view json) override { events.push_back(nlohmann::json::parse(json)); }
  std::vector<nlohmann::json> events;
};

}  // namespace lbg::testing
