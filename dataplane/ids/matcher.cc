#include "dataplane/ids/matcher.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cstring>

namespace lbg::ids {
namespace {

inline uint8_t lower(uint8_t c) {
  return (c >= 'A' && c <= 'Z') ? uint8_t(c + 32) : c;
}

// Leftmost occurrence of `pat` whose start lies in [from, lastStart]; -1 if none.
int64_t find(const uint8_t* s, int64_t from, int64_t lastStart, const std::string& pat,
             bool nocase) {
  const auto* p = reinterpret_cast<const uint8_t*>(pat.data());
  const size_t n = pat.size();
  for (int64_t i = from; i <= lastStart; ++i) {
    if (nocase) {
      if (lower(s[i]) != p[0]) continue;
      size_t k = 1;
      while (k < n && lower(s[i + k]) == p[k]) ++k;
      if (k == n) return i;
    } else {
      const void* hit = std::memchr(s + i, p[0], size_t(lastStart - i + 1));
      if (!hit) return -1;
      i = static_cast<const uint8_t*>(hit) - s;
      if (std::memcmp(s + i, p, n) == 0) return i;
    }
  }
  return -1;
}

bool readNumber(const uint8_t* s, int64_t len, int64_t pos, uint8_t nbytes, bool little,
                NumBase base, uint64_t& out) {
  if (pos < 0 || pos + nbytes > len) return false;
  out = 0;
  if (base == NumBase::Raw) {
    for (int i = 0; i < nbytes; ++i) {
      uint8_t b = s[pos + (little ? nbytes - 1 - i : i)];
      out = out << 8 | b;
    }
    return true;
  }
  const unsigned radix = base == NumBase::Hex ? 16 : base == NumBase::Oct ? 8 : 10;
  int digits = 0;
  for (int i = 0; i < nbytes; ++i) {
    uint8_t c = s[pos + i];
    unsigned d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (radix == 16 && lower(c) >= 'a' && lower(c) <= 'f')
      d = lower(c) - 'a' + 10;
    else
      break;
    if (d >= radix) break;
    out = out * radix + d;
    ++digits;
  }
  return digits > 0;
}

uint64_t applyMask(uint64_t v, uint64_t mask) {
  if (!mask) return v;
  v &= mask;
  while (!(mask & 1)) mask >>= 1, v >>= 1;
  return v;
}

class Run {
 public:
  Run(const BufferMatches& m, const std::vector<ItemAux>& aux, const uint8_t* s, uint32_t len,
      uint64_t base, MatchTools& tools, int fpItem, int64_t fpMinEnd, bool reach)
      : m_(m),
        aux_(aux),
        s_(s),
        len_(len),
        base_(int64_t(base)),
        tools_(tools),
        fpItem_(reach ? -1 : fpItem),
        fpMinEnd_(fpMinEnd),
        reach_(reach) {}

  // `reach`: the end of the furthest byte the path read so far (matchBuffer's `reach`).
  bool from(size_t i, int64_t prevEnd, int64_t reach) {
    if (i == m_.items.size()) return !reach_ || reach > fpMinEnd_;
    if (++steps_ > tools_.recursionLimit) return false;
    const Match& item = m_.items[i];
    if (auto* c = std::get_if<Content>(&item)) return content(i, *c, prevEnd, reach);
    if (auto* p = std::get_if<Pcre>(&item)) return pcre(i, *p, prevEnd, reach);
    if (auto* t = std::get_if<ByteTest>(&item)) {
      const int64_t pos = (t->relative ? prevEnd : -base_) + t->offset;
      return byteTest(*t, pos) && from(i + 1, prevEnd, std::max(reach, pos + t->nbytes));
    }
    if (auto* j = std::get_if<ByteJump>(&item)) return byteJump(i, *j, prevEnd, reach);
    const auto& d = std::get<IsDataAt>(item);
    int64_t pos = (d.relative ? prevEnd : -base_) + d.offset;
    bool has = pos >= 0 && pos < int64_t(len_);
    return has != d.negated && from(i + 1, prevEnd, d.negated ? reach : std::max(reach, pos + 1));
  }

 private:
  // Whether anything after item i depends on where item i matched.
  bool laterRelative(size_t i) const {
    for (size_t k = i + 1; k < m_.items.size(); ++k) {
      const Match& it = m_.items[k];
      if (auto* c = std::get_if<Content>(&it)) {
        if (c->relative()) return true;
        if (!c->negated) return false;  // an absolute positive content resets the chain
      } else if (auto* p = std::get_if<Pcre>(&it)) {
        if (p->relative) return true;
      } else if (auto* t = std::get_if<ByteTest>(&it)) {
        if (t->relative) return true;
      } else if (auto* j = std::get_if<ByteJump>(&it)) {
        if (j->relative) return true;
      } else if (std::get<IsDataAt>(it).relative) {
        return true;
      }
    }
    return false;
  }

  bool content(size_t i, const Content& c, int64_t prevEnd, int64_t reach) {
    const int64_t n = int64_t(c.bytes.size());
    int64_t lo, hi;  // window of the match: [lo, hi)
    if (c.relative()) {
      lo = prevEnd + c.distance.value_or(0);
      hi = c.within ? lo + *c.within : int64_t(len_);
    } else if (c.startsWith) {
      lo = -base_;
      hi = lo + n;
    } else {
      lo = c.offset.value_or(0) - base_;
      hi = c.depth ? lo + *c.depth : int64_t(len_);
    }
    lo = std::max<int64_t>(lo, 0);
    hi = std::min<int64_t>(hi, len_);
    int64_t lastStart = hi - n;
    if (c.endsWith) {
      if (int64_t(len_) - n < lo || int64_t(len_) - n > lastStart)
        lastStart = -1;
      else
        lo = lastStart = int64_t(len_) - n;
    }
    const std::string& pat = c.nocase ? aux_[i].lowered : c.bytes;
    if (c.negated) {
      if (lastStart >= lo && find(s_, lo, lastStart, pat, c.nocase) >= 0) return false;
      return from(i + 1, prevEnd, reach);
    }
    if (int(i) == fpItem_) lo = std::max(lo, fpMinEnd_ - n + 1);
    const bool retry = reach_ || laterRelative(i);
    for (int64_t at = lo; at <= lastStart;) {
      int64_t hit = find(s_, at, lastStart, pat, c.nocase);
      if (hit < 0) return false;
      if (from(i + 1, hit + n, std::max(reach, hit + n))) return true;
      if (!retry || steps_ > tools_.recursionLimit) return false;
      at = hit + 1;
    }
    return false;
  }

  bool pcre(size_t i, const Pcre& p, int64_t prevEnd, int64_t reach) {
    const auto* code = aux_[i].pcre;
    if (!code) return false;
    // A relative pcre sees the buffer from the previous match on, so `^` anchors there (as in
    // Suricata).
    size_t start = p.relative ? size_t(std::clamp<int64_t>(prevEnd, 0, len_)) : 0;
    int rc = aux_[i].jit ? pcre2_jit_match(code, s_ + start, len_ - start, 0, 0, tools_.matchData,
                                           tools_.matchContext)
                         : pcre2_match(code, s_ + start, len_ - start, 0, 0, tools_.matchData,
                                       tools_.matchContext);
    if (p.negated) return rc < 0 && from(i + 1, prevEnd, reach);
    if (rc < 0) return false;
    const int64_t end = int64_t(start + pcre2_get_ovector_pointer(tools_.matchData)[1]);
    return from(i + 1, end, std::max(reach, end));
  }

  bool byteTest(const ByteTest& t, int64_t pos) {
    uint64_t v;
    if (!readNumber(s_, len_, pos, t.nbytes, t.littleEndian, t.base, v)) return false;
    v = applyMask(v, t.bitmask);
    bool r = false;
    switch (t.op) {
      case '<':
        r = v < t.value;
        break;
      case '>':
        r = v > t.value;
        break;
      case '=':
        r = v == t.value;
        break;
      case '&':
        r = (v & t.value) != 0;
        break;
      case '^':
        r = (v ^ t.value) != 0;
        break;
      case 'l':
        r = v <= t.value;
        break;
      case 'g':
        r = v >= t.value;
        break;
    }
    return r != t.negated;
  }

  bool byteJump(size_t i, const ByteJump& j, int64_t prevEnd, int64_t reach) {
    uint64_t v;
    int64_t pos = (j.relative ? prevEnd : -base_) + j.offset;
    if (!readNumber(s_, len_, pos, j.nbytes, j.littleEndian, j.base, v)) return false;
    v = applyMask(v, j.bitmask);
    if (v > UINT32_MAX) return false;
    int64_t jump = int64_t(v) * j.multiplier;
    int64_t next = j.fromBeginning ? -base_ + jump
                   : j.fromEnd     ? int64_t(len_) + jump
                                   : pos + j.nbytes + jump;
    if (j.align) next = (next + 3) & ~int64_t(3);
    next += j.postOffset;
    if (next < 0 || next > int64_t(len_)) return false;
    return from(i + 1, next, std::max(reach, pos + j.nbytes));
  }

  const BufferMatches& m_;
  const std::vector<ItemAux>& aux_;
  const uint8_t* s_;
  uint32_t len_;
  int64_t base_;
  MatchTools& tools_;
  int fpItem_;
  int64_t fpMinEnd_;
  bool reach_;
  uint32_t steps_ = 0;
};

}  // namespace

bool matchBuffer(const BufferMatches& matches, const std::vector<ItemAux>& aux,
                 const uint8_t* bytes, uint32_t len, uint64_t base, MatchTools& tools, int fpItem,
                 int64_t fpMinEnd, bool reach) {
  if (matches.bsize && !matches.bsize->matches(len)) return false;
  return Run(matches, aux, bytes, len, base, tools, fpItem, fpMinEnd, reach).from(0, 0, 0);
}

}  // namespace lbg::ids
