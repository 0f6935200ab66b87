#pragma once

// Test-only: assembles ClientHellos field by field, so that tests can lie at any one level.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lbg::inspect::testing {

using Bytes = std::vector<uint8_t>;

inline void put16(Bytes& b, size_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
inline void put24(Bytes& b, size_t v) {
  b.push_back(uint8_t(v >> 16));
  put16(b, v & 0xffff);
}
inline void append(Bytes& b, const Bytes& more) {
  b.insert(b.end(), more.begin(), more.end());
}
inline void append(Bytes& b, std::string_view s) {
  b.insert(b.end(), s.begin(), s.end());
}

// server_name extension body holding the given (type, name) entries.
inline Bytes serverNameBody(const std::vector<std::pair<uint8_t, std::string>>& names) {
  Bytes list;
  for (const auto& [type, name] : names) {
    list.push_back(type);
    put16(list, name.size());
    append(list, name);
  }
  Bytes body;
  put16(body, list.size());
  append(body, list);
  return body;
}

inline Bytes alpnBody(const std::vector<std::string>& protos) {
  Bytes list;
  for (const auto& p : protos) {
    list.push_back(uint8_t(p.size()));
    append(list, p);
  }
  Bytes body;
  put16(body, list.size());
  append(body, list);
  return body;
}

inline Bytes versionsBody(const std::vector<uint16_t>& versions) {
  Bytes body;
  body.push_back(uint8_t(versions.size() * 2));
  for (uint16_t v : versions) put16(body, v);
  return body;
}

struct HelloBuilder {
  uint16_t version = 0x0303;
  Bytes sessionId = Bytes(32, 0x5a);
  Bytes ciphers = {0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f};
  Bytes compression = {0x00};
  bool withExtensions = true;
  std::vector<std::pair<uint16_t, Bytes>> extensions;

  HelloBuilder& ext(uint16_t type, Bytes body) {
    extensions.emplace_back(type, std::move(body));
    return *this;
  }
  HelloBuilder& sni(const std::string& name) { return ext(0, serverNameBody({{0, name}})); }
  HelloBuilder& alpn(const std::vector<std::string>& p) { return ext(16, alpnBody(p)); }
  HelloBuilder& versions(const std::vector<uint16_t>& v) { return ext(43, versionsBody(v)); }

  Bytes body() const {
    Bytes b;
    put16(b, version);
    append(b, Bytes(32, 0xab));  // random
    b.push_back(uint8_t(sessionId.size()));
    append(b, sessionId);
    put16(b, ciphers.size());
    append(b, ciphers);
    b.push_back(uint8_t(compression.size()));
    append(b, compression);
    if (withExtensions) {
      Bytes exts;
      for (const auto& [type, data] : extensions) {
        put16(exts, type);
        put16(exts, data.size());
        append(exts, data);
      }
      put16(b, exts.size());
      append(b, exts);
    }
    return b;
  }
};

inline Bytes handshake(const Bytes& body, uint8_t type = 1) {
  Bytes h{type};
  put24(h, body.size());
  append(h, body);
  return h;
}

// Cuts `payload` into handshake records of at most `recordSize` bytes each.
inline Bytes records(const Bytes& payload, size_t recordSize = 16384, uint16_t version = 0x0301,
                     uint8_t type = 22) {
  Bytes out;
  for (size_t off = 0; off < payload.size(); off += recordSize) {
    const size_t n = std::min(recordSize, payload.size() - off);
    out.push_back(type);
    put16(out, version);
    put16(out, n);
    out.insert(out.end(), payload.begin() + long(off), payload.begin() + long(off + n));
  }
  return out;
}

inline Bytes stream(const HelloBuilder& b, size_t recordSize = 16384) {
  return records(handshake(b.body()), recordSize);
}

}  // namespace lbg::inspect::testing
