#include "dataplane/inspect/appid/appid.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

extern "C" {
#include <ndpi_api.h>
}

namespace lbg::inspect {
namespace {

std::atomic<uint64_t> gAllocations{0};

void* countingMalloc(size_t size) {
  gAllocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size);
}
void countingFree(void* p) {
  std::free(p);
}

// nDPI's allocator hooks are process-wide: install them once, before the first module.
void installHooks() {
  static std::once_flag once;
  std::call_once(once, [] {
    set_ndpi_malloc(countingMalloc);
    set_ndpi_free(countingFree);
  });
}

}  // namespace

Result<std::unique_ptr<AppId>> AppId::create(const AppIdConfig& config) {
  if (config.flowSlots == 0 || config.flowSlots > (1u << 20)) {
    return Error{"appid: flowSlots must be within 1..1048576"};
  }
  if (config.maxPackets == 0) return Error{"appid: maxPackets must be at least 1"};
  // The library and the headers we compiled against must describe the same structures.
  if (ndpi_get_api_version() != NDPI_API_VERSION) {
    return Error{"appid: libndpi API version " + std::to_string(ndpi_get_api_version()) +
                 " differs from the headers' " + std::to_string(NDPI_API_VERSION)};
  }
  const uint32_t size = ndpi_detection_get_sizeof_ndpi_flow_struct();
  if (size < sizeof(ndpi_flow_struct)) return Error{"appid: libndpi flow struct size mismatch"};
  installHooks();
  ndpi_detection_module_struct* module = ndpi_init_detection_module(ndpi_no_prefs);
  if (module == nullptr) return Error{"appid: ndpi_init_detection_module failed"};
  NDPI_PROTOCOL_BITMASK all;
  NDPI_BITMASK_SET_ALL(all);
  ndpi_set_protocol_detection_bitmask2(module, &all);
  ndpi_finalize_initialization(module);

  const uint32_t stride = (size + 63) & ~63u;
  auto* flows = static_cast<uint8_t*>(std::aligned_alloc(64, size_t(stride) * config.flowSlots));
  if (flows == nullptr) {
    ndpi_exit_detection_module(module);
    return Error{"appid: out of memory for " + std::to_string(config.flowSlots) + " flow states"};
  }
  std::memset(flows, 0, size_t(stride) * config.flowSlots);
  return std::unique_ptr<AppId>(new AppId(config, module, flows, stride));
}

AppId::AppId(const AppIdConfig& config, ndpi_detection_module_struct* module, uint8_t* flows,
             uint32_t stride)
    : config_(config),
      module_(module),
      flows_(flows),
      stride_(stride),
      slots_(config.flowSlots),
      state_(new SlotState[config.flowSlots]()),
      free_(new uint32_t[config.flowSlots]) {
  for (uint32_t i = 0; i < slots_; ++i) free_[i] = slots_ - 1 - i;
  freeCount_ = slots_;
}

AppId::~AppId() {
  for (uint32_t i = 0; i < slots_; ++i) {
    if (state_[i].inUse) ndpi_free_flow_data(flow(i));
  }
  std::free(flows_);
  ndpi_exit_detection_module(module_);
}

ndpi_flow_struct* AppId::flow(uint32_t slot) const {
  return reinterpret_cast<ndpi_flow_struct*>(flows_ + size_t(slot) * stride_);
}

uint32_t AppId::acquire() {
  if (freeCount_ == 0) {
    ++counters_.exhausted;
    return kNoSlot;
  }
  const uint32_t slot = free_[--freeCount_];
  std::memset(static_cast<void*>(flow(slot)), 0, stride_);
  state_[slot] = SlotState{0, 0, 0, false, false, true};
  ++counters_.acquired;
  return slot;
}

void AppId::release(uint32_t slot) {
  if (slot >= slots_ || !state_[slot].inUse) return;
  ndpi_free_flow_data(flow(slot));
  state_[slot].inUse = false;
  free_[freeCount_++] = slot;
}

AppIdResult AppId::process(uint32_t slot, const uint8_t* l3, uint16_t l3Len, uint64_t nowMs) {
  if (slot >= slots_ || !state_[slot].inUse) return AppIdResult{};
  SlotState& st = state_[slot];
  if (st.finished || l3Len == 0) return result(slot);
  ++st.packets;
  ++counters_.packets;
  const ndpi_protocol p = ndpi_detection_process_packet(module_, flow(slot), l3, l3Len, nowMs);
  st.master = p.master_protocol;
  st.app = p.app_protocol;
  const ndpi_confidence_t confidence = flow(slot)->confidence;
  const bool byDpi = confidence == NDPI_CONFIDENCE_DPI || confidence == NDPI_CONFIDENCE_DPI_CACHE;
  if (byDpi &&
      (p.app_protocol != NDPI_PROTOCOL_UNKNOWN || p.master_protocol != NDPI_PROTOCOL_UNKNOWN)) {
    // Detected from the payload. A match by address or port alone is not an identification
    // (an SSH tunnel to a Microsoft address is not Microsoft365): nDPI keeps being fed until it
    // sees the protocol, or gives up and guesses. nDPI may still want packets for metadata
    // (certificate, JA3); not needed here.
    st.finished = true;
    ++counters_.detected;
  } else if (st.packets >= config_.maxPackets) {
    uint8_t guessed = 0;
    const ndpi_protocol g = ndpi_detection_giveup(module_, flow(slot), 1, &guessed);
    st.master = g.master_protocol;
    st.app = g.app_protocol;
    // Whatever nDPI did not see in the payload is a guess (by port, address or cache).
    const ndpi_confidence_t after = flow(slot)->confidence;
    st.guessed =
        guessed != 0 || (after != NDPI_CONFIDENCE_DPI && after != NDPI_CONFIDENCE_DPI_CACHE);
    st.finished = true;
    ++counters_.gave_up;
  }
  return result(slot);
}

AppIdResult AppId::result(uint32_t slot) const {
  AppIdResult r{};
  if (slot >= slots_ || !state_[slot].inUse) return r;
  const SlotState& st = state_[slot];
  r.master = st.master;
  r.app = st.app;
  // nDPI reports a plain protocol as app with master 0 (e.g. DNS): present it as master too.
  const uint16_t master = st.master != NDPI_PROTOCOL_UNKNOWN ? st.master : st.app;
  r.masterName = protocolName(master);
  r.appName = protocolName(st.app);
  r.risk = flow(slot)->risk;
  r.guessed = st.guessed;
  r.finished = st.finished;
  r.packets = st.packets;
  return r;
}

std::string_view AppId::protocolName(uint16_t id) const {
  const char* n = ndpi_get_proto_name(module_, id);
  return n ? std::string_view(n) : std::string_view("Unknown");
}

std::string_view AppId::riskName(unsigned bit) {
  if (bit >= NDPI_MAX_RISK) return "unknown-risk";
  const char* n = ndpi_risk2str(static_cast<ndpi_risk_enum>(bit));
  return n ? std::string_view(n) : std::string_view("unknown-risk");
}

uint64_t AppId::ndpiAllocations() {
  return gAllocations.load(std::memory_order_relaxed);
}

}  // namespace lbg::inspect
