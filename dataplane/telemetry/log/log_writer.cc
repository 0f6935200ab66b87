#include "dataplane/telemetry/log/log_writer.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "dataplane/telemetry/log/checkpoint.h"
#include "dataplane/telemetry/log/record_fields.h"
#include "dataplane/telemetry/log/segment_files.h"
#include "dataplane/telemetry/log/segment_index.h"
#include "dataplane/telemetry/log/segment_scan.h"
#include "dataplane/telemetry/log/time_format.h"
#include "dataplane/telemetry/log/vocabulary.h"

namespace lbg::telemetry {

using namespace logfmt;

namespace {

constexpr size_t kFlushBytes = 256 << 10;
constexpr size_t kPadding = 64;

uint64_t monotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ULL + uint64_t(ts.tv_nsec);
}

uint64_t realtimeNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ULL + uint64_t(ts.tv_nsec);
}

// The gateway puts "timestamp" first; the first occurrence is the record's own.
std::optional<int64_t> recordTime(std::string_view obj) {
  static constexpr std::string_view kKey = "\"timestamp\":\"";
  size_t p = obj.find(kKey);
  if (p == std::string_view::npos) return std::nullopt;
  p += kKey.size();
  size_t q = obj.find('"', p);
  if (q == std::string_view::npos) return std::nullopt;
  return parseRfc3339(obj.substr(p, q - p));
}

std::string_view fieldValue(std::string_view obj, std::string_view key) {
  size_t p = obj.find(key);
  if (p == std::string_view::npos) return {};
  p += key.size();
  size_t q = obj.find('"', p);
  return q == std::string_view::npos ? std::string_view{} : obj.substr(p, q - p);
}

bool validApplianceId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

uint64_t fileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
}

Result<Ok> mkdirs(const std::string& dir) {
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    cur = dir.substr(0, pos);
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), 0750) != 0 && errno != EEXIST)
      return Error{"cannot create log directory: " + std::string(std::strerror(errno)), cur};
  }
  return Ok{};
}

}  // namespace

Result<std::unique_ptr<LogWriter>> LogWriter::create(const LogConfig& config) {
  if (config.dir.empty()) return Error{"log: dir is empty"};
  if (config.keyFile.empty()) return Error{"log: keyFile is empty"};
  if (!validApplianceId(config.applianceId))
    return Error{"log: applianceId must be 1-64 characters of A-Z a-z 0-9 . _ -"};
  if (config.segmentMaxBytes < 4096) return Error{"log: segmentMaxBytes below 4096"};
  if (config.segmentMaxSeconds == 0) return Error{"log: segmentMaxSeconds is 0"};
  if (auto r = mkdirs(config.dir); !r) return r.error();
  auto key = SigningKey::loadOrCreate(config.keyFile);
  if (!key) return key.error();
  std::unique_ptr<LogWriter> w(new LogWriter(config, std::move(*key)));
  for (const auto& t : config.syslog) {
    auto s = SyslogSender::create(t, config.applianceId);
    if (!s) return s.error();
    w->syslog_.push_back(std::move(*s));
  }
  w->nowNs_ = realtimeNs();
  if (auto r = w->resume(); !r) return r.error();
  w->checkPreviousCheckpoint();
  w->alarms_ += w->owedAlarms_.size();  // findings of the restart check
  if (!w->openSegment()) return Error{"log: cannot open a segment in " + config.dir};
  w->writeCheckpoint(true);
  return w;
}

LogWriter::~LogWriter() { close(); }

uint64_t LogWriter::syslogDropped() const {
  uint64_t n = 0;
  for (const auto& s : syslog_) n += s->dropped();
  return n;
}

void LogWriter::drainSyslog(int timeoutMs) {
  for (auto& s : syslog_) s->drain(timeoutMs);
}

std::string LogWriter::nowTimestamp() const { return formatRfc3339(int64_t(nowNs_)); }

// Picks the chain up where the previous run left it. The newest sealed segment's tail must match
// its seal; an unsealed segment (the previous run stopped without close()) is checked record by
// record, an unfinished last line is cut off, and then it is sealed. A segment that does not
// verify is left exactly as found (verify will point at it) and an alarm enters the new segment.
Result<Ok> LogWriter::resume() {
  auto listed = listSegments(config_.dir);
  if (!listed) return listed.error();
  head_ = genesisHash(config_.applianceId);
  nextSeq_ = 1;
  segNumber_ = 1;
  std::string buf;
  const VerifyKey& pub = key_.publicKey();
  std::optional<SegmentFiles> open;
  for (const auto& f : *listed) {
    if (!f.hasSeal) {
      if (f.hasLog) open = f;  // only the newest may be unsealed; others are verify's business
      continue;
    }
    if (!readFileInto(f.seal, buf, 0)) continue;
    auto seal = Seal::parse(buf);
    if (!seal || !seal->verify(pub) || seal->appliance != config_.applianceId) {
      owedAlarms_.push_back("segment " + std::to_string(f.number) +
                            ": seal does not verify with this appliance's key");
      continue;
    }
    SealedSegment s;
    s.number = f.number;
    s.diskBytes = fileSize(f.log) + fileSize(f.seal) + fileSize(f.index);
    s.seal = std::move(*seal);
    sealed_.push_back(std::move(s));
  }
  if (!listed->empty()) segNumber_ = listed->back().number + 1;
  if (!sealed_.empty()) {
    const Seal& last = sealed_.back().seal;
    head_ = last.chainLast;
    nextSeq_ = last.lastSeq + 1;
    SegmentFiles f = segmentFiles(config_.dir, last.segment);
    if (readFileInto(f.log, buf, 0)) {
      std::string_view data(buf);
      bool tailOk = data.size() == last.bytes && data.size() >= 2 && data.back() == '\n';
      if (tailOk) {
        size_t nl = data.rfind('\n', data.size() - 2);
        size_t start = nl == std::string_view::npos ? 0 : nl + 1;
        tailOk = hashLine(data.substr(start, data.size() - 1 - start)) == last.chainLast;
      }
      if (!tailOk)
        owedAlarms_.push_back("segment " + std::to_string(last.segment) +
                              ": its last record no longer matches its seal");
    }
  }
  if (open && open->number == listed->back().number &&
      (sealed_.empty() || open->number > sealed_.back().number)) {
    auto r = readFileInto(open->log, buf, kPadding);
    if (!r) return r.error();
    std::string_view data(buf.data(), buf.size() - kPadding);
    if (data.empty()) {
      ::unlink(open->log.c_str());
      segNumber_ = open->number;
      return Ok{};
    }
    ScanResult sr = scanSegment(data, head_, nextSeq_, std::nullopt, false);
    if (sr.issue) {
      owedAlarms_.push_back("segment " + std::to_string(open->number) + ", record " +
                            std::to_string(sr.issue->record) + ": " + sr.issue->reason +
                            " (found when the writer restarted; segment left unsealed)");
      head_ = sr.lastHash;
      nextSeq_ = sr.lastSeq + 1;
      segNumber_ = open->number + 1;
      return Ok{};
    }
    if (sr.tailBytes > 0) {
      if (::truncate(open->log.c_str(), off_t(sr.goodBytes)) != 0)
        return Error{"log: cannot cut the unfinished record", open->log};
      owedAlarms_.push_back("segment " + std::to_string(open->number) + ": " +
                            std::to_string(sr.tailBytes) +
                            " bytes of an unfinished record removed after an unclean stop");
    }
    if (sr.records == 0) {
      ::unlink(open->log.c_str());
      segNumber_ = open->number;
      return Ok{};
    }
    // Adopt the segment as if this run had written it, then seal it.
    segNumber_ = open->number;
    segChainPrev_ = head_;
    segFirstSeq_ = nextSeq_;
    segRecords_ = sr.records;
    segBytes_ = sr.goodBytes;
    head_ = durableHead_ = sr.lastHash;
    nextSeq_ = durableSeq_ = sr.lastSeq + 1;
    segMinNs_ = segMaxNs_ = 0;  // recomputed from the records by sealSegment()
    fd_ = ::open(open->log.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd_ < 0) return Error{"log: cannot reopen " + open->log};
    if (!sealSegment()) return Error{"log: cannot seal " + open->log};
    ++segNumber_;
  }
  return Ok{};
}

// The previous run's checkpoint names the newest record it made durable. If the chain found on
// disk ends earlier, the newest segments were deleted or the open one was cut while the writer
// was stopped: that is said in the chain (an alarm record) before the checkpoint is overwritten,
// and segment numbers continue after the checkpoint's so that a deleted number is never reused.
void LogWriter::checkPreviousCheckpoint() {
  std::string text;
  const std::string path = checkpointPath(config_.dir);
  if (!readFileInto(path, text, 0)) {
    if (!sealed_.empty() || segNumber_ > 1)
      owedAlarms_.push_back(std::string(toString(AlarmKind::Integrity)) + ": the signed checkpoint of the log's head is missing (" +
                            path + "): deletion of the newest records cannot be ruled out");
    return;
  }
  auto cp = Checkpoint::parse(text);
  if (!cp || !cp->verify(key_.publicKey()) || cp->appliance != config_.applianceId) {
    owedAlarms_.push_back(std::string(toString(AlarmKind::Integrity)) + ": the checkpoint of the log's head " +
                          std::string(cp ? "does not verify with this appliance's key"
                                         : "is unreadable: " + cp.error().message));
    return;
  }
  const uint64_t found = nextSeq_ - 1;
  if (cp->lastSeq > found) {
    owedAlarms_.push_back(
        std::string(toString(AlarmKind::TailMissing)) + ": records seq " + std::to_string(found + 1) + ".." +
        std::to_string(cp->lastSeq) + " (up to segment " + std::to_string(cp->segment) +
        ", checkpoint written at " + formatRfc3339(cp->writtenNs) +
        ") are missing: the newest segments were deleted or the open segment was cut while the "
        "writer was stopped");
  }
  if (cp->segment >= segNumber_) segNumber_ = cp->segment + 1;
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

void LogWriter::appendChained(std::string_view object) {
  size_t start = pending_.size();
  logfmt::appendChained(object, ChainFields{nextSeq_, head_}, pending_);
  head_ = hashLine(std::string_view(pending_).substr(start, pending_.size() - start - 1));
  ++nextSeq_;
  ++pendingRecords_;
  if (auto t = recordTime(object)) {
    if (pendingMinNs_ == 0 || *t < pendingMinNs_) pendingMinNs_ = *t;
    if (*t > pendingMaxNs_) pendingMaxNs_ = *t;
  }
}

bool LogWriter::append(std::string_view jsonObject) {
  // A raw line break would split the record; outside strings it is only whitespace, inside a
  // string it is invalid JSON anyway, so a space keeps the meaning.
  scratch_.assign(jsonObject);
  for (char& c : scratch_)
    if (c == '\n' || c == '\r') c = ' ';
  while (!scratch_.empty() && (scratch_.back() == ' ' || scratch_.back() == '\t')) scratch_.pop_back();
  size_t lead = scratch_.find_first_not_of(" \t");
  std::string_view obj = lead == std::string::npos ? std::string_view{} : std::string_view(scratch_).substr(lead);
  if (obj.size() < 2 || obj.front() != '{' || obj.back() != '}') {
    ++lost_;
    raiseAlarm(AlarmKind::InvalidRecord, "a record that is not a JSON object was refused");
    return false;
  }
  if (fd_ < 0 && !openSegment()) {
    noteLoss(1, errno);
    return false;
  }
  if (alarmOwed_ || !owedAlarms_.empty()) writeAlarmRecord();
  appendChained(obj);
  if (pending_.size() >= kFlushBytes && !flush()) return false;
  if (segBytes_ + pending_.size() >= config_.segmentMaxBytes) rotate();
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

void LogWriter::tick(uint64_t nowUnixNs) {
  nowNs_ = nowUnixNs;
  if (fd_ < 0) openSegment();
  if (fd_ >= 0 && (alarmOwed_ || !owedAlarms_.empty())) writeAlarmRecord();
  flush();
  if (fd_ >= 0 && segRecords_ > 0 && segMinNs_ != 0 &&
      int64_t(nowUnixNs) - segMinNs_ >= int64_t(config_.segmentMaxSeconds) * 1000000000LL)
    rotate();
  retention(nowUnixNs);
  writeCheckpoint(false);
  for (auto& s : syslog_) s->tick(nowUnixNs);
}

void LogWriter::close() {
  if (fd_ < 0) return;
  if (alarmOwed_ || !owedAlarms_.empty()) writeAlarmRecord();
  flush();
  if (fd_ < 0) return;
  if (segRecords_ == 0) {
    ::close(fd_);
    fd_ = -1;
    ::unlink(segmentFiles(config_.dir, segNumber_).log.c_str());
  } else {
    sealSegment();
    ++segNumber_;
  }
  writeCheckpoint(true);
  for (auto& s : syslog_) s->drain(1000);
}

}  // namespace lbg::telemetry
