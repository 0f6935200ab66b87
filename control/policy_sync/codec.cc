#include "control/policy_sync/codec.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>

namespace lbg::control::psync {

namespace {

constexpr char kMagic[4] = {'L', 'B', 'G', 'P'};

std::array<uint8_t, kMacBytes> mac(std::string_view key, const Nonce& peerNonce,
                                   std::string_view headerAndBody) {
  // One-shot HMAC over the peer's nonce and the frame (the streaming HMAC_CTX API is deprecated
  // in OpenSSL 3; a copy of the frame costs less than the HMAC itself).
  std::string input;
  input.reserve(peerNonce.size() + headerAndBody.size());
  input.append(reinterpret_cast<const char*>(peerNonce.data()), peerNonce.size());
  input.append(headerAndBody);
  std::array<uint8_t, kMacBytes> out{};
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(input.data()), input.size(), out.data(), &len) ||
      len != kMacBytes) {
    std::abort();  // only on allocation failure inside OpenSSL
  }
  return out;
}

}  // namespace

Nonce randomNonce() {
  Nonce n{};
  if (RAND_bytes(n.data(), static_cast<int>(n.size())) != 1) std::abort();
  return n;
}

std::string encodeFrame(std::string_view key, MsgType type, const Nonce& nonce,
                        std::string_view body, const Nonce& peerNonce) {
  std::string f;
  f.reserve(kHeaderBytes + body.size() + kMacBytes);
  f.append(kMagic, 4);
  f.push_back(static_cast<char>(kFormat));
  f.push_back(static_cast<char>(type));
  f.append(2, '\0');
  const auto n = static_cast<uint32_t>(body.size());
  for (int shift = 24; shift >= 0; shift -= 8) f.push_back(static_cast<char>((n >> shift) & 0xff));
  f.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
  f.append(body);
  const auto m = mac(key, peerNonce, f);
  f.append(reinterpret_cast<const char*>(m.data()), m.size());
  return f;
}

FrameStatus frameLength(std::string_view buf, size_t& total) {
  // Each byte is judged as soon as it is there: a peer that is not ours is dropped at its first
  // wrong byte rather than after a length it chose.
  for (size_t i = 0; i < 4 && i < buf.size(); ++i) {
    if (buf[i] != kMagic[i]) return FrameStatus::Malformed;
  }
  if (buf.size() > 4 && static_cast<uint8_t>(buf[4]) != kFormat) return FrameStatus::Malformed;
  if (buf.size() < kHeaderBytes) return FrameStatus::NeedMore;
  uint32_t n = 0;
  for (size_t i = 8; i < 12; ++i) n = (n << 8) | static_cast<uint8_t>(buf[i]);
  if (n > kMaxBody) return FrameStatus::Malformed;
  total = kHeaderBytes + n + kMacBytes;
  return FrameStatus::Ok;
}

FrameStatus decodeFrame(std::string_view key, std::string_view frame, const Nonce& peerNonce,
                        Frame& out) {
  size_t total = 0;
  if (frameLength(frame, total) != FrameStatus::Ok || total != frame.size()) {
    return FrameStatus::Malformed;
  }
  const std::string_view signed_ = frame.substr(0, frame.size() - kMacBytes);
  const auto want = mac(key, peerNonce, signed_);
  if (CRYPTO_memcmp(want.data(), frame.data() + signed_.size(), kMacBytes) != 0) {
    return FrameStatus::AuthFailed;
  }
  const auto type = static_cast<uint8_t>(frame[5]);
  if (type < static_cast<uint8_t>(MsgType::Challenge) || type > static_cast<uint8_t>(MsgType::Flush) ||
      frame[6] != 0 || frame[7] != 0) {
    return FrameStatus::Malformed;
  }
  out.type = static_cast<MsgType>(type);
  std::memcpy(out.nonce.data(), frame.data() + 12, kNonceBytes);
  out.body = frame.substr(kHeaderBytes, frame.size() - kHeaderBytes - kMacBytes);
  return FrameStatus::Ok;
}

}  // namespace lbg::control::psync
