#include "dataplane/telemetry/log/segment_scan.h"

#include <cstring>

namespace lbg::telemetry::logfmt {

namespace {

struct LineCursor {
  std::string_view data;
  size_t pos = 0;
  // Next complete line (without '\n'); false at the end or at an incomplete tail.
  bool next(std::string_view& line, size_t& offset) {
    if (pos >= data.size()) return false;
    const void* nl = std::memchr(data.data() + pos, '\n', data.size() - pos);
    if (nl == nullptr) return false;
    size_t end = size_t(static_cast<const char*>(nl) - data.data());
    line = data.substr(pos, end - pos);
    offset = pos;
    pos = end + 1;
    return true;
  }
};

std::string seqText(uint64_t s) { return "seq " + std::to_string(s); }

}  // namespace

ScanResult scanSegment(std::string_view data, const Hash& prev, uint64_t firstSeq,
                       const std::optional<Hash>& sealedLast, bool tailIsIssue) {
  ScanResult r;
  r.firstSeq = firstSeq;
  r.lastSeq = firstSeq - 1;
  r.lastHash = prev;
  LineCursor cur{data};
  std::string_view line;
  size_t offset = 0;
  uint64_t k = 0;
  uint64_t expected = firstSeq;
  size_t prevOffset = 0;
  struct {
    Hash hash;
    uint64_t seq;
    uint64_t bytes;
  } before{prev, firstSeq - 1, 0};
  auto fail = [&](uint64_t record, uint64_t seq, uint64_t off, std::string reason) {
    r.issue = ScanIssue{record, seq, off, std::move(reason)};
  };
  while (cur.next(line, offset)) {
    ++k;
    auto cf = parseChainFields(line);
    if (!cf) {
      fail(k, expected, offset,
           "record is not a chained lbg record (lbg_seq/lbg_prev missing or damaged): altered or "
           "inserted");
      return r;
    }
    Hash h = hashLine(line);
    if (cf->prev == r.lastHash) {
      if (cf->seq != expected) {
        fail(k, expected, offset,
             "record altered: its lbg_seq reads " + std::to_string(cf->seq) + " where " +
                 std::to_string(expected) + " belongs (the chain link itself is intact)");
        return r;
      }
      before = {r.lastHash, r.lastSeq, r.goodBytes};
      r.lastHash = h;
      r.lastSeq = cf->seq;
      r.records = k;
      r.goodBytes = cur.pos;
      prevOffset = offset;
      ++expected;
      continue;
    }
    // The link to the previous record is broken. Tell which record is at fault.
    if (cf->seq == expected) {
      // Does the next record still link to this one? Then this one is intact and the previous one
      // changed; otherwise this one changed (its own lbg_prev, which also changes its hash).
      std::optional<bool> nextLinks;
      LineCursor peek = cur;
      std::string_view nextLine;
      size_t nextOffset;
      if (peek.next(nextLine, nextOffset)) {
        auto nf = parseChainFields(nextLine);
        if (nf) nextLinks = nf->prev == h;
      } else if (sealedLast) {
        nextLinks = *sealedLast == h;
      }
      if (k == 1) {
        if (nextLinks.value_or(false))
          fail(1, expected, offset,
               "chain break at the start of the segment: record 1 does not follow the previous "
               "segment's last record (that segment was altered, replaced or removed)");
        else
          fail(1, expected, offset, "record altered: its content does not match its chain link");
      } else if (nextLinks.value_or(false)) {
        fail(k - 1, expected - 1, prevOffset,
             "record altered: its content no longer matches the hash that record " +
                 std::to_string(k) + " holds for it");
        // The previous record is the faulty one: the good chain ends one record earlier.
        r.records = k - 2;
        r.lastHash = before.hash;
        r.lastSeq = before.seq;
        r.goodBytes = before.bytes;
      } else {
        fail(k, expected, offset, "record altered: its content does not match its chain link");
      }
      return r;
    }
    if (cf->seq > expected) {
      // A later record here: the expected one was deleted, or moved further down.
      LineCursor peek = cur;
      std::string_view other;
      size_t otherOffset;
      uint64_t m = k;
      while (peek.next(other, otherOffset)) {
        ++m;
        auto of = parseChainFields(other);
        if (of && of->seq == expected) {
          fail(k, expected, offset,
               "records out of order: record " + std::to_string(k) + " holds " + seqText(cf->seq) +
                   ", " + seqText(expected) + " is at record " + std::to_string(m));
          return r;
        }
      }
      fail(k, expected, offset,
           cf->seq == expected + 1
               ? "record deleted: " + seqText(expected) + " is missing before this record"
               : "records deleted: seq " + std::to_string(expected) + ".." +
                     std::to_string(cf->seq - 1) + " are missing before this record");
      return r;
    }
    fail(k, expected, offset,
         "records out of order or duplicated: record " + std::to_string(k) + " holds " +
             seqText(cf->seq) + " which belongs before " + seqText(expected));
    return r;
  }
  if (cur.pos < data.size()) {
    r.tailBytes = data.size() - cur.pos;
    if (tailIsIssue)
      fail(k + 1, expected, cur.pos,
           "record incomplete: " + std::to_string(r.tailBytes) +
               " bytes without an end of line (cut or partly written)");
  }
  return r;
}

}  // namespace lbg::telemetry::logfmt
