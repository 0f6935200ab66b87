#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "policy/base/result.h"

struct ssl_ctx_st;
struct ssl_st;

// Export of the enforcement log to SIEMs: RFC 5424 messages whose MSG is the log record's JSON,
// over UDP (RFC 5426), TCP with octet-counting framing (RFC 6587 §3.4.1) or TLS (RFC 5425).
// Runs on the writer's (service) thread and never blocks it on a slow receiver: messages queue up
// to a bound, beyond which they are dropped and counted. The signed log on disk stays the record
// of truth; the SIEM copy is an independent witness (it still holds what a later deletion removed).
namespace lbg::telemetry {

struct SyslogTarget {
  enum class Transport { Udp, Tcp, Tls };
  Transport transport = Transport::Udp;
  std::string host;  // name or address
  uint16_t port = 514;
  // TLS: the receiver's certificate is verified against caFile (system store if empty) and
  // serverName (host if empty). Optional client certificate for mutual authentication.
  std::string caFile, serverName, certFile, keyFile;
  int facility = 16;  // local0
  uint64_t maxQueueBytes = 8 << 20;
};

class SyslogSender {
 public:
  static Result<std::unique_ptr<SyslogSender>> create(const SyslogTarget& target,
                                                      std::string hostname);
  ~SyslogSender();

  // Queues one message; `timestamp` is the record's RFC 3339 time, `msgId` its event type.
  void send(std::string_view json, std::string_view msgId, int severity, std::string_view timestamp);
  // Reconnects (with back-off) and pushes out what is queued. Called ~1/s and after sends.
  void tick(uint64_t nowNs);
  // Pushes out what is queued, waiting up to timeoutMs for the socket (shutdown and tests).
  void drain(int timeoutMs);

  uint64_t sent() const { return sent_; }
  uint64_t dropped() const { return dropped_; }
  bool connected() const { return fd_ >= 0; }

  // The RFC 5424 message text (exposed for tests).
  static std::string format(int facility, int severity, std::string_view timestamp,
                            std::string_view hostname, std::string_view msgId,
                            std::string_view json);

 private:
  SyslogSender(SyslogTarget t, std::string hostname) : target_(std::move(t)), hostname_(std::move(hostname)) {}
  Result<Ok> init();
  bool connect();
  void disconnect();
  void closeGracefully();
  void pump();
  bool flushOut(bool wait, int timeoutMs);
  bool tlsHandshake(int timeoutMs);

  SyslogTarget target_;
  std::string hostname_;
  int fd_ = -1;
  ssl_ctx_st* ctx_ = nullptr;
  ssl_st* ssl_ = nullptr;
  std::deque<std::string> frames_;  // plaintext frames waiting
  uint64_t queuedBytes_ = 0;
  std::string out_;                 // bytes for the socket (ciphertext under TLS)
  size_t outOffset_ = 0;
  uint64_t sent_ = 0, dropped_ = 0;
  uint64_t nextAttemptNs_ = 0, backoffNs_ = 1000000000ULL;
  uint64_t nowNs_ = 0;
};

}  // namespace lbg::telemetry
