#include "dataplane/inspect/tls/server_flight.h"

#include <cstring>

#include "dataplane/inspect/byte_reader.h"

namespace lbg::inspect {
namespace {

constexpr uint8_t kContentChangeCipherSpec = 20;
constexpr uint8_t kContentAlert = 21;
constexpr uint8_t kContentHandshake = 22;
constexpr uint8_t kServerHello = 2;
constexpr uint8_t kCertificate = 11;
constexpr uint8_t kCertificateStatus = 22;
constexpr uint8_t kStatusTypeOcsp = 1;
constexpr size_t kMaxServerHello = 4096;
constexpr uint32_t kMaxRecordLength = 1u << 14;

// RFC 8446 §4.1.3: a HelloRetryRequest is a ServerHello with this random.
constexpr uint8_t kHelloRetryRandom[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

Status fail(TlsServerHello& out, TlsReason r) {
  const TlsServerHello clean{};
  out = clean;
  out.reason = r;
  return Status::Invalid;
}

// The handshake bytes of the flight, as an index over the records that carry them.
class HandshakeBytes {
 public:
  struct Piece {
    uint32_t streamOffset;
    uint32_t hsStart;
    uint32_t len;  // available (may be less than the record's declared length at the end)
  };
  Piece pieces[kMaxFlightRecords];
  uint32_t count = 0;
  uint32_t total = 0;  // handshake bytes available

  bool has(uint32_t from, uint32_t n) const { return uint64_t(from) + n <= total; }
  // Copies handshake bytes [from, from + n) to dst; has() must hold.
  void copy(uint32_t from, uint32_t n, uint8_t* dst) const {
    for (uint32_t i = 0; i < count && n > 0; ++i) {
      const Piece& p = pieces[i];
      if (from >= p.hsStart + p.len) continue;
      const uint32_t off = from - p.hsStart;
      const uint32_t k = p.len - off < n ? p.len - off : n;
      std::memcpy(dst, base + p.streamOffset + off, k);
      dst += k;
      from += k;
      n -= k;
    }
  }
  // Stream offset of [from, from + n) if it lies in one record, else -1.
  int64_t contiguous(uint32_t from, uint32_t n) const {
    for (uint32_t i = 0; i < count; ++i) {
      const Piece& p = pieces[i];
      if (from >= p.hsStart && uint64_t(from) + n <= uint64_t(p.hsStart) + p.len) {
        return int64_t(p.streamOffset) + (from - p.hsStart);
      }
    }
    return -1;
  }
  const uint8_t* base = nullptr;
};

// The message after the Certificate (at handshake offset `at`): a CertificateStatus carries the
// stapled OCSP response (RFC 6066 §8: status_type ocsp, then a 24-bit length and the DER
// OCSPResponse); any other message means no staple. False when a CertificateStatus is malformed.
bool readStatus(const HandshakeBytes& hs, uint32_t at, bool nonHandshakeAfter, TlsServerHello& out,
                std::span<uint8_t> chain) {
  uint8_t head[8];
  if (!hs.has(at, 4)) {
    out.statusKnown = nonHandshakeAfter;  // the plaintext handshake ended: nothing was stapled
    return true;
  }
  hs.copy(at, 4, head);
  if (head[0] != kCertificateStatus) {
    out.statusKnown = true;
    return true;
  }
  const uint32_t len = uint32_t(head[1]) << 16 | uint32_t(head[2]) << 8 | head[3];
  if (!hs.has(at + 4, 4)) {
    out.statusKnown = nonHandshakeAfter;
    return !nonHandshakeAfter;
  }
  hs.copy(at + 4, 4, head + 4);
  const uint32_t responseLen = uint32_t(head[5]) << 16 | uint32_t(head[6]) << 8 | head[7];
  if (head[4] != kStatusTypeOcsp || responseLen == 0 || responseLen + 4 != len) return false;
  if (!hs.has(at + 8, responseLen)) {
    out.statusKnown = nonHandshakeAfter;
    return !nonHandshakeAfter;
  }
  out.statusKnown = out.hasStaple = true;
  out.stapleLength = responseLen;
  if (out.chainCopied && chain.size() - out.chainLength >= responseLen) {
    hs.copy(at + 8, responseLen, chain.data() + out.chainLength);
    out.stapleCopied = true;
  }
  return true;
}

}  // namespace

Status parseServerFlight(std::span<const uint8_t> stream, TlsServerHello& out,
                         std::span<uint8_t> scratch, std::span<uint8_t> chain) {
  const TlsServerHello clean{};
  out = clean;
  const uint8_t* s = stream.data();
  const size_t n = stream.size();
  HandshakeBytes hs;
  hs.base = s;
  bool nonHandshakeAfter = false;  // a CCS or other record ends the plaintext handshake
  size_t pos = 0;
  while (pos < n) {
    if (n - pos < 5) break;
    const uint8_t type = s[pos];
    if (s[pos + 1] != 3 || s[pos + 2] > 4) return fail(out, TlsReason::BadRecordVersion);
    const size_t len = size_t(s[pos + 3]) << 8 | s[pos + 4];
    if (len > kMaxRecordLength) return fail(out, TlsReason::RecordTooLong);
    if (type == kContentAlert) return fail(out, TlsReason::Alert);
    if (type != kContentHandshake) {
      if (pos == 0) return fail(out, TlsReason::NotHandshake);
      nonHandshakeAfter = true;
      break;
    }
    if (len == 0) return fail(out, TlsReason::EmptyRecord);
    if (hs.count == kMaxFlightRecords) return fail(out, TlsReason::TooManyRecords);
    const size_t avail = n - pos - 5 < len ? n - pos - 5 : len;
    hs.pieces[hs.count++] = {uint32_t(pos + 5), hs.total, uint32_t(avail)};
    hs.total += uint32_t(avail);
    if (avail < len) break;
    pos += 5 + len;
  }
  if (n > 0 && s[0] != kContentHandshake) return fail(out, TlsReason::NotHandshake);

  // ServerHello.
  uint8_t head[4];
  if (!hs.has(0, 4)) return Status::NeedMore;
  hs.copy(0, 4, head);
  if (head[0] != kServerHello) return fail(out, TlsReason::NotServerHello);
  const uint32_t shLen = uint32_t(head[1]) << 16 | uint32_t(head[2]) << 8 | head[3];
  if (shLen > kMaxServerHello) return fail(out, TlsReason::HandshakeTooLong);
  if (!hs.has(4, shLen))
    return nonHandshakeAfter ? fail(out, TlsReason::InterleavedRecord) : Status::NeedMore;
  uint8_t sh[kMaxServerHello];
  hs.copy(4, shLen, sh);
  ByteReader r(sh, shLen);
  uint16_t legacy, cipher;
  uint8_t sidLen, compression;
  if (!r.u16(legacy) || r.left() < 32) return fail(out, TlsReason::LengthMismatch);
  if (legacy >> 8 != 3) return fail(out, TlsReason::BadHelloVersion);
  const bool retry = std::memcmp(r.cur(), kHelloRetryRandom, 32) == 0;
  r.skip(32);
  if (!r.u8(sidLen) || sidLen > 32 || !r.skip(sidLen) || !r.u16(cipher) || !r.u8(compression)) {
    return fail(out, TlsReason::LengthMismatch);
  }
  uint16_t version = legacy;
  if (!r.empty()) {
    uint16_t extTotal;
    if (!r.u16(extTotal) || extTotal != r.left()) return fail(out, TlsReason::LengthMismatch);
    bool sawVersions = false;
    while (!r.empty()) {
      uint16_t type, len;
      ByteReader ext(nullptr, 0);
      if (!r.u16(type) || !r.u16(len) || !r.sub(len, ext)) {
        return fail(out, TlsReason::ExtensionOverrun);
      }
      if (type == 43) {
        if (sawVersions) return fail(out, TlsReason::DuplicateExtension);
        sawVersions = true;
        if (len != 2) return fail(out, TlsReason::BadSupportedVersions);
        ext.u16(version);
      }
    }
  }
  out.version = version;
  out.cipher = cipher;
  out.tls13 = version == 0x0304;
  out.helloRetry = retry;
  if (out.tls13 || retry) return Status::Done;

  // TLS ≤ 1.2: the message after the ServerHello is the Certificate, if there is one.
  const uint32_t next = 4 + shLen;
  if (!hs.has(next, 4)) {
    // A CCS right after the ServerHello: an abbreviated (resumed) handshake, no certificate.
    return nonHandshakeAfter && hs.total == next ? Status::Done : Status::NeedMore;
  }
  hs.copy(next, 4, head);
  if (head[0] != kCertificate) return Status::Done;  // anonymous / PSK suites
  const uint32_t certMsgLen = uint32_t(head[1]) << 16 | uint32_t(head[2]) << 8 | head[3];
  uint8_t lens[6];
  if (!hs.has(next + 4, 6)) {
    return nonHandshakeAfter ? fail(out, TlsReason::InterleavedRecord) : Status::NeedMore;
  }
  hs.copy(next + 4, 6, lens);
  const uint32_t listLen = uint32_t(lens[0]) << 16 | uint32_t(lens[1]) << 8 | lens[2];
  const uint32_t certLen = uint32_t(lens[3]) << 16 | uint32_t(lens[4]) << 8 | lens[5];
  if (listLen + 3 != certMsgLen || certLen == 0 || certLen + 3 > listLen) {
    return fail(out, TlsReason::BadCertificate);
  }
  const uint32_t certAt = next + 4 + 6;
  if (!hs.has(certAt, certLen)) {
    return nonHandshakeAfter ? fail(out, TlsReason::InterleavedRecord) : Status::NeedMore;
  }
  out.hasCertificate = true;
  out.certLength = certLen;
  if (hs.has(next + 4 + 3, listLen)) {
    out.chainComplete = true;
    out.chainLength = listLen;
    if (chain.size() >= listLen) {
      hs.copy(next + 4 + 3, listLen, chain.data());
      out.chainCopied = true;
    }
    if (!readStatus(hs, next + 4 + certMsgLen, nonHandshakeAfter, out, chain)) {
      return fail(out, TlsReason::BadCertificate);
    }
  }
  const int64_t at = hs.contiguous(certAt, certLen);
  if (at >= 0) {
    out.certContiguous = true;
    out.certOffset = uint32_t(at);
  } else if (scratch.size() >= certLen) {
    hs.copy(certAt, certLen, scratch.data());
    out.certInScratch = true;
  }
  return Status::Done;
}

}  // namespace lbg::inspect
