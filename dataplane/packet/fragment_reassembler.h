#pragma once

// IPv4 and IPv6 fragment reassembly with an evasion-resistant policy:
//   - any overlap between fragments, even with identical bytes, rejects the whole datagram
//     (RFC 5722 for IPv6; for IPv4 the same stance, because stacks resolve overlaps differently —
//     the "first"/"last"/"bsd"/"linux" policies of Snort and Suricata — and the inspector cannot
//     know which one the server uses);
//   - a first fragment without the whole L4 header (RFC 1858 tiny fragment, RFC 7112 for IPv6)
//     rejects the datagram;
//   - fragments that disagree on the datagram's end reject it;
//   - after a rejection the datagram stays "poisoned" until its timeout, so later fragments of it
//     are dropped rather than starting a fresh, partial datagram.
//
// Memory is reserved at create(); add() never allocates. Fragment bytes are not copied while
// held: the reassembler keeps pointers into the caller's frames, which the caller keeps alive and
// unchanged until the fragment's handle is returned (an mbuf the caller holds satisfies that).
// On completion the datagram is built once, into the reassembler's own buffer.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dataplane/packet/packet_view.h"
#include "dataplane/telemetry/counters.h"
#include "policy/base/result.h"

namespace lbg::packet {

struct ReassemblerConfig {
  uint32_t maxDatagrams = 1024;           // concurrent datagrams being reassembled
  uint32_t maxDatagramBytes = 65535;      // fragmentable bytes of one datagram
  uint16_t maxFragmentsPerDatagram = 64;  // more → rejected (fragment-flood evasion)
  uint64_t timeoutNs = 2'000'000'000ull;  // from the first fragment's arrival
};

enum class ReassemblyStatus : uint8_t {
  Held,      // kept; the caller must keep the frame alive and not free the handle
  Complete,  // `view` is the whole datagram; `handles` are all its fragments, arrival order
  Rejected   // `handles` (this fragment's included) must be freed by the caller
};

#define LBG_REASSEMBLY_REJECT_REASONS(X)                                    \
  X(NotFragment, "not a fragment")                                          \
  X(Overlap, "fragments overlap")                                           \
  X(TinyFirst, "first fragment without the whole L4 header")                \
  X(Inconsistent, "fragments disagree on the datagram's end")               \
  X(TooManyFragments, "more fragments than the per-datagram limit")         \
  X(TooBig, "datagram larger than the limit")                               \
  X(Late, "fragment of a datagram already rejected")                        \
  X(TableFull, "no slot free and the oldest datagram could not be evicted") \
  X(MalformedResult, "the reassembled datagram does not decode")

enum class RejectReason : uint8_t {
  None,
#define LBG_REASSEMBLY_REJECT_ENUM(name, help) name,
  LBG_REASSEMBLY_REJECT_REASONS(LBG_REASSEMBLY_REJECT_ENUM)
#undef LBG_REASSEMBLY_REJECT_ENUM
};
const char* toString(RejectReason r);

struct ReassemblyResult {
  ReassemblyStatus status;
  RejectReason reason;
  PacketView view;                    // Complete only; valid until the next add()
  std::span<const uint64_t> handles;  // Complete/Rejected; valid until the next add() or expire()
};

// Counters of one worker's reassembler, exported as reassembly_<name> (the pipeline's
// fragments_* counters summarise them per packet).
#define LBG_REASSEMBLER_COUNTERS(X)                                                          \
  X(fragments, "IP fragments offered to the reassembler")                                   \
  X(completed, "datagrams reassembled")                                                     \
  X(overlaps, "datagrams rejected: overlapping fragments")                                  \
  X(tiny_first, "datagrams rejected: first fragment too short for the transport header")    \
  X(inconsistent, "datagrams rejected: fragments disagree on the datagram's length")        \
  X(too_many_fragments, "datagrams rejected: more fragments than allowed")                  \
  X(too_big, "datagrams rejected: larger than allowed")                                     \
  X(late, "fragments of a datagram already completed or rejected")                          \
  X(table_full, "fragments dropped: no reassembly slot free")                               \
  X(malformed_result, "reassembled datagrams that did not decode")                          \
  X(timeouts, "datagrams whose fragments timed out")                                        \
  X(evictions, "datagrams evicted to make room")

LBG_DECLARE_PREFIXED_COUNTERS(ReassemblerCounters, "reassembly_", LBG_REASSEMBLER_COUNTERS);

class FragmentReassembler {
 public:
  static Result<std::unique_ptr<FragmentReassembler>> create(const ReassemblerConfig& config);

  // `frag` is a view decode() returned DecodeStatus::Fragment for; `handle` is the caller's opaque
  // token for it (its mbuf pointer).
  ReassemblyResult add(const PacketView& frag, uint64_t handle, uint64_t nowNs);

  // Returns (via `release(uint64_t handle)`) the handles of datagrams that timed out by `nowNs`
  // and of datagrams evicted since the last call. Call it regularly (between bursts).
  template <class F>
  void expire(uint64_t nowNs, F&& release) {
    // Evicted first: their slots were reused already, only their handles wait here.
    const uint32_t n = releasedCount_;
    releasedCount_ = 0;
    for (uint32_t i = 0; i < n; ++i) release(released_[i]);
    for (int32_t d; (d = popExpired(nowNs)) >= 0;) {
      const Datagram& g = datagrams_[d];
      const uint64_t* h = &handles_[size_t(d) * maxFrags_];
      for (uint32_t i = 0; i < g.fragCount; ++i) release(h[i]);
      freeSlot(d);
    }
  }

  uint32_t pending() const { return used_; }
  const ReassemblerCounters& counters() const { return counters_; }
  const ReassemblerConfig& config() const { return config_; }

 private:
  struct Frag {
    const uint8_t* data;
    uint32_t offset;
    uint32_t len;
  };
  struct Datagram {
    IpAddr src, dst;
    uint32_t id;
    uint16_t vlanTci[kMaxVlans];
    uint8_t vlanCount;
    uint8_t ipVersion;
    uint8_t proto;  // IPv4 only (part of the RFC 791 key)
    bool poisoned;
    bool haveFirst;
    bool haveLast;
    uint16_t fragCount;
    uint32_t hash;
    uint32_t totalLen;  // valid once haveLast
    uint32_t received;
    uint64_t createdNs;
    int32_t agePrev, ageNext, hashNext;
    // From the first fragment (offset 0): where its headers are, to rebuild the datagram.
    const uint8_t* firstFrame;
    uint16_t headerEnd;  // end of L2 + unfragmentable IP header in firstFrame
    uint16_t l3Offset;
    uint16_t prevNextOffset;  // IPv6
    uint8_t nextHeader;       // IPv6
  };

  explicit FragmentReassembler(const ReassemblerConfig& config);

  uint32_t hashOf(const PacketView& v) const;
  bool sameDatagram(const Datagram& g, const PacketView& v, uint32_t hash) const;
  int32_t lookup(const PacketView& v, uint32_t hash) const;
  int32_t allocate(const PacketView& v, uint32_t hash, uint64_t nowNs);
  void freeSlot(int32_t d);
  int32_t popExpired(uint64_t nowNs);
  ReassemblyResult reject(int32_t d, RejectReason reason, uint64_t handle);
  ReassemblyResult complete(int32_t d);

  ReassemblerConfig config_;
  uint32_t maxFrags_;
  uint64_t seed_;
  std::vector<Datagram> datagrams_;
  std::vector<Frag> frags_;        // maxDatagrams × maxFrags
  std::vector<uint64_t> handles_;  // maxDatagrams × maxFrags, arrival order
  std::vector<int32_t> buckets_;   // hash chains
  std::vector<int32_t> freeList_;
  uint32_t used_ = 0;
  int32_t ageHead_ = -1, ageTail_ = -1;  // oldest first
  std::vector<uint64_t> released_;       // handles of evicted datagrams, drained by expire()
  uint32_t releasedCount_ = 0;
  std::vector<uint64_t> outHandles_;  // handles returned by the last add()
  std::vector<uint8_t> out_;          // the last completed datagram's frame
  ReassemblerCounters counters_{};
};

}  // namespace lbg::packet
