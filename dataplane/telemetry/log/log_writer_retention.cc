// LogWriter's retention: deletes the oldest sealed segments by age or size, after the deletion is
// recorded in the chain.
#include "dataplane/telemetry/log/log_writer.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "dataplane/telemetry/log/segment_files.h"
#include "dataplane/telemetry/log/time_format.h"
#include "dataplane/telemetry/log/vocabulary.h"

namespace lbg::telemetry {

using namespace logfmt;

void LogWriter::retention(uint64_t nowNs) {
  if (config_.retainMaxBytes == 0 && config_.retainMaxSeconds == 0) return;
  uint64_t total = segBytes_;
  for (const auto& s : sealed_) total += s.diskBytes;
  std::vector<const SealedSegment*> victims;
  std::string reason;
  for (const auto& s : sealed_) {
    bool tooOld = config_.retainMaxSeconds != 0 &&
                  s.seal.maxNs + int64_t(config_.retainMaxSeconds) * 1000000000LL < int64_t(nowNs);
    bool tooBig = config_.retainMaxBytes != 0 && total > config_.retainMaxBytes;
    if (!tooOld && !tooBig) break;  // oldest first: the chain keeps one gap at its start only
    if (reason.empty()) reason = tooOld ? "age" : "size";
    total -= s.diskBytes;
    victims.push_back(&s);
  }
  if (victims.empty() || fd_ < 0) return;
  nlohmann::json deleted = nlohmann::json::array();
  for (const auto* v : victims) {
    const Seal& s = v->seal;
    deleted.push_back({{"segment", s.segment},
                       {"file", segmentBaseName(s.segment) + ".jsonl"},
                       {"first_seq", s.firstSeq},
                       {"last_seq", s.lastSeq},
                       {"records", s.records},
                       {"bytes", s.bytes},
                       {"chain_last", toHex(s.chainLast)},
                       {"min_time", formatRfc3339(s.minNs)},
                       {"max_time", formatRfc3339(s.maxNs)},
                       {"seal_signature", toHex(reinterpret_cast<const uint8_t*>(s.signature.data()), s.signature.size())}});
  }
  nlohmann::json j = {{"timestamp", nowTimestamp()},
                      {"event_type", toString(LogEventType::Retention)},
                      {"retention",
                       {{"reason", reason},
                        {"max_bytes", config_.retainMaxBytes},
                        {"max_seconds", config_.retainMaxSeconds},
                        {"deleted", deleted}}},
                      {"measure", toString(defaultMeasure(LogEventType::Alarm))}};
  // The deletion is recorded durably before anything is deleted; if it cannot be written,
  // nothing is deleted (a gap must always be explained).
  if (alarmOwed_ || !owedAlarms_.empty()) writeAlarmRecord();
  appendChained(j.dump());
  if (!flush()) return;
  size_t n = victims.size();
  for (size_t i = 0; i < n; ++i) {
    SegmentFiles f = segmentFiles(config_.dir, sealed_.front().number);
    ::unlink(f.log.c_str());
    ::unlink(f.index.c_str());
    ::unlink(f.seal.c_str());
    sealed_.pop_front();
  }
}

}  // namespace lbg::telemetry
