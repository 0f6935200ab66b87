#include "dataplane/packet/fragment_reassembler.h"

#include <cstring>
#include <random>

#include "dataplane/packet/byte_order.h"

namespace lbg::packet {

namespace {

// Largest frame a reassembled datagram can need: two VLAN tags, an IPv6 unfragmentable part and
// 64 KiB of data (the lengths are re-checked against the 16-bit IP length fields anyway).
constexpr size_t kOutBytes = 14 + 4 * kMaxVlans + 65535 + 65535;
constexpr uint32_t kReleasedDatagrams = 64;  // evictions that may wait for the next expire()

uint64_t mix(uint64_t a, uint64_t b) {
  const __uint128_t r = static_cast<__uint128_t>(a) * b;
  return uint64_t(r) ^ uint64_t(r >> 64);
}

uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

}  // namespace

const char* toString(RejectReason r) {
  switch (r) {
    case RejectReason::None:
      return "none";
    case RejectReason::NotFragment:
      return "not-fragment";
    case RejectReason::Overlap:
      return "overlap";
    case RejectReason::TinyFirst:
      return "tiny-first";
    case RejectReason::Inconsistent:
      return "inconsistent";
    case RejectReason::TooManyFragments:
      return "too-many-fragments";
    case RejectReason::TooBig:
      return "too-big";
    case RejectReason::Late:
      return "late";
    case RejectReason::TableFull:
      return "table-full";
    case RejectReason::MalformedResult:
      return "malformed-result";
  }
  return "unknown";
}

Result<std::unique_ptr<FragmentReassembler>> FragmentReassembler::create(
    const ReassemblerConfig& config) {
  if (config.maxDatagrams == 0 || config.maxDatagrams > (1u << 20)) {
    return Error{"fragment reassembler: maxDatagrams must be 1..1048576"};
  }
  if (config.maxFragmentsPerDatagram == 0 || config.maxFragmentsPerDatagram > 8192) {
    return Error{"fragment reassembler: maxFragmentsPerDatagram must be 1..8192"};
  }
  if (config.maxDatagramBytes < 8 || config.maxDatagramBytes > 65535) {
    return Error{"fragment reassembler: maxDatagramBytes must be 8..65535"};
  }
  if (config.timeoutNs == 0) return Error{"fragment reassembler: timeoutNs must be > 0"};
  return std::unique_ptr<FragmentReassembler>(new FragmentReassembler(config));
}

FragmentReassembler::FragmentReassembler(const ReassemblerConfig& config)
    : config_(config), maxFrags_(config.maxFragmentsPerDatagram) {
  // A keyed hash: chains cannot be lengthened on purpose by someone who picks fragment ids.
  std::random_device rd;
  seed_ = (uint64_t(rd()) << 32 | rd()) | 1;
  const size_t n = config.maxDatagrams;
  datagrams_.resize(n);
  frags_.resize(n * maxFrags_);
  handles_.resize(n * maxFrags_);
  size_t b = 1;
  while (b < 2 * n) b <<= 1;
  buckets_.assign(b, -1);
  freeList_.reserve(n);
  for (size_t i = n; i-- > 0;) freeList_.push_back(int32_t(i));
  released_.resize(size_t(kReleasedDatagrams) * maxFrags_);
  outHandles_.resize(maxFrags_ + 1);
  out_.resize(kOutBytes);
}

uint32_t FragmentReassembler::hashOf(const PacketView& v) const {
  const uint8_t* s = v.src.bytes.data();
  const uint8_t* d = v.dst.bytes.data();
  uint64_t h = mix(load64(s) ^ seed_, load64(s + 8) ^ 0x9e3779b97f4a7c15ull);
  h = mix(h ^ load64(d), load64(d + 8) ^ seed_);
  const uint64_t tail = uint64_t(v.fragId) | uint64_t(v.ipVersion == 4 ? v.ipProto : 0) << 32 |
                        uint64_t(v.vlanTci[0] ^ v.vlanTci[1] << 4) << 40;
  h = mix(h ^ tail, seed_ ^ 0xc2b2ae3d27d4eb4full);
  return uint32_t(h ^ (h >> 32));
}

bool FragmentReassembler::sameDatagram(const Datagram& g, const PacketView& v,
                                       uint32_t hash) const {
  return g.hash == hash && g.id == v.fragId && g.ipVersion == v.ipVersion &&
         (v.ipVersion == 6 || g.proto == v.ipProto) && g.vlanCount == v.vlanCount &&
         g.vlanTci[0] == v.vlanTci[0] && g.vlanTci[1] == v.vlanTci[1] && g.src == v.src &&
         g.dst == v.dst;
}

int32_t FragmentReassembler::lookup(const PacketView& v, uint32_t hash) const {
  for (int32_t d = buckets_[hash & (buckets_.size() - 1)]; d >= 0; d = datagrams_[d].hashNext) {
    if (sameDatagram(datagrams_[d], v, hash)) return d;
  }
  return -1;
}

int32_t FragmentReassembler::allocate(const PacketView& v, uint32_t hash, uint64_t nowNs) {
  if (freeList_.empty()) {
    // Evict the oldest datagram. Its handles wait in released_ for the next expire(); when that is
    // full the new fragment is refused instead (bounded either way, and counted).
    const int32_t victim = ageHead_;
    const uint32_t need = datagrams_[victim].fragCount;
    if (releasedCount_ + need > released_.size()) return -1;
    std::memcpy(&released_[releasedCount_], &handles_[size_t(victim) * maxFrags_],
                need * sizeof(uint64_t));
    releasedCount_ += need;
    if (need > 0) ++counters_.evictions;
    freeSlot(victim);
  }
  const int32_t d = freeList_.back();
  freeList_.pop_back();
  ++used_;
  Datagram& g = datagrams_[d];
  std::memset(static_cast<void*>(&g), 0, sizeof(g));
  g.src = v.src;
  g.dst = v.dst;
  g.id = v.fragId;
  g.vlanCount = v.vlanCount;
  g.vlanTci[0] = v.vlanTci[0];
  g.vlanTci[1] = v.vlanTci[1];
  g.ipVersion = v.ipVersion;
  g.proto = v.ipVersion == 4 ? v.ipProto : 0;
  g.hash = hash;
  g.createdNs = nowNs;
  const size_t b = hash & (buckets_.size() - 1);
  g.hashNext = buckets_[b];
  buckets_[b] = d;
  g.agePrev = ageTail_;
  g.ageNext = -1;
  if (ageTail_ >= 0) {
    datagrams_[ageTail_].ageNext = d;
  } else {
    ageHead_ = d;
  }
  ageTail_ = d;
  return d;
}

void FragmentReassembler::freeSlot(int32_t d) {
  Datagram& g = datagrams_[d];
  // Unlink from its hash chain.
  int32_t* link = &buckets_[g.hash & (buckets_.size() - 1)];
  while (*link != d) link = &datagrams_[*link].hashNext;
  *link = g.hashNext;
  // Unlink from the age list.
  if (g.agePrev >= 0) {
    datagrams_[g.agePrev].ageNext = g.ageNext;
  } else {
    ageHead_ = g.ageNext;
  }
  if (g.ageNext >= 0) {
    datagrams_[g.ageNext].agePrev = g.agePrev;
  } else {
    ageTail_ = g.agePrev;
  }
  g.fragCount = 0;
  freeList_.push_back(d);
  --used_;
}

int32_t FragmentReassembler::popExpired(uint64_t nowNs) {
  while (ageHead_ >= 0) {
    const Datagram& g = datagrams_[ageHead_];
    if (nowNs >= g.createdNs && nowNs - g.createdNs < config_.timeoutNs) return -1;
    if (g.fragCount == 0) {  // a poisoned datagram: nothing to hand back
      freeSlot(ageHead_);
      continue;
    }
    ++counters_.timeouts;
    return ageHead_;
  }
  return -1;
}

ReassemblyResult FragmentReassembler::reject(int32_t d, RejectReason reason, uint64_t handle) {
  ReassemblyResult r{};
  r.status = ReassemblyStatus::Rejected;
  r.reason = reason;
  uint32_t n = 0;
  if (d >= 0) {
    Datagram& g = datagrams_[d];
    std::memcpy(outHandles_.data(), &handles_[size_t(d) * maxFrags_],
                g.fragCount * sizeof(uint64_t));
    n = g.fragCount;
    // Keep the slot, empty, until its timeout: later fragments of this datagram are refused.
    g.fragCount = 0;
    g.poisoned = true;
  }
  outHandles_[n++] = handle;
  r.handles = {outHandles_.data(), n};
  switch (reason) {
    case RejectReason::Overlap:
      ++counters_.overlaps;
      break;
    case RejectReason::TinyFirst:
      ++counters_.tiny_first;
      break;
    case RejectReason::Inconsistent:
      ++counters_.inconsistent;
      break;
    case RejectReason::TooManyFragments:
      ++counters_.too_many_fragments;
      break;
    case RejectReason::TooBig:
      ++counters_.too_big;
      break;
    case RejectReason::Late:
      ++counters_.late;
      break;
    case RejectReason::TableFull:
      ++counters_.table_full;
      break;
    case RejectReason::MalformedResult:
      ++counters_.malformed_result;
      break;
    case RejectReason::None:
    case RejectReason::NotFragment:
      break;
  }
  return r;
}

ReassemblyResult FragmentReassembler::add(const PacketView& v, uint64_t handle, uint64_t nowNs) {
  ++counters_.fragments;
  if (!v.isFragment || (v.ipVersion != 4 && v.ipVersion != 6)) {
    return reject(-1, RejectReason::NotFragment, handle);
  }
  const uint32_t hash = hashOf(v);
  int32_t d = lookup(v, hash);
  if (d < 0) {
    d = allocate(v, hash, nowNs);
    if (d < 0) return reject(-1, RejectReason::TableFull, handle);
  }
  Datagram& g = datagrams_[d];
  if (g.poisoned) return reject(-1, RejectReason::Late, handle);

  const uint32_t begin = v.fragOffset;
  const uint32_t end = v.fragOffset + v.payloadLen;
  if (end > config_.maxDatagramBytes) return reject(d, RejectReason::TooBig, handle);
  if (begin == 0 && !v.l4HeaderComplete) return reject(d, RejectReason::TinyFirst, handle);
  if (g.fragCount >= maxFrags_) return reject(d, RejectReason::TooManyFragments, handle);

  Frag* frags = &frags_[size_t(d) * maxFrags_];
  if (!v.moreFragments) {
    if (g.haveLast && g.totalLen != end) return reject(d, RejectReason::Inconsistent, handle);
    for (uint32_t i = 0; i < g.fragCount; ++i) {
      if (frags[i].offset + frags[i].len > end)
        return reject(d, RejectReason::Inconsistent, handle);
    }
  } else if (g.haveLast && end >= g.totalLen) {
    return reject(d, RejectReason::Inconsistent, handle);
  }
  for (uint32_t i = 0; i < g.fragCount; ++i) {
    if (begin < frags[i].offset + frags[i].len && frags[i].offset < end) {
      return reject(d, RejectReason::Overlap, handle);
    }
  }

  if (!v.moreFragments) {
    g.haveLast = true;
    g.totalLen = end;
  }
  if (begin == 0) {
    g.haveFirst = true;
    g.firstFrame = v.frame;
    g.l3Offset = v.l3Offset;
    if (v.ipVersion == 4) {
      g.headerEnd = uint16_t(v.payloadOffset);
    } else {
      g.headerEnd = v.fragHeaderOffset;
      g.prevNextOffset = v.fragPrevNextOffset;
      g.nextHeader = v.fragNextHeader;
    }
  }
  frags[g.fragCount] = Frag{v.frame + v.payloadOffset, begin, v.payloadLen};
  handles_[size_t(d) * maxFrags_ + g.fragCount] = handle;
  ++g.fragCount;
  g.received += v.payloadLen;

  if (g.haveFirst && g.haveLast && g.received == g.totalLen) return complete(d);
  ReassemblyResult r{};
  r.status = ReassemblyStatus::Held;
  return r;
}

ReassemblyResult FragmentReassembler::complete(int32_t d) {
  Datagram& g = datagrams_[d];
  const uint32_t ipHeaderLen = g.headerEnd - g.l3Offset;
  const uint32_t ipLen = ipHeaderLen + g.totalLen;
  // IPv4 total length counts the header; IPv6 payload length counts all but the fixed 40 bytes.
  const uint32_t lengthField = g.ipVersion == 4 ? ipLen : ipLen - 40;
  if (lengthField > 65535 || g.headerEnd + size_t(g.totalLen) > out_.size()) {
    // reject() appends the handle it is given: hand it the last one rather than a duplicate.
    const uint64_t last = handles_[size_t(d) * maxFrags_ + g.fragCount - 1];
    --g.fragCount;
    return reject(d, RejectReason::TooBig, last);
  }
  uint8_t* out = out_.data();
  std::memcpy(out, g.firstFrame, g.headerEnd);
  const Frag* frags = &frags_[size_t(d) * maxFrags_];
  for (uint32_t i = 0; i < g.fragCount; ++i) {
    std::memcpy(out + g.headerEnd + frags[i].offset, frags[i].data, frags[i].len);
  }
  uint8_t* ip = out + g.l3Offset;
  if (g.ipVersion == 4) {
    store16(ip + 2, uint16_t(ipLen));
    ip[6] &= 0xc0;  // keep reserved and DF, clear MF and the offset
    ip[7] = 0;
    ip[10] = ip[11] = 0;
    store16(ip + 10, foldChecksum(sumWords(ip, ipHeaderLen, 0)));
  } else {
    // The Fragment header is left out; the header before it now names what it named.
    out[g.prevNextOffset] = g.nextHeader;
    store16(ip + 4, uint16_t(lengthField));
  }
  const uint32_t frameLen = g.headerEnd + g.totalLen;

  ReassemblyResult r{};
  const DecodeStatus s = decode(out, frameLen, r.view);
  const uint32_t n = g.fragCount;
  std::memcpy(outHandles_.data(), &handles_[size_t(d) * maxFrags_], n * sizeof(uint64_t));
  if (s != DecodeStatus::Ok) {
    // E.g. a second Fragment header inside, a TCP header that turns out malformed.
    g.fragCount = 0;
    g.poisoned = true;
    ++counters_.malformed_result;
    r.status = ReassemblyStatus::Rejected;
    r.reason = RejectReason::MalformedResult;
    r.handles = {outHandles_.data(), n};
    return r;
  }
  freeSlot(d);
  ++counters_.completed;
  r.status = ReassemblyStatus::Complete;
  r.handles = {outHandles_.data(), n};
  return r;
}

}  // namespace lbg::packet
