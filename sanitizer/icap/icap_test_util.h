#pragma once

// Test-only helpers: a strict parser of ICAP responses, a blocking loopback client and a small
// ContentFilter with predictable answers, so the protocol tests need no file formats.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "policy/base/result.h"
#include "sanitizer/icap/chunked.h"
#include "sanitizer/icap/content_filter.h"
#include "sanitizer/icap/header_list.h"
#include "sanitizer/icap/http_head.h"

namespace lbg::icap::testing {

struct ParsedResponse {
  int status = 0;
  HeaderList headers;
  std::optional<HttpRequestHead> request;
  std::optional<HttpResponseHead> response;
  std::optional<std::string> body;  // absent for null-body
};

// Parses one response from the front of `buf`. Returns the bytes it used, 0 when incomplete, and
// an error when the response is malformed.
inline Result<size_t> parseResponse(std::string_view buf, ParsedResponse& out) {
  const auto end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) return 0;
  const auto line = buf.substr(0, buf.find("\r\n"));
  if (line.substr(0, 9) != "ICAP/1.0 " || line.size() < 12) {
    return Error{"bad status line"};
  }
  out = ParsedResponse{};
  std::from_chars(line.data() + 9, line.data() + 12, out.status);
  if (auto e = parseHeaderLines(buf.substr(line.size() + 2, end + 4 - line.size() - 2), 100,
                                out.headers);
      !e.empty()) {
    return Error{e};
  }
  size_t pos = end + 4;
  if (out.status == 100) return pos;
  const auto* enc = out.headers.get("Encapsulated");
  if (enc == nullptr) {
    return Error{"no Encapsulated"};
  }
  // name=offset entries; the last one is the body entry.
  std::vector<std::pair<std::string, size_t>> entries;
  std::string_view rest = *enc;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto item = trimWhitespace(rest.substr(0, comma));
    const auto eq = item.find('=');
    size_t off = 0;
    std::from_chars(item.data() + eq + 1, item.data() + item.size(), off);
    entries.emplace_back(std::string(item.substr(0, eq)), off);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  const size_t headBytes = entries.back().second;
  if (buf.size() < pos + headBytes) return 0;
  for (size_t i = 0; i + 1 < entries.size(); ++i) {
    const auto sec = buf.substr(pos + entries[i].second, entries[i + 1].second - entries[i].second);
    if (entries[i].first == "req-hdr") {
      out.request.emplace();
      if (auto e = parseHttpRequestHead(sec, 100, *out.request); !e.empty()) return Error{e};
    } else {
      out.response.emplace();
      if (auto e = parseHttpResponseHead(sec, 100, *out.response); !e.empty()) return Error{e};
    }
  }
  pos += headBytes;
  if (entries.back().first == "null-body") return pos;
  ChunkedDecoder decoder{Limits{}};
  std::string body;
  const auto step = decoder.feed(buf.substr(pos), body);
  if (step.status == ChunkedDecoder::Status::Error) {
    return Error{decoder.error()};
  }
  if (step.status != ChunkedDecoder::Status::Done) return 0;
  out.body = std::move(body);
  return pos + step.consumed;
}

// A blocking loopback client with a receive timeout so a broken server fails the test instead of
// hanging it.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{20, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      const auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Next response; nullopt on close, timeout or a malformed response (then lastError()).
  std::optional<ParsedResponse> read() {
    while (true) {
      ParsedResponse r;
      error_.clear();
      const auto used = parseResponse(buffer_, r);
      if (!used) {
        error_ = used.error().message;
        return std::nullopt;
      }
      if (used.value() > 0) {
        buffer_.erase(0, used.value());
        return r;
      }
      char tmp[65536];
      const auto n = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (n <= 0) {
        error_ = n == 0 ? "closed" : "recv error/timeout";
        return std::nullopt;
      }
      buffer_.append(tmp, static_cast<size_t>(n));
    }
  }

  // True when the server closed the connection (EOF) with nothing more to read.
  bool closedByPeer() {
    if (!buffer_.empty()) return false;
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }

  const std::string& lastError() const { return error_; }
  const std::string& pending() const { return buffer_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
  std::string error_;
};

// Predictable filter: "EVIL" anywhere blocks; "MACRO" is removed (a docm becomes a docx);
// anything else comes back unchanged.
class TestFilter final : public ContentFilter {
 public:
  FilterResult filter(std::string_view input, std::string_view fileNameHint) const override {
    calls.fetch_add(1);
    FilterResult r;
    r.inputSha256 = std::string(64, 'f');
    r.reportJson = "{\"file_name\":\"" + std::string(fileNameHint) +
                   "\",\"input_bytes\":" + std::to_string(input.size()) + "}";
    if (input.find("EVIL") != std::string_view::npos) {
      r.blocked = true;
      r.detectedType = "exe";
      r.reason = "type-blocked:exe";
      return r;
    }
    std::string out(input);
    bool changed = false;
    for (auto p = out.find("MACRO"); p != std::string::npos; p = out.find("MACRO")) {
      out.erase(p, 5);
      changed = true;
    }
    r.detectedType = changed ? "docm" : "txt";
    r.outputType = changed ? "docx" : "txt";
    if (changed) r.removedKinds = {"vbaProject"};
    r.output = std::move(out);
    return r;
  }
  std::string versionTag() const override { return "test-filter-1"; }
  mutable std::atomic<int> calls{0};
};

}  // namespace lbg::icap::testing
