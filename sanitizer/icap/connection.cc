#include "sanitizer/icap/connection.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <exception>

#include "sanitizer/icap/chunked.h"

namespace lbg::icap {
namespace {

constexpr std::string_view kContinue = "ICAP/1.0 100 Continue\r\n\r\n";
// Poll in slices so that a stop request is noticed within this time even on an idle connection.
constexpr int kSliceMs = 200;

class Connection {
 public:
  Connection(int fd, const SanitizeService& service, const ConnectionConfig& config,
             const std::atomic<bool>& stopping)
      : fd_(fd),
        service_(service),
        config_(config),
        limits_(service.limits()),
        stopping_(stopping) {}

  ConnectionEnd run() {
    bool served = false;
    while (!stopping_.load(std::memory_order_relaxed)) {
      if (served && buffer_.empty()) {
        // Between requests: go back to the idle pool unless the next one is already here.
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 0) == 0) return ConnectionEnd::Idle;
      }
      if (!serveOne()) return ConnectionEnd::Closed;
      served = true;
    }
    return ConnectionEnd::Closed;
  }

 private:
  enum class Read : uint8_t { Data, Eof, Timeout, Error };

  Read readMore(int timeoutMs) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (true) {
      if (stopping_.load(std::memory_order_relaxed)) return Read::Error;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) return Read::Timeout;
      pollfd p{fd_, POLLIN, 0};
      const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, kSliceMs)));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Read::Error;
      }
      if (n == 0) continue;
      char tmp[65536];
      const ssize_t got = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (got > 0) {
        buffer_.append(tmp, static_cast<size_t>(got));
        return Read::Data;
      }
      if (got == 0) return Read::Eof;
      if (errno == EINTR || errno == EAGAIN) continue;
      return Read::Error;
    }
  }

  bool writeAll(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{fd_, POLLOUT, 0};
        const int r = ::poll(&p, 1, config_.ioTimeoutMs);
        if (r <= 0 && !(r < 0 && errno == EINTR)) return false;  // timeout or error
        continue;
      }
      return false;
    }
    return true;
  }

  void consume(size_t n) { buffer_.erase(0, n); }

  // Reads until `buffer_` holds at least `n` bytes. On failure answers 408 where it helps.
  bool fill(size_t n) {
    while (buffer_.size() < n) {
      const auto r = readMore(config_.ioTimeoutMs);
      if (r == Read::Timeout) {
        answerAndClose(service_.error(Status::RequestTimeout, "request incomplete", true));
        return false;
      }
      if (r != Read::Data) return false;
    }
    return true;
  }

  // Decodes one chunked stream into request.body. Returns false after answering an error.
  enum class Body : uint8_t { Done, TooLarge, Failed };
  Body readChunked(ChunkedDecoder& decoder, IcapRequest& request,
                   std::optional<uint64_t> previewLimit) {
    while (true) {
      const auto step = decoder.feed(buffer_, request.body);
      consume(step.consumed);
      if (step.status == ChunkedDecoder::Status::Error) {
        answerAndClose(service_.error(Status::BadRequest, decoder.error(), true));
        return Body::Failed;
      }
      if (previewLimit && request.body.size() > *previewLimit) {
        answerAndClose(service_.error(Status::BadRequest, "preview longer than announced", true));
        return Body::Failed;
      }
      if (request.body.size() > limits_.maxBodyBytes) return Body::TooLarge;
      if (step.status == ChunkedDecoder::Status::Done) return Body::Done;
      const auto r = readMore(config_.ioTimeoutMs);
      if (r == Read::Timeout) {
        answerAndClose(service_.error(Status::RequestTimeout, "body incomplete", true));
        return Body::Failed;
      }
      if (r != Read::Data) return Body::Failed;
    }
  }

  // One request/response exchange; false when the connection must close.
  bool serveOne() {
    IcapRequest request;
    HeadResult head;
    while (true) {
      head = parseIcapHead(buffer_, limits_, request.head);
      if (head.status == ParseStatus::Done) break;
      if (head.status == ParseStatus::Error) {
        answerAndClose(service_.error(head.error.status, head.error.message, true));
        return false;
      }
      const auto r = readMore(buffer_.empty() ? config_.idleTimeoutMs : config_.ioTimeoutMs);
      if (r == Read::Timeout && !buffer_.empty()) {
        answerAndClose(service_.error(Status::RequestTimeout, "request head incomplete", true));
      }
      if (r != Read::Data) return false;
    }
    consume(head.consumed);

    if (const auto err = service_.route(request.head)) {
      // The body framing of a refused request is not worth trusting: answer and close.
      answerAndClose(service_.error(err->status, err->message, true));
      return false;
    }

    const auto headerBytes = static_cast<size_t>(request.head.encapsulated.headerBytes());
    if (!fill(headerBytes)) return false;
    if (auto err = parseEncapsulatedHeads(std::string_view(buffer_).substr(0, headerBytes),
                                          request.head.encapsulated, limits_, request.http);
        !err.empty()) {
      answerAndClose(service_.error(Status::BadRequest, err, true));
      return false;
    }
    consume(headerBytes);

    const bool close = request.head.connectionClose;
    if (request.head.method == Method::Options) {
      if (request.head.encapsulated.hasBody()) {
        // opt-body carries nothing this service uses; read it to keep the framing.
        ChunkedDecoder decoder(limits_);
        if (readChunked(decoder, request, std::nullopt) != Body::Done) return false;
      }
      return writeAll(service_.options()) && !close;
    }

    if (!request.head.encapsulated.hasBody()) {
      request.bodyComplete = true;
      return writeAll(service_.complete(request)) && !close;
    }

    ChunkedDecoder decoder(limits_);
    if (request.head.preview) {
      const auto r = readChunked(decoder, request, request.head.preview);
      if (r == Body::Failed) return false;
      if (r == Body::TooLarge) return tooLarge(request);
      if (decoder.ieof()) {
        request.bodyComplete = true;
        return writeAll(service_.complete(request)) && !close;
      }
      if (auto answer = service_.afterPreview(request)) {
        // The client sends nothing more for this request after a final answer to the preview.
        return writeAll(*answer) && !close;
      }
      if (!writeAll(kContinue)) return false;
      request.continued = true;
      decoder.restart();
    }
    const auto r = readChunked(decoder, request, std::nullopt);
    if (r == Body::Failed) return false;
    if (r == Body::TooLarge) return tooLarge(request);
    request.bodyComplete = true;
    return writeAll(service_.complete(request)) && !close;
  }

  bool tooLarge(const IcapRequest& request) {
    answerAndClose(service_.bodyTooLarge(request));
    return false;
  }

  // An answer after which the connection closes, possibly before the client has finished
  // sending: the close must then linger (see serveConnection).
  void answerAndClose(const std::string& answer) {
    linger_ = true;
    writeAll(answer);
  }

 public:
  bool lingerOnClose() const { return linger_; }

 private:
  int fd_;
  const SanitizeService& service_;
  const ConnectionConfig& config_;
  const Limits& limits_;
  const std::atomic<bool>& stopping_;
  std::string buffer_;
  bool linger_ = false;
};

}  // namespace

ConnectionEnd serveConnection(int fd, const SanitizeService& service,
                              const ConnectionConfig& config, const std::atomic<bool>& stopping) {
  bool linger = true;
  try {
    Connection connection(fd, service, config, stopping);
    if (connection.run() == ConnectionEnd::Idle) return ConnectionEnd::Idle;
    linger = connection.lingerOnClose();
  } catch (const std::exception&) {
    // bad_alloc or the like: drop this client, keep serving the others.
  }
  if (!linger) {
    ::close(fd);
    return ConnectionEnd::Closed;
  }
  // Lingering close: when we answer before the client has finished sending (a body over the
  // limit, an error), closing with unread bytes would make the kernel send a reset that can
  // destroy our answer in flight. Half-close, then drain for a short while.
  ::shutdown(fd, SHUT_WR);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(2000);
  char sink[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, kSliceMs) <= 0) {
      if (stopping.load(std::memory_order_relaxed)) break;
      continue;
    }
    if (::recv(fd, sink, sizeof(sink), 0) <= 0) break;
  }
  ::close(fd);
  return ConnectionEnd::Closed;
}

}  // namespace lbg::icap
