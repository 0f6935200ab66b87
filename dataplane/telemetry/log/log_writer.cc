#include "dataplane/telemetry/log/log_writer.h"

#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "dataplane/telemetry/log/segment_files.h"
#include "dataplane/telemetry/log/time_format.h"
#include "dataplane/telemetry/log/vocabulary.h"

namespace lbg::telemetry {

using namespace logfmt;

namespace {

constexpr size_t kFlushBytes = 256 << 10;

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

bool validApplianceId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
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
