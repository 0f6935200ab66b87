// verifyLog's retention checks: the records that declare deleted segments, and the gap they
// explain.
#include "dataplane/telemetry/log/verify_parts.h"

#include <map>
#include <nlohmann/json.hpp>

#include "dataplane/telemetry/log/json_integer.h"
#include "dataplane/telemetry/log/time_format.h"
#include "dataplane/telemetry/log/vocabulary.h"

namespace lbg::telemetry::logfmt::verify {

// Retention records: lines whose event_type is "retention", parsed fully (they are few).
void collectRetention(std::string_view data, std::vector<RetainedSegment>& out) {
  static const std::string kNeedle =
      "\"event_type\":\"" + std::string(toString(LogEventType::Retention)) + "\"";
  size_t pos = 0;
  while ((pos = data.find(kNeedle, pos)) != std::string_view::npos) {
    size_t start = data.rfind('\n', pos);
    start = start == std::string_view::npos ? 0 : start + 1;
    size_t end = data.find('\n', pos);
    if (end == std::string_view::npos) break;
    pos = end;
    auto j = nlohmann::json::parse(data.substr(start, end - start), nullptr, false);
    if (j.is_discarded() || !j.is_object() ||
        j.value("event_type", "") != toString(LogEventType::Retention))
      continue;
    const auto* ret = j.contains("retention") ? &j["retention"] : nullptr;
    if (ret == nullptr || !ret->is_object() || !ret->contains("deleted") ||
        !(*ret)["deleted"].is_array())
      continue;
    for (const auto& d : (*ret)["deleted"]) {
      try {
        RetainedSegment r;
        const auto segment = jsonInteger<uint64_t>(d, "segment");
        const auto firstSeq = jsonInteger<uint64_t>(d, "first_seq");
        const auto lastSeq = jsonInteger<uint64_t>(d, "last_seq");
        const auto records = jsonInteger<uint64_t>(d, "records");
        if (!segment || !firstSeq || !lastSeq || !records) continue;  // as a field that is missing
        r.segment = *segment;
        r.firstSeq = *firstSeq;
        r.lastSeq = *lastSeq;
        r.records = *records;
        auto h = hashFromHex(d.at("chain_last").get<std::string>());
        if (!h) continue;
        r.chainLast = *h;
        r.minNs = parseRfc3339(d.value("min_time", "")).value_or(0);
        r.maxNs = parseRfc3339(d.value("max_time", "")).value_or(0);
        r.reason = ret->value("reason", "");
        out.push_back(r);
      } catch (const nlohmann::json::exception&) {
      }
    }
  }
}

// Segments before the oldest one present must have been deleted by retention, and the log must say
// so: the entry for the one just before must end where the oldest present begins.
void checkRetentionGap(const std::vector<Entry>& entries, const ChainWalk& walk,
                       VerifyResult& res) {
  if (walk.needRetention) {
    const Entry& first = entries.front();
    const uint64_t firstNumber = first.files.number;
    std::map<uint64_t, RetainedSegment> bySeg;
    for (auto& r : walk.retained) bySeg[r.segment] = r;
    // Retention deletes oldest first, and each retention record is written before the deletion
    // into a later segment; so the record that deleted the segment just before the oldest one
    // present explains the whole gap (the records that deleted earlier ones went with their
    // segments, legitimately).
    std::string name = baseName(first.files.log);
    auto it = bySeg.find(firstNumber - 1);
    if (it == bySeg.end()) {
      res.findings.insert(res.findings.begin(),
                          VerifyFinding{firstNumber, name, 0, 0, 0,
                                        "segments 1.." + std::to_string(firstNumber - 1) +
                                            " missing without a retention record explaining "
                                            "their deletion"});
    } else if (first.sealValid) {
      const RetainedSegment& before = it->second;
      if (before.chainLast != first.seal->chainPrev || before.lastSeq + 1 != first.seal->firstSeq)
        res.findings.insert(res.findings.begin(),
                            VerifyFinding{firstNumber, name, 1, first.seal->firstSeq, 0,
                                          "chain break: the oldest segment does not continue the "
                                          "segment that retention deleted before it"});
    }
  }
}

}  // namespace lbg::telemetry::logfmt::verify
