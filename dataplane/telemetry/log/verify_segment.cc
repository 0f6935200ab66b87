// verifyLog's segment reads: one segment read, hashed along its chain and handed to
// VerifyOptions::onSegmentData; the sealed ones on several threads.
#include "dataplane/telemetry/log/verify_parts.h"

#include <algorithm>
#include <atomic>
#include <thread>

namespace lbg::telemetry::logfmt::verify {

SegmentWork checkSegment(const std::string& path, Hash startPrev, uint64_t startSeq, bool haveStart,
                         std::optional<Hash> sealedLast, bool scan, bool collect, std::string& buf,
                         uint64_t number, const VerifyOptions& opt) {
  SegmentWork w;
  w.done = true;
  auto r = readFileInto(path, buf);
  if (!r) {
    w.readError = r.error().toString();
    return w;
  }
  w.readOk = true;
  std::string_view data(buf.data(), buf.size() - 64);
  if (opt.onSegmentData) opt.onSegmentData(number, data);
  w.size = data.size();
  if (collect) collectRetention(data, w.retained);
  if (!scan) return w;
  if (!haveStart) {
    // Unsealed segment after a break: take its own first record as the start, so that the rest
    // is still checked.
    std::string_view first = data.substr(0, data.find('\n'));
    if (auto cf = parseChainFields(first)) {
      startPrev = cf->prev;
      startSeq = cf->seq;
    }
  }
  w.sr = scanSegment(data, startPrev, startSeq, sealedLast, sealedLast.has_value());
  w.scanned = true;
  return w;
}

// Sealed segments are checked in parallel (each starts from its own signed seal; the links between
// them are checked by the walk from the seals); the walk then reads the results in order.
std::vector<SegmentWork> checkSealedSegments(const std::vector<Entry>& entries,
                                             const VerifyOptions& opt) {
  const bool retentionGap = entries.front().files.number != 1;
  std::vector<SegmentWork> work(entries.size());
  {
    std::vector<size_t> todo;
    for (size_t i = 0; i < entries.size(); ++i) {
      const Entry& e = entries[i];
      if (!e.files.hasLog || !e.sealValid) continue;
      bool inRange = e.seal->maxNs >= opt.fromNs && e.seal->minNs <= opt.toNs;
      if (inRange || retentionGap) todo.push_back(i);
    }
    std::atomic<size_t> next{0};
    auto worker = [&] {
      std::string b;
      for (size_t k; (k = next.fetch_add(1)) < todo.size();) {
        const Entry& e = entries[todo[k]];
        bool inRange = e.seal->maxNs >= opt.fromNs && e.seal->minNs <= opt.toNs;
        work[todo[k]] =
            checkSegment(e.files.log, e.seal->chainPrev, e.seal->firstSeq, true, e.seal->chainLast,
                         inRange, retentionGap, b, e.files.number, opt);
      }
    };
    size_t n =
        std::min<size_t>({std::max(1u, std::thread::hardware_concurrency()), 8, todo.size()});
    std::vector<std::thread> threads;
    for (size_t t = 1; t < n; ++t) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
  }
  return work;
}

}  // namespace lbg::telemetry::logfmt::verify
