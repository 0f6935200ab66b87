// LogWriter's alarms: loss episodes and owed alarm records (FORMAT.md "Failure handling in the
// writer").
#include "dataplane/telemetry/log/log_writer.h"

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "dataplane/telemetry/log/vocabulary.h"

namespace lbg::telemetry {

using namespace logfmt;

void LogWriter::noteLoss(uint64_t records, int err) {
  lost_ += records;
  if (!alarmOwed_) {
    alarmOwed_ = true;
    ++alarms_;
    episodeLost_ = 0;
    episodeStart_ = nowTimestamp();
    episodeKind_ = toString(err == ENOSPC || err == EDQUOT || err == EFBIG ? AlarmKind::DiskFull : AlarmKind::LogLost);
    episodeDetail_ = std::strerror(err);
    // Raised once per episode, out of band: the disk is what is failing.
    nlohmann::json j = {{"timestamp", episodeStart_},
                        {"event_type", toString(LogEventType::Alarm)},
                        {"alarm", {{"kind", episodeKind_}, {"detail", "log records are being lost: " + episodeDetail_}}},
                        {"measure", toString(defaultMeasure(LogEventType::Alarm))}};
    std::string text = j.dump();
    for (auto& s : syslog_) s->send(text, toString(LogEventType::Alarm), 2, episodeStart_);
  }
  episodeLost_ += records;
}

void LogWriter::raiseAlarm(AlarmKind kind, std::string detail) {
  ++alarms_;
  owedAlarms_.push_back(std::string(toString(kind)) + ": " + detail);
}

void LogWriter::writeAlarmRecord() {
  if (alarmInPending_) return;
  std::string ts = nowTimestamp();
  uint64_t before = pendingRecords_;
  if (alarmOwed_) {
    nlohmann::json j = {{"timestamp", ts},
                        {"event_type", toString(LogEventType::Alarm)},
                        {"alarm",
                         {{"kind", episodeKind_},
                          {"detail", std::to_string(episodeLost_) + " log records lost since " +
                                         episodeStart_ + ": " + episodeDetail_},
                          {"lost", episodeLost_},
                          {"lost_total", lost_},
                          {"since", episodeStart_}}},
                        {"measure", toString(defaultMeasure(LogEventType::Alarm))}};
    appendChained(j.dump());
  }
  for (const auto& a : owedAlarms_) {
    size_t colon = a.find(": ");
    const std::string integrity(toString(AlarmKind::Integrity));
    std::string kind = a.rfind("log-", 0) == 0 && colon != std::string::npos ? a.substr(0, colon) : integrity;
    std::string detail = kind == integrity ? a : a.substr(colon + 2);
    nlohmann::json j = {{"timestamp", ts},
                        {"event_type", toString(LogEventType::Alarm)},
                        {"alarm", {{"kind", kind}, {"detail", detail}}},
                        {"measure", toString(defaultMeasure(LogEventType::Alarm))}};
    appendChained(j.dump());
  }
  alarmInPending_ = true;
  alarmRecordsPending_ = pendingRecords_ - before;
}

}  // namespace lbg::telemetry
