#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/telemetry/log/chain.h"
#include "dataplane/telemetry/log/ed25519_key.h"
#include "dataplane/telemetry/log/log_counters.h"
#include "dataplane/telemetry/log/seal.h"
#include "dataplane/telemetry/log/syslog_sender.h"
#include "dataplane/telemetry/log/vocabulary.h"
#include "policy/base/result.h"

namespace lbg::telemetry {

struct LogConfig {
  std::string dir;
  std::string keyFile;  // Ed25519 private key PEM; created 0600 with its .pub if missing
  std::string applianceId;
  uint64_t segmentMaxBytes = 64 << 20;
  uint64_t segmentMaxSeconds = 3600;
  uint64_t retainMaxBytes = 0;    // 0 = unlimited
  uint64_t retainMaxSeconds = 0;  // 0 = unlimited
  uint64_t checkpointMillis = 1000;  // real time between signed checkpoints of the head (0 = every tick)
  std::vector<SyslogTarget> syslog;
};

// The enforcement log writer (FORMAT.md): hash-chained JSON lines in size/time-rotated segments,
// each closed segment sealed with the appliance's Ed25519 key, retention that logs its own
// deletions, export to syslog. Used by ONE thread (the gateway's service thread), never a worker.
//
// Failure posture: a record that cannot be made durable (disk full, I/O error) is counted in
// lost(), the file is cut back to its last complete record so that nothing earlier is damaged,
// an alarm goes to syslog at once and an `alarm` record enters the chain as soon as the disk
// takes writes again. The writer never throws and never stops the caller.
//
// One file per responsibility: log_writer.cc (configuration, append, tick, close),
// log_writer_segment.cc (the open segment, flush and export, seal, rotation, checkpoint),
// log_writer_resume.cc (restart), log_writer_alarms.cc (loss episodes and alarm records),
// log_writer_retention.cc (deletion by age or size).
class LogWriter {
 public:
  static Result<std::unique_ptr<LogWriter>> create(const LogConfig& config);
  ~LogWriter();

  // `jsonObject`: one complete JSON object text without chain fields (it already has "timestamp"
  // and "event_type"). Returns false if the record could not be written (counted as lost).
  bool append(std::string_view jsonObject);
  void tick(uint64_t nowUnixNs);  // rotation by time, retention, flush, syslog; ~1/s
  void close();                   // flush and seal the open segment

  uint64_t written() const { return written_; }
  uint64_t lost() const { return lost_; }
  uint64_t syslogDropped() const;
  // Alarms raised (loss episodes, refused records, integrity findings), for the gateway counters.
  uint64_t alarmsRaised() const { return alarms_; }
  // True from the first lost record until the alarm record saying so is durable in the chain.
  bool alarmActive() const { return alarmOwed_; }
  // The above as declared counter sets (log_counters.h), for the gateway's export.
  LogCounters counters() const {
    LogCounters c;
    c.records_written = written();
    c.records_lost = lost();
    c.syslog_dropped = syslogDropped();
    c.alarms = alarmsRaised();
    return c;
  }
  LogGauges gauges() const {
    LogGauges g;
    g.alarm = alarmActive() ? 1 : 0;
    return g;
  }
  uint64_t currentSegment() const { return segNumber_; }
  const std::string& keyId() const { return key_.keyId(); }
  // Sends queued syslog messages, waiting up to timeoutMs (shutdown and tests).
  void drainSyslog(int timeoutMs);

 private:
  struct SealedSegment {
    uint64_t number = 0;
    uint64_t diskBytes = 0;  // log + index + seal
    logfmt::Seal seal;
  };

  // Zero bytes read after a segment's data (simdjson reads ahead).
  static constexpr size_t kPadding = 64;

  LogWriter(LogConfig config, logfmt::SigningKey key) : config_(std::move(config)), key_(std::move(key)) {}
  // log_writer_resume.cc
  Result<Ok> resume();
  void checkPreviousCheckpoint();
  // log_writer_segment.cc
  bool openSegment();
  bool flush();
  bool sealSegment();
  bool rotate();
  void writeCheckpoint(bool force);
  // log_writer_retention.cc
  void retention(uint64_t nowNs);
  // log_writer_alarms.cc
  void noteLoss(uint64_t records, int err);
  void writeAlarmRecord();
  void raiseAlarm(AlarmKind kind, std::string detail);
  // log_writer.cc
  void appendChained(std::string_view object);
  std::string nowTimestamp() const;

  LogConfig config_;
  logfmt::SigningKey key_;
  std::vector<std::unique_ptr<SyslogSender>> syslog_;

  int fd_ = -1;
  uint64_t segNumber_ = 1;
  logfmt::Hash segChainPrev_{};
  uint64_t segFirstSeq_ = 1;

  // Chain head including pending (buffered) records...
  uint64_t nextSeq_ = 1;
  logfmt::Hash head_{};
  std::string pending_;
  uint64_t pendingRecords_ = 0;
  int64_t pendingMinNs_ = 0, pendingMaxNs_ = 0;
  // ...and as far as it is durable in the open segment.
  uint64_t durableSeq_ = 0;  // next seq after the last durable record
  logfmt::Hash durableHead_{};
  uint64_t segBytes_ = 0, segRecords_ = 0;
  int64_t segMinNs_ = 0, segMaxNs_ = 0;

  std::deque<SealedSegment> sealed_;
  uint64_t written_ = 0, lost_ = 0, alarms_ = 0;
  uint64_t nowNs_ = 0;

  // Loss episode: an alarm record is owed to the chain until it can be written.
  bool alarmOwed_ = false;
  bool alarmInPending_ = false;  // alarm records are in pending_, not yet durable
  uint64_t alarmRecordsPending_ = 0;
  uint64_t episodeLost_ = 0;
  std::string episodeKind_, episodeDetail_, episodeStart_;
  std::vector<std::string> owedAlarms_;  // other alarms to write (resume findings, ...)
  std::string scratch_;

  // The last signed checkpoint written (FORMAT.md "Checkpoint").
  uint64_t ckptSeq_ = UINT64_MAX;
  uint64_t ckptMonoNs_ = 0;
};

}  // namespace lbg::telemetry
