#include "dataplane/inspect/quic/client_hello.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>

namespace lbg::inspect {
namespace {

constexpr uint32_t kVersion1 = 0x00000001;
constexpr uint32_t kVersion2 = 0x6b3343cf;
constexpr size_t kMaxPlaintext = 2048;  // a client Initial fits in one path MTU
constexpr size_t kMaxCryptoFrames = 64;
constexpr size_t kHandshakeLimit = 4 + kMaxClientHelloLength;

constexpr uint8_t kSaltV1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
constexpr uint8_t kSaltDraft29[20] = {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
                                      0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99};
constexpr uint8_t kSaltV2[20] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};

struct VersionParams {
  const uint8_t* salt;
  const char* key;
  const char* iv;
  const char* hp;
  uint8_t initialType;  // long-header packet type of Initial
};

bool paramsFor(uint32_t v, VersionParams& p) {
  if (v == kVersion1) {
    p = {kSaltV1, "quic key", "quic iv", "quic hp", 0};
  } else if (v >= 0xff00001d && v <= 0xff000020) {  // drafts 29–32
    p = {kSaltDraft29, "quic key", "quic iv", "quic hp", 0};
  } else if (v == kVersion2) {
    p = {kSaltV2, "quicv2 key", "quicv2 iv", "quicv2 hp", 1};
  } else {
    return false;
  }
  return true;
}

// HKDF-Expand-Label (RFC 8446 §7.1) for outputs of at most one SHA-256 block.
bool expandLabel(const uint8_t secret[32], const char* label, uint8_t* out, size_t len) {
  uint8_t info[2 + 1 + 6 + 32 + 1 + 1];
  const size_t labelLen = std::strlen(label);
  size_t n = 0;
  info[n++] = uint8_t(len >> 8);
  info[n++] = uint8_t(len);
  info[n++] = uint8_t(6 + labelLen);
  std::memcpy(info + n, "tls13 ", 6);
  n += 6;
  std::memcpy(info + n, label, labelLen);
  n += labelLen;
  info[n++] = 0;  // empty context
  info[n++] = 1;  // T(1)
  uint8_t block[32];
  unsigned blockLen = 0;
  if (HMAC(EVP_sha256(), secret, 32, info, n, block, &blockLen) == nullptr || blockLen != 32) {
    return false;
  }
  std::memcpy(out, block, len);
  return true;
}

struct CipherContexts {
  EVP_CIPHER_CTX* ecb = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* gcm = EVP_CIPHER_CTX_new();
  ~CipherContexts() {
    EVP_CIPHER_CTX_free(ecb);
    EVP_CIPHER_CTX_free(gcm);
  }
};
CipherContexts& contexts() {
  thread_local CipherContexts c;
  return c;
}

bool readVarint(const uint8_t* b, size_t size, size_t& pos, uint64_t& v) {
  if (pos >= size) return false;
  const size_t len = size_t(1) << (b[pos] >> 6);
  if (size - pos < len) return false;
  v = b[pos] & 0x3f;
  for (size_t i = 1; i < len; ++i) v = v << 8 | b[pos + i];
  pos += len;
  return true;
}

Status fail(QuicClientHello& out, QuicReason r) {
  out.reason = r;
  return Status::Invalid;
}

}  // namespace

std::string_view toString(QuicReason r) {
  switch (r) {
#define LBG_QUIC_REASON_TEXT_(id, text) \
  case QuicReason::id:                  \
    return text;
    LBG_QUIC_REASONS(LBG_QUIC_REASON_TEXT_)
#undef LBG_QUIC_REASON_TEXT_
  }
  return "quic-unknown";
}

bool deriveQuicClientKeys(uint32_t version, std::span<const uint8_t> dcid, QuicInitialKeys& out) {
  VersionParams p;
  if (!paramsFor(version, p)) return false;
  uint8_t initial[32], client[32];
  unsigned len = 0;
  // HKDF-Extract(salt, DCID) is HMAC(salt, DCID).
  if (HMAC(EVP_sha256(), p.salt, 20, dcid.data(), dcid.size(), initial, &len) == nullptr ||
      len != 32) {
    return false;
  }
  return expandLabel(initial, "client in", client, 32) && expandLabel(client, p.key, out.key, 16) &&
         expandLabel(client, p.iv, out.iv, 12) && expandLabel(client, p.hp, out.hp, 16);
}

Status parseQuicClientHello(std::span<const uint8_t> d, QuicClientHello& out) {
  out = QuicClientHello{};
  const uint8_t* b = d.data();
  const size_t size = d.size();
  if (size < 7 || (b[0] & 0x80) == 0) return Status::NotMine;
  const uint32_t version = uint32_t(b[1]) << 24 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 8 | b[4];
  out.version = version;
  VersionParams params;
  if (!paramsFor(version, params)) return fail(out, QuicReason::UnsupportedVersion);
  if ((b[0] & 0x40) == 0 || ((b[0] >> 4) & 0x03) != params.initialType) {
    return fail(out, QuicReason::NotInitial);
  }
  size_t pos = 5;
  const uint8_t dcidLen = b[pos++];
  if (dcidLen > 20 || size - pos < size_t(dcidLen) + 1) return fail(out, QuicReason::BadHeader);
  const std::span<const uint8_t> dcid(b + pos, dcidLen);
  pos += dcidLen;
  const uint8_t scidLen = b[pos++];
  if (scidLen > 20 || size - pos < scidLen) return fail(out, QuicReason::BadHeader);
  pos += scidLen;
  uint64_t tokenLen = 0, length = 0;
  if (!readVarint(b, size, pos, tokenLen) || size - pos < tokenLen) {
    return fail(out, QuicReason::BadHeader);
  }
  pos += size_t(tokenLen);
  if (!readVarint(b, size, pos, length) || length > size - pos) {
    return fail(out, QuicReason::BadHeader);
  }
  const size_t pnOffset = pos;
  // Header protection samples 16 bytes starting 4 bytes after the packet number's start, and the
  // AEAD tag takes 16 more: anything shorter cannot be a real Initial.
  if (length < 4 + 16 || length - 16 > kMaxPlaintext + 4) return fail(out, QuicReason::BadHeader);

  QuicInitialKeys keys;
  if (!deriveQuicClientKeys(version, dcid, keys)) return fail(out, QuicReason::DecryptFailed);
  CipherContexts& c = contexts();
  if (c.ecb == nullptr || c.gcm == nullptr) return fail(out, QuicReason::DecryptFailed);

  uint8_t mask[32];
  int outl = 0;
  if (EVP_EncryptInit_ex(c.ecb, EVP_aes_128_ecb(), nullptr, keys.hp, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(c.ecb, 0) != 1 ||
      EVP_EncryptUpdate(c.ecb, mask, &outl, b + pnOffset + 4, 16) != 1 || outl != 16) {
    return fail(out, QuicReason::DecryptFailed);
  }
  const size_t pnLen = size_t(((b[0] ^ mask[0]) & 0x03) + 1);
  const size_t headerLen = pnOffset + pnLen;
  uint8_t pn[4];
  for (size_t i = 0; i < pnLen; ++i) pn[i] = b[pnOffset + i] ^ mask[1 + i];
  // The packet number of a client's first Initials is small: its truncated form is the full one.
  uint8_t nonce[12];
  std::memcpy(nonce, keys.iv, 12);
  for (size_t i = 0; i < pnLen; ++i) nonce[12 - pnLen + i] ^= pn[i];

  const uint8_t* ct = b + headerLen;
  const size_t ctLen = size_t(length) - pnLen - 16;
  const uint8_t* tag = ct + ctLen;
  uint8_t plain[kMaxPlaintext + 4];
  if (ctLen > sizeof(plain)) return fail(out, QuicReason::BadHeader);
  // The AAD is the unprotected header: first byte and packet number unmasked, the rest (token
  // included) as sent, fed in place.
  const uint8_t first = uint8_t(b[0] ^ (mask[0] & 0x0f));
  // Reset first: after a failed tag check OpenSSL leaves the GCM state unusable for re-keying.
  bool ok = EVP_CIPHER_CTX_reset(c.gcm) == 1 &&
            EVP_DecryptInit_ex(c.gcm, EVP_aes_128_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(c.gcm, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1 &&
            EVP_DecryptInit_ex(c.gcm, nullptr, nullptr, keys.key, nonce) == 1 &&
            EVP_DecryptUpdate(c.gcm, nullptr, &outl, &first, 1) == 1 &&
            EVP_DecryptUpdate(c.gcm, nullptr, &outl, b + 1, int(pnOffset - 1)) == 1 &&
            EVP_DecryptUpdate(c.gcm, nullptr, &outl, pn, int(pnLen)) == 1;
  int plainLen = 0, finalLen = 0;
  ok = ok && EVP_DecryptUpdate(c.gcm, plain, &plainLen, ct, int(ctLen)) == 1 &&
       EVP_CIPHER_CTX_ctrl(c.gcm, EVP_CTRL_GCM_SET_TAG, 16, const_cast<uint8_t*>(tag)) == 1 &&
       EVP_DecryptFinal_ex(c.gcm, plain + plainLen, &finalLen) == 1;
  if (!ok) return fail(out, QuicReason::DecryptFailed);
  const size_t n = size_t(plainLen + finalLen);

  // Frames allowed in a client Initial: PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE.
  struct Range {
    uint32_t offset, len;
    uint16_t at;  // in plain
  };
  Range ranges[kMaxCryptoFrames];
  size_t count = 0;
  size_t p = 0;
  while (p < n) {
    uint64_t type;
    if (!readVarint(plain, n, p, type)) return fail(out, QuicReason::BadFrame);
    if (type == 0x00 || type == 0x01) continue;
    if (type == 0x02 || type == 0x03) {
      uint64_t largest, delay, rangeCount, firstRange, x;
      if (!readVarint(plain, n, p, largest) || !readVarint(plain, n, p, delay) ||
          !readVarint(plain, n, p, rangeCount) || !readVarint(plain, n, p, firstRange) ||
          rangeCount > n) {
        return fail(out, QuicReason::BadFrame);
      }
      for (uint64_t i = 0; i < rangeCount * 2 + (type == 0x03 ? 3 : 0); ++i) {
        if (!readVarint(plain, n, p, x)) return fail(out, QuicReason::BadFrame);
      }
      continue;
    }
    if (type == 0x1c) {
      uint64_t code, frameType, reasonLen;
      if (!readVarint(plain, n, p, code) || !readVarint(plain, n, p, frameType) ||
          !readVarint(plain, n, p, reasonLen) || reasonLen > n - p) {
        return fail(out, QuicReason::BadFrame);
      }
      p += size_t(reasonLen);
      continue;
    }
    if (type != 0x06) return fail(out, QuicReason::BadFrame);
    uint64_t offset, len;
    if (!readVarint(plain, n, p, offset) || !readVarint(plain, n, p, len) || len > n - p) {
      return fail(out, QuicReason::BadFrame);
    }
    if (offset + len > kHandshakeLimit) return fail(out, QuicReason::CryptoTooLarge);
    if (count == kMaxCryptoFrames) return fail(out, QuicReason::BadFrame);
    ranges[count++] = {uint32_t(offset), uint32_t(len), uint16_t(p)};
    p += size_t(len);
  }

  // Reassemble the CRYPTO stream from offset 0 as far as it is contiguous.
  uint8_t stream[kHandshakeLimit];
  size_t have = 0;
  bool grew = true;
  while (grew) {
    grew = false;
    for (size_t i = 0; i < count; ++i) {
      const Range& r = ranges[i];
      if (r.offset > have || r.offset + r.len <= have) continue;
      std::memcpy(stream + have, plain + r.at + (have - r.offset), r.offset + r.len - have);
      have = r.offset + r.len;
      grew = true;
    }
  }
  // Overlapping CRYPTO data must say the same thing: a receiver may keep either copy.
  for (size_t i = 0; i < count; ++i) {
    const Range& r = ranges[i];
    const size_t end = r.offset + r.len < have ? r.offset + r.len : have;
    if (r.offset < end && std::memcmp(stream + r.offset, plain + r.at, end - r.offset) != 0) {
      return fail(out, QuicReason::CryptoConflict);
    }
  }
  const Status st = parseClientHelloMessage({stream, have}, out.tls);
  if (st == Status::Invalid) {
    out.reason = QuicReason::Tls;
    return Status::Invalid;
  }
  return st;
}

}  // namespace lbg::inspect
