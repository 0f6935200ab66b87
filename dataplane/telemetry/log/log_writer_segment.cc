// LogWriter's files: the open segment (write, cut back on failure, export), its seal and index at
// rotation, and the signed checkpoint of the head.
#include "dataplane/telemetry/log/log_writer.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "dataplane/telemetry/log/checkpoint.h"
#include "dataplane/telemetry/log/record_fields.h"
#include "dataplane/telemetry/log/segment_files.h"
#include "dataplane/telemetry/log/segment_index.h"
#include "dataplane/telemetry/log/segment_scan.h"
#include "dataplane/telemetry/log/vocabulary.h"

namespace lbg::telemetry {

using namespace logfmt;

namespace {

uint64_t monotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ULL + uint64_t(ts.tv_nsec);
}

std::string_view fieldValue(std::string_view obj, std::string_view key) {
  size_t p = obj.find(key);
  if (p == std::string_view::npos) return {};
  p += key.size();
  size_t q = obj.find('"', p);
  return q == std::string_view::npos ? std::string_view{} : obj.substr(p, q - p);
}

}  // namespace

bool LogWriter::openSegment() {
  SegmentFiles f = segmentFiles(config_.dir, segNumber_);
  fd_ = ::open(f.log.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) return false;
  segChainPrev_ = head_;
  segFirstSeq_ = nextSeq_;
  durableHead_ = head_;
  durableSeq_ = nextSeq_;
  segBytes_ = segRecords_ = 0;
  segMinNs_ = segMaxNs_ = 0;
  pendingMinNs_ = pendingMaxNs_ = 0;
  return true;
}

bool LogWriter::flush() {
  if (pending_.empty() || fd_ < 0) return fd_ >= 0 || pending_.empty();
  size_t off = 0;
  int err = 0;
  while (off < pending_.size()) {
    ssize_t n = ::write(fd_, pending_.data() + off, pending_.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : ENOSPC;
      break;
    }
    off += size_t(n);
  }
  if (err != 0) {
    // Cut the file back to its last complete record: earlier records stay intact and the next
    // record links to the last one that is really there.
    if (::ftruncate(fd_, off_t(segBytes_)) != 0) {
      // Cannot even cut back: this segment's tail is unreliable, continue in a fresh one.
      ::close(fd_);
      fd_ = -1;
      ++segNumber_;
    }
    // Alarm records in the batch are not events of the gateway: they stay owed, not lost.
    uint64_t n = pendingRecords_ - alarmRecordsPending_;
    alarmInPending_ = false;
    alarmRecordsPending_ = 0;
    pending_.clear();
    pendingRecords_ = 0;
    head_ = durableHead_;
    nextSeq_ = durableSeq_;
    pendingMinNs_ = pendingMaxNs_ = 0;
    noteLoss(n, err);
    return false;
  }
  // Durable (as far as the kernel goes; sealing fsyncs). Export exactly what is on disk.
  std::string_view all(pending_);
  size_t pos = 0;
  while (!syslog_.empty() && pos < all.size()) {
    size_t nl = all.find('\n', pos);
    std::string_view line = all.substr(pos, nl - pos);
    pos = nl + 1;
    std::string_view type = fieldValue(line, "\"event_type\":\"");
    int severity = type == toString(LogEventType::Alarm) ? 2 : fieldValue(line, "\"action\":\"") == "deny" ? 5 : 6;
    std::string_view ts = fieldValue(line, "\"timestamp\":\"");
    for (auto& s : syslog_) s->send(line, type, severity, ts);
  }
  segBytes_ += pending_.size();
  segRecords_ += pendingRecords_;
  written_ += pendingRecords_;
  if (pendingMinNs_ != 0 && (segMinNs_ == 0 || pendingMinNs_ < segMinNs_)) segMinNs_ = pendingMinNs_;
  if (pendingMaxNs_ > segMaxNs_) segMaxNs_ = pendingMaxNs_;
  durableHead_ = head_;
  durableSeq_ = nextSeq_;
  if (alarmInPending_) {
    alarmOwed_ = false;
    owedAlarms_.clear();
    alarmInPending_ = false;
    alarmRecordsPending_ = 0;
  }
  pending_.clear();
  pendingRecords_ = 0;
  pendingMinNs_ = pendingMaxNs_ = 0;
  return true;
}

// Seals the open segment: fsync, re-read it and check it against the chain this writer built
// (never sign what someone changed under us), write the index, then the signed seal.
bool LogWriter::sealSegment() {
  if (fd_ < 0) return false;
  ::fsync(fd_);
  ::close(fd_);
  fd_ = -1;
  SegmentFiles f = segmentFiles(config_.dir, segNumber_);
  std::string buf;
  if (!readFileInto(f.log, buf, kPadding)) return false;
  std::string_view data(buf.data(), buf.size() - kPadding);
  ScanResult sr = scanSegment(data, segChainPrev_, segFirstSeq_, std::nullopt, true);
  if (sr.issue || sr.lastHash != durableHead_ || sr.records != segRecords_) {
    raiseAlarm(AlarmKind::Integrity, "segment " + std::to_string(segNumber_) +
                                    " changed on disk before it was sealed; left unsealed" +
                                    (sr.issue ? " (record " + std::to_string(sr.issue->record) +
                                                    ": " + sr.issue->reason + ")"
                                              : std::string()));
    return false;
  }
  IndexBuilder ib(segNumber_);
  RecordFields rf;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    std::string_view line = data.substr(pos, nl - pos);
    if (!parseRecordFields(line, buf.size() - pos, rf)) rf.clear();
    ib.add(rf);
    pos = nl + 1;
  }
  SegmentIndex ix = ib.finish();
  std::string ixText = ix.serialize();
  Seal s;
  s.appliance = config_.applianceId;
  s.segment = segNumber_;
  s.firstSeq = segFirstSeq_;
  s.lastSeq = sr.lastSeq;
  s.records = sr.records;
  s.bytes = data.size();
  s.chainPrev = segChainPrev_;
  s.chainLast = sr.lastHash;
  s.minNs = ix.minNs;
  s.maxNs = ix.maxNs;
  s.sealedNs = int64_t(nowNs_);
  if (writeFileAtomic(f.index, ixText)) {
    unsigned char h[32];
    SHA256(reinterpret_cast<const unsigned char*>(ixText.data()), ixText.size(), h);
    s.indexSha256 = toHex(h, 32);
  }
  std::string sealText = s.serialize(key_);
  if (!writeFileAtomic(f.seal, sealText)) {
    raiseAlarm(AlarmKind::SealFailed, "segment " + std::to_string(segNumber_) + " could not be sealed");
    return false;
  }
  SealedSegment ss;
  ss.number = segNumber_;
  ss.diskBytes = data.size() + sealText.size() + ixText.size();
  ss.seal = s;
  sealed_.push_back(std::move(ss));
  return true;
}

bool LogWriter::rotate() {
  flush();
  if (fd_ >= 0 && segRecords_ == 0) return true;  // nothing to seal
  if (fd_ >= 0) sealSegment();
  ++segNumber_;
  return openSegment();
}

void LogWriter::writeCheckpoint(bool force) {
  Checkpoint c;
  c.appliance = config_.applianceId;
  if (fd_ >= 0 && segRecords_ > 0) {
    c.segment = segNumber_;
    c.lastSeq = durableSeq_ - 1;
    c.chainLast = durableHead_;
    c.segmentBytes = segBytes_;
  } else if (!sealed_.empty()) {
    const Seal& s = sealed_.back().seal;
    c.segment = s.segment;
    c.lastSeq = s.lastSeq;
    c.chainLast = s.chainLast;
    c.segmentBytes = s.bytes;
  }
  const uint64_t mono = monotonicNs();
  if (!force && (c.lastSeq == ckptSeq_ || mono - ckptMonoNs_ < config_.checkpointMillis * 1000000ULL))
    return;
  c.writtenNs = int64_t(nowNs_);
  // A failure (disk full) is retried at the next tick; the loss itself is counted elsewhere.
  if (writeFileAtomic(checkpointPath(config_.dir), c.serialize(key_))) {
    ckptSeq_ = c.lastSeq;
    ckptMonoNs_ = mono;
  }
}

}  // namespace lbg::telemetry
