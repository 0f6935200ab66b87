#pragma once

// The ids stage's HTTP body buffers (pipeline_http_response.cc, pipeline_http_request.cc): a
// worker's bounded pool in which an HTTP message's head and body are gathered so that the body
// is scanned as one buffer whatever its segments.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "dataplane/flow/huge_array.h"
#include "dataplane/ids/body_decoder.h"
#include "dataplane/ids/engine.h"
#include "dataplane/ids/http_head_buffers.h"
#include "policy/base/ip_addr.h"

namespace lbg::dataplane {

// `slots` of `limit` bytes of body each, after kHeadLimit bytes for the message's head, reserved
// (not written) once. A flow holds a slot per direction only while a message's body is in flight
// (a response's, and an upload's). A response body with content codings is gathered as sent and
// decoded at its scan, into the worker's one decoder; a head's header buffers are built at the
// scan into the worker's head scratch, the one its request heads use (never at once).
//
// One client holds at most `perClient` slots (0: no bound): an inside host that opens many
// connections and leaves a head cut or a body unfinished on each would otherwise hold every slot,
// and every other host's cut heads, uploads and downloads would then follow ids.on_fault (denied
// under the default `drop`). A slot refused for that is counted in `*clientCapped`.
class IdsBodies {
 public:
  static constexpr uint16_t kNoSlot = UINT16_MAX;
  static constexpr uint32_t kHeadLimit = ids::HttpHeadScratch::kMaxHead;
  IdsBodies(uint32_t slots, uint32_t limit, ids::HttpHeadScratch& headScratch,
            uint32_t perClient = 0, uint64_t* clientCapped = nullptr)
      : limit_(limit),
        perClient_(perClient),
        clientCapped_(clientCapped),
        owner_(slots),
        held_(slots, 0),
        // Engine::kScanPad past the last slot: every body has that many readable bytes after it
        // (the next slot's head, or this), so Hyperscan scans it in place (BufferSet::setPadded).
        bytes_(size_t(slots) * (limit + kHeadLimit) + ids::Engine::kScanPad),
        decoder_(limit),
        headScratch_(headScratch) {
    free_.reserve(slots);
    reset(slots);
  }
  uint32_t limit() const { return limit_; }
  // A free slot for a message of `client`'s connection, or kNoSlot (none free, or the client
  // holds its share already). Not per packet: once per message whose body or cut head is
  // gathered; the share is counted over the slots (a few dozen).
  uint16_t acquire(const IpAddr& client) {
    if (free_.empty()) return kNoSlot;
    if (perClient_ != 0) {
      uint32_t held = 0;
      for (size_t i = 0; i < held_.size(); ++i) held += held_[i] && owner_[i].bytes == client.bytes;
      if (held >= perClient_) {
        if (clientCapped_ != nullptr) ++*clientCapped_;
        return kNoSlot;
      }
    }
    const uint16_t s = free_.back();
    free_.pop_back();  // capacity reserved: no allocation
    owner_[s] = client;
    held_[s] = 1;
    return s;
  }
  // Gives `slot` back (kNoSlot: nothing) and sets it to kNoSlot.
  void release(uint16_t& slot) {
    if (slot != kNoSlot) free_.push_back(slot), held_[slot] = 0;
    slot = kNoSlot;
  }
  uint8_t* data(uint16_t slot) { return head(slot) + kHeadLimit; }
  uint8_t* head(uint16_t slot) { return bytes_.data() + size_t(slot) * (limit_ + kHeadLimit); }
  ids::BodyDecoder& decoder() { return decoder_; }
  ids::HttpHeadScratch& headScratch() { return headScratch_; }
  // Every slot free.
  void reset(uint32_t slots) {
    free_.clear();
    for (uint32_t i = slots; i-- > 0;) free_.push_back(uint16_t(i));
    std::fill(held_.begin(), held_.end(), 0);
  }

 private:
  uint32_t limit_;
  uint32_t perClient_;
  uint64_t* clientCapped_;
  std::vector<IpAddr> owner_;  // per slot: the client whose message holds it
  std::vector<uint8_t> held_;
  flow::HugeArray<uint8_t> bytes_;
  std::vector<uint16_t> free_;
  ids::BodyDecoder decoder_;
  ids::HttpHeadScratch& headScratch_;
};

}  // namespace lbg::dataplane
