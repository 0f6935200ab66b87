#pragma once

// Application identification with nDPI (libndpi 4.2, Debian 12), beside our own inspectors: names
// the application of a flow (master/app, e.g. "TLS"/"Microsoft365") and nDPI's flow risks, for the
// application-usage logs and so that a service can demand the application it expects (a tunnel
// over an allowed address and port is then denied).
//
// One AppId per worker lcore; it owns an nDPI detection module (all protocols enabled) and a fixed
// pool of nDPI flow states allocated at start. A flow acquires a slot when it starts, feeds its
// first packets (at most maxPackets, then nDPI gives up and may guess), and releases the slot.
// Pool exhausted → kNoSlot, counted; the flow is "unknown".
//
// Hot-path posture: our side allocates nothing per packet. nDPI itself allocates inside a flow's
// first packets (TLS certificate buffers, host names); those blocks are freed on release, and
// their count is kept in ndpiAllocations(). That is why appid only ever runs on the first
// maxPackets packets of a flow. Not thread-safe: one instance per lcore.

#include <cstdint>
#include <memory>
#include <string_view>

#include "dataplane/telemetry/counters.h"
#include "policy/base/result.h"

struct ndpi_detection_module_struct;
struct ndpi_flow_struct;

namespace lbg::inspect {

struct AppIdConfig {
  uint32_t flowSlots = 4096;  // concurrent flows under identification on this lcore
  uint16_t maxPackets = 16;   // packets per flow before nDPI must decide
};

struct AppIdResult {
  uint16_t master;  // nDPI protocol ids; 0 = unknown
  uint16_t app;
  std::string_view masterName;  // "TLS", "HTTP", "DNS", "Unknown"… (static storage of nDPI)
  std::string_view appName;     // "Microsoft365", "Teams"… or the master's name
  uint64_t risk;                // bitmask of ndpi_risk_enum
  bool guessed;                 // nDPI gave up and guessed from ports/addresses
  bool finished;                // no more packets needed
  uint16_t packets;             // packets fed
};

// Counters of one worker's appid (exported as appid_<name>).
#define LBG_APPID_COUNTERS(X)                                                               \
  X(acquired, "nDPI flow slots taken")                                                      \
  X(exhausted, "flows left unidentified: no free nDPI slot")                                \
  X(detected, "flows nDPI identified")                                                      \
  X(gave_up, "flows nDPI gave up on (guessed from ports and addresses)")                   \
  X(packets, "packets fed to nDPI")

LBG_DECLARE_PREFIXED_COUNTERS(AppIdCounters, "appid_", LBG_APPID_COUNTERS);

class AppId {
 public:
  static constexpr uint32_t kNoSlot = UINT32_MAX;

  static Result<std::unique_ptr<AppId>> create(const AppIdConfig& config);
  ~AppId();
  AppId(const AppId&) = delete;
  AppId& operator=(const AppId&) = delete;

  // A fresh flow state, or kNoSlot if the pool is empty (counted).
  uint32_t acquire();
  // Frees what nDPI allocated for the flow and returns the slot to the pool.
  void release(uint32_t slot);

  // Feeds one packet starting at its IPv4/IPv6 header. Packets after the flow is finished are
  // ignored. Returns the result so far.
  AppIdResult process(uint32_t slot, const uint8_t* l3, uint16_t l3Len, uint64_t nowMs);
  AppIdResult result(uint32_t slot) const;

  // Text of one risk bit (ndpi_risk_enum), e.g. "Known Proto on Non Std Port".
  static std::string_view riskName(unsigned bit);
  std::string_view protocolName(uint16_t id) const;

  const AppIdCounters& counters() const { return counters_; }
  // Blocks nDPI allocated through our hooks on any lcore since start (process-wide).
  static uint64_t ndpiAllocations();
  uint32_t capacity() const { return slots_; }

 private:
  struct SlotState {
    uint16_t master, app;
    uint16_t packets;
    bool guessed, finished, inUse;
  };
  AppId(const AppIdConfig& config, ndpi_detection_module_struct* module, uint8_t* flows,
        uint32_t stride);
  ndpi_flow_struct* flow(uint32_t slot) const;

  AppIdConfig config_;
  ndpi_detection_module_struct* module_;
  uint8_t* flows_;  // slots_ × stride_, one ndpi_flow_struct each
  uint32_t stride_;
  uint32_t slots_;
  std::unique_ptr<SlotState[]> state_;
  std::unique_ptr<uint32_t[]> free_;  // stack of free slots
  uint32_t freeCount_ = 0;
  AppIdCounters counters_;
};

}  // namespace lbg::inspect
