#include "dataplane/inspect/tls/record_follow.h"

#include <algorithm>
#include <cstring>

namespace lbg::inspect {
namespace {

constexpr uint8_t kCcs = 20, kAlert = 21, kHandshake = 22, kAppData = 23;
constexpr uint8_t kClientHello = 1, kCertificate = 11, kCertificateVerify = 15,
                  kClientKeyExchange = 16;
constexpr uint32_t kMaxPlain = 1u << 14;
constexpr uint32_t kMaxCipher = (1u << 14) + 2048;
// A handshake message after the CCS whose header says ClientHello but whose length is this or
// more is taken for ciphertext: no server accepts a hello that long (OpenSSL's limit is 131396).
constexpr uint32_t kHelloAfterCcsLimit = 1u << 18;

FollowResult invalid(size_t at, TlsFollowReason r) {
  return {FollowStep::Invalid, at, r};
}

uint32_t recordLimit(const TlsFollow& s, uint8_t type) {
  return type == kAppData || s.ccsSeen ? kMaxCipher : kMaxPlain;
}

}  // namespace

std::string_view toString(TlsFollowReason r) {
  switch (r) {
#define LBG_TLS_FOLLOW_TEXT_(id, text) \
  case TlsFollowReason::id:            \
    return text;
    LBG_TLS_FOLLOW_REASONS(LBG_TLS_FOLLOW_TEXT_)
#undef LBG_TLS_FOLLOW_TEXT_
  }
  return "tls-follow-unknown";
}

TlsFollow tlsFollowStart(bool offersTls13, bool earlyData, bool hasSni) {
  TlsFollow s{};
  s.offers13 = offersTls13;
  s.earlyData = earlyData;
  s.hasSni = hasSni;
  return s;
}

FollowResult tlsFollowWalk(TlsFollow& s, std::span<const uint8_t> bytes) {
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t b = bytes[i];
    if (s.hdrHave != 0 || s.recLeft == 0) {
      // A record header, one byte at a time: it may be cut anywhere by a segment boundary.
      switch (s.hdrHave) {
        case 0:
          if (b < kCcs || b > kAppData) return invalid(i, TlsFollowReason::RecordType);
          // RFC 8446 §5.1: handshake messages are not interleaved with other record types.
          if (b != kHandshake && (s.hsHave != 0 || s.hsLeft != 0)) {
            return invalid(i, TlsFollowReason::Interleaved);
          }
          s.recType = b - kCcs;
          break;
        case 1:
          if (b != 3) return invalid(i, TlsFollowReason::RecordVersion);
          break;
        case 2:
          break;
        case 3:
          s.recLeft = uint16_t(b) << 8;
          break;
        default: {
          const uint8_t type = uint8_t(s.recType + kCcs);
          const uint32_t len = uint32_t(s.recLeft) | b;
          s.hdrHave = 0;
          if (len > recordLimit(s, type)) return invalid(i, TlsFollowReason::RecordTooLong);
          s.recLeft = uint16_t(len);
          ++i;
          switch (type) {
            case kAppData:
              // Encrypted from here, unless it is early data a HelloRetryRequest would skip.
              if (!s.earlyData) return {FollowStep::End, i, TlsFollowReason::None};
              break;
            case kCcs:
              if (len != 1) return invalid(i - 1, TlsFollowReason::BadCcs);
              break;
            case kAlert:
              if (s.ccsSeen) return {FollowStep::End, i, TlsFollowReason::None};  // TLS 1.2
              if (len != 2) return invalid(i - 1, TlsFollowReason::BadAlert);
              break;
            default:
              if (len == 0) return invalid(i - 1, TlsFollowReason::EmptyRecord);
              break;
          }
          continue;
        }
      }
      ++s.hdrHave;
      ++i;
      continue;
    }
    // In a record body.
    switch (s.recType + kCcs) {
      case kCcs:
        if (b != 1) return invalid(i, TlsFollowReason::BadCcs);
        s.recLeft = 0;
        ++i;
        // A client that cannot be speaking TLS 1.3 encrypts everything after it.
        if (!s.offers13 || s.ckeSeen) return {FollowStep::End, i, TlsFollowReason::None};
        s.ccsSeen = 1;
        continue;
      case kHandshake:
        break;
      default: {  // alert, early data: skipped
        const size_t k = std::min<size_t>(s.recLeft, n - i);
        s.recLeft = uint16_t(s.recLeft - k);
        i += k;
        continue;
      }
    }
    if (s.hsHave != 0) {
      s.hsLeft = (uint32_t(s.hsLeft) << 8 | b) & 0xffffff;
      s.hsHave = s.hsHave == 3 ? 0 : s.hsHave + 1;
      --s.recLeft;
      ++i;
      continue;
    }
    if (s.hsLeft != 0) {
      const size_t k = std::min<size_t>({size_t(s.recLeft), size_t(s.hsLeft), n - i});
      s.recLeft = uint16_t(s.recLeft - k);
      s.hsLeft = uint32_t(s.hsLeft - k);
      i += k;
      continue;
    }
    // A handshake message starts here.
    if (s.ccsSeen) {
      // TLS 1.3's second hello, or TLS 1.2's encrypted Finished (see the header).
      if (b != kClientHello) return {FollowStep::End, i, TlsFollowReason::None};
      return {FollowStep::Hello, i, TlsFollowReason::None};
    }
    if (b == kClientHello) return {FollowStep::Hello, i, TlsFollowReason::None};
    if (b != kCertificate && b != kCertificateVerify && b != kClientKeyExchange) {
      return invalid(i, TlsFollowReason::HandshakeType);
    }
    if (b == kClientKeyExchange) s.ckeSeen = 1;
    s.hsHave = 1;
    s.hsLeft = 0;
    --s.recLeft;
    ++i;
  }
  return {FollowStep::Walked, n, TlsFollowReason::None};
}

HelloStep tlsFollowHello(TlsFollow& st, std::span<const uint8_t> bytes, TlsClientHello& hello) {
  TlsFollow s = st;
  const size_t n = bytes.size();
  uint8_t msg[4 + kMaxClientHelloLength];
  size_t have = 0, need = 0, i = 0;
  HelloStep out{Status::NeedMore, false, 0, TlsReason::None};
  const auto fail = [&](TlsReason r) {
    out.status = Status::Invalid;
    out.reason = r;
    return out;
  };
  while (need == 0 || have < need) {
    if (i == n) return out;  // NeedMore
    if (s.recLeft == 0) {
      // The hello goes on in the next record, which must be a handshake record.
      if (n - i < 5) return out;
      const uint32_t len = uint32_t(bytes[i + 3]) << 8 | bytes[i + 4];
      if (bytes[i] != kHandshake) return fail(TlsReason::InterleavedRecord);
      if (bytes[i + 1] != 3) return fail(TlsReason::BadRecordVersion);
      if (len > recordLimit(s, kHandshake)) return fail(TlsReason::RecordTooLong);
      if (len == 0) return fail(TlsReason::EmptyRecord);
      s.recLeft = uint16_t(len);
      i += 5;
      continue;
    }
    const size_t want = need == 0 ? 4 - have : need - have;
    const size_t k = std::min<size_t>({want, size_t(s.recLeft), n - i});
    std::memcpy(msg + have, bytes.data() + i, k);
    have += k;
    i += k;
    s.recLeft = uint16_t(s.recLeft - k);
    if (need == 0 && have == 4) {
      const uint32_t body = uint32_t(msg[1]) << 16 | uint32_t(msg[2]) << 8 | msg[3];
      if (s.ccsSeen && body >= kHelloAfterCcsLimit) {
        out.status = Status::Done;
        out.encrypted = true;
        return out;
      }
      if (body > kMaxClientHelloLength) return fail(TlsReason::HandshakeTooLong);
      need = 4 + body;
    }
  }
  const Status parsed = parseClientHelloMessage({msg, need}, hello);
  if (parsed != Status::Done) return fail(hello.reason);
  if (hello.earlyData) s.earlyData = 1;
  st = s;
  out.status = Status::Done;
  out.consumed = i;
  return out;
}

}  // namespace lbg::inspect
