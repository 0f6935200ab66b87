#include "dataplane/inspect/tls/client_hello.h"

#include <cstring>

#include "dataplane/inspect/byte_reader.h"
#include "dataplane/inspect/hostname.h"

namespace lbg::inspect {
namespace {

constexpr uint8_t kContentHandshake = 22;
constexpr uint8_t kHandshakeClientHello = 1;
constexpr uint32_t kMaxRecordLength = 1u << 14;  // TLSPlaintext.length limit (RFC 8446 §5.1)
constexpr size_t kRecordHeader = 5;
constexpr size_t kHandshakeHeader = 4;
// Real hellos carry about 20 extensions (GREASE included); the cap bounds duplicate detection.
constexpr size_t kMaxExtensions = 128;

constexpr uint16_t kExtServerName = 0;
constexpr uint16_t kExtAlpn = 16;
constexpr uint16_t kExtEarlyData = 42;
constexpr uint16_t kExtSupportedVersions = 43;
constexpr uint16_t kExtEch = 0xfe0d;
constexpr uint16_t kExtEsni = 0xffce;  // draft ESNI: the name is just as hidden

Status fail(TlsClientHello& out, TlsReason r) {
  out.reason = r;
  return Status::Invalid;
}

Status parseServerName(ByteReader ext, TlsClientHello& out) {
  uint16_t listLen;
  if (ext.empty()) return fail(out, TlsReason::EmptyServerName);
  if (!ext.u16(listLen) || listLen != ext.left()) return fail(out, TlsReason::LengthMismatch);
  if (listLen == 0) return fail(out, TlsReason::EmptyServerName);
  while (!ext.empty()) {
    uint8_t type;
    uint16_t len;
    if (!ext.u8(type) || !ext.u16(len) || len > ext.left()) {
      return fail(out, TlsReason::LengthMismatch);
    }
    // RFC 6066 defines host_name only; a name of a type we cannot read is a name we cannot check.
    if (type != 0) return fail(out, TlsReason::UnknownNameType);
    // Servers disagree on which of two names wins; so we pick none.
    if (out.hasSni) return fail(out, TlsReason::MultipleServerNames);
    if (len == 0) return fail(out, TlsReason::EmptyServerName);
    if (!isHostname(ext.cur(), len, false)) return fail(out, TlsReason::BadServerName);
    std::memcpy(out.sni, ext.cur(), len);
    out.sniLen = uint8_t(len);  // isHostname() bounds it to 253
    out.hasSni = true;
    ext.skip(len);
  }
  return Status::Done;
}

Status parseAlpn(ByteReader ext, TlsClientHello& out) {
  uint16_t listLen;
  if (!ext.u16(listLen) || listLen != ext.left()) return fail(out, TlsReason::LengthMismatch);
  if (listLen < 2) return fail(out, TlsReason::BadAlpn);
  while (!ext.empty()) {
    uint8_t len;
    if (!ext.u8(len) || len > ext.left()) return fail(out, TlsReason::LengthMismatch);
    if (len == 0) return fail(out, TlsReason::BadAlpn);  // RFC 7301 §3.1
    if (out.alpnCount < 4) {
      const uint8_t keep = len < sizeof(out.alpn[0]) ? len : uint8_t(sizeof(out.alpn[0]));
      std::memcpy(out.alpn[out.alpnCount], ext.cur(), keep);
      out.alpnLen[out.alpnCount] = keep;
      ++out.alpnCount;
    }
    ext.skip(len);
  }
  return Status::Done;
}

Status parseSupportedVersions(ByteReader ext, TlsClientHello& out) {
  uint8_t len;
  if (!ext.u8(len) || len != ext.left()) return fail(out, TlsReason::LengthMismatch);
  if (len < 2 || len % 2 != 0) return fail(out, TlsReason::BadSupportedVersions);
  while (!ext.empty()) {
    uint16_t v = 0;
    ext.u16(v);
    if (v == 0x0304) out.offersTls13 = true;
  }
  return Status::Done;
}

Status parseBody(const uint8_t* body, size_t size, TlsClientHello& out) {
  ByteReader r(body, size);
  uint16_t version;
  if (!r.u16(version)) return fail(out, TlsReason::LengthMismatch);
  if (version >> 8 != 3) return fail(out, TlsReason::BadHelloVersion);
  out.legacyVersion = version;
  if (!r.skip(32)) return fail(out, TlsReason::LengthMismatch);  // random
  uint8_t sidLen;
  if (!r.u8(sidLen)) return fail(out, TlsReason::LengthMismatch);
  if (sidLen > 32) return fail(out, TlsReason::BadSessionId);
  if (!r.skip(sidLen)) return fail(out, TlsReason::LengthMismatch);
  uint16_t csLen;
  if (!r.u16(csLen)) return fail(out, TlsReason::LengthMismatch);
  if (csLen == 0 || csLen % 2 != 0) return fail(out, TlsReason::BadCipherSuites);
  if (!r.skip(csLen)) return fail(out, TlsReason::LengthMismatch);
  uint8_t compLen;
  if (!r.u8(compLen)) return fail(out, TlsReason::LengthMismatch);
  if (compLen == 0) return fail(out, TlsReason::BadCompression);
  if (!r.skip(compLen)) return fail(out, TlsReason::LengthMismatch);
  if (r.empty()) return Status::Done;  // TLS 1.2 and older may omit extensions entirely

  uint16_t extTotal;
  if (!r.u16(extTotal) || extTotal != r.left()) return fail(out, TlsReason::LengthMismatch);
  uint16_t seen[kMaxExtensions];
  size_t count = 0;
  while (!r.empty()) {
    uint16_t type, len;
    if (!r.u16(type) || !r.u16(len)) return fail(out, TlsReason::ExtensionOverrun);
    ByteReader ext(nullptr, 0);
    if (!r.sub(len, ext)) return fail(out, TlsReason::ExtensionOverrun);
    // RFC 8446 §4.2: no two extensions of one type. A server might read either copy.
    for (size_t i = 0; i < count; ++i) {
      if (seen[i] == type) return fail(out, TlsReason::DuplicateExtension);
    }
    if (count == kMaxExtensions) return fail(out, TlsReason::TooManyExtensions);
    seen[count++] = type;

    Status st = Status::Done;
    switch (type) {
      case kExtServerName:
        st = parseServerName(ext, out);
        break;
      case kExtAlpn:
        st = parseAlpn(ext, out);
        break;
      case kExtSupportedVersions:
        st = parseSupportedVersions(ext, out);
        break;
      case kExtEarlyData:
        out.earlyData = true;
        break;
      case kExtEch:
      case kExtEsni:
        out.ech = true;
        break;
      default:
        break;  // GREASE and everything else: skipped, still counted for duplicates
    }
    if (st != Status::Done) return st;
  }
  return Status::Done;
}

}  // namespace

std::string_view toString(TlsReason r) {
  switch (r) {
#define LBG_TLS_REASON_TEXT_(id, text) \
  case TlsReason::id:                  \
    return text;
    LBG_TLS_REASONS(LBG_TLS_REASON_TEXT_)
#undef LBG_TLS_REASON_TEXT_
  }
  return "tls-unknown";
}

Status parseClientHelloMessage(std::span<const uint8_t> m, TlsClientHello& out) {
  std::memset(static_cast<void*>(&out), 0, sizeof(out));
  if (m.empty()) return Status::NeedMore;
  if (m[0] != kHandshakeClientHello) return fail(out, TlsReason::NotClientHello);
  if (m.size() < kHandshakeHeader) return Status::NeedMore;
  const size_t body = size_t(m[1]) << 16 | size_t(m[2]) << 8 | m[3];
  if (body > kMaxClientHelloLength) return fail(out, TlsReason::HandshakeTooLong);
  if (m.size() < kHandshakeHeader + body) return Status::NeedMore;
  if (m.size() > kHandshakeHeader + body) return fail(out, TlsReason::TrailingData);
  out.helloLength = uint16_t(body);
  const Status st = parseBody(m.data() + kHandshakeHeader, body, out);
  if (st != Status::Done) {
    const TlsReason why = out.reason;
    std::memset(static_cast<void*>(&out), 0, sizeof(out));
    out.reason = why;
  }
  return st;
}

Status parseClientHello(std::span<const uint8_t> stream, TlsClientHello& out) {
  std::memset(static_cast<void*>(&out), 0, sizeof(out));
  const uint8_t* s = stream.data();
  const size_t n = stream.size();
  if (n == 0) return Status::NeedMore;
  // An SSL 2.0 record header has the top bit set; TLS content types never do.
  if (s[0] & 0x80) return fail(out, TlsReason::SslV2Hello);

  // Walk the records and collect the handshake message. The common case (the whole hello in the
  // first record) is parsed in place; a hello fragmented over records is copied into `scratch`.
  uint8_t scratch[kHandshakeHeader + kMaxClientHelloLength];
  const uint8_t* msg = nullptr;  // the handshake message so far: in the stream or in scratch
  size_t have = 0;               // bytes of it collected
  size_t need = 0;               // its full size, once its header is known
  size_t declared = 0;           // sum of record lengths seen: must not run past the message
  size_t pos = 0;
  bool inScratch = false;
  while (need == 0 || have < need) {
    // Each byte of the record header is checked as soon as it arrives, so that garbage is refused
    // at once rather than after a length's worth of waiting.
    if (pos >= n) return Status::NeedMore;
    if (s[pos] != kContentHandshake) {
      return fail(out, pos == 0 ? TlsReason::NotHandshake : TlsReason::InterleavedRecord);
    }
    if (n - pos < 2) return Status::NeedMore;
    if (s[pos + 1] != 3) return fail(out, TlsReason::BadRecordVersion);
    if (n - pos < 3) return Status::NeedMore;
    if (s[pos + 2] > 4) return fail(out, TlsReason::BadRecordVersion);
    if (n - pos < kRecordHeader) return Status::NeedMore;
    const size_t len = size_t(s[pos + 3]) << 8 | s[pos + 4];
    if (len > kMaxRecordLength) return fail(out, TlsReason::RecordTooLong);
    // RFC 8446 §5.1: zero-length handshake fragments MUST NOT be sent.
    if (len == 0) return fail(out, TlsReason::EmptyRecord);
    declared += len;
    if (need != 0 && declared > need) return fail(out, TlsReason::TrailingData);

    const uint8_t* frag = s + pos + kRecordHeader;
    const size_t avail = n - pos - kRecordHeader < len ? n - pos - kRecordHeader : len;
    if (msg == nullptr) {
      msg = frag;  // first record: in place
    } else if (!inScratch) {
      std::memcpy(scratch, msg, have);
      msg = scratch;
      inScratch = true;
    }
    size_t used = 0;
    while (used < avail && (need == 0 || have < need)) {
      if (need == 0) {
        // The handshake header: copy byte by byte until its length is known.
        if (inScratch) scratch[have] = frag[used];
        ++have;
        ++used;
        if (have == 1 && msg[0] != kHandshakeClientHello) {
          return fail(out, TlsReason::NotClientHello);
        }
        if (have == kHandshakeHeader) {
          const size_t body = size_t(msg[1]) << 16 | size_t(msg[2]) << 8 | msg[3];
          if (body > kMaxClientHelloLength) return fail(out, TlsReason::HandshakeTooLong);
          need = kHandshakeHeader + body;
          // A record that holds more than the hello hides bytes that the server reads as a
          // second handshake message before answering.
          if (declared > need) return fail(out, TlsReason::TrailingData);
        }
      } else {
        const size_t k = avail - used < need - have ? avail - used : need - have;
        if (inScratch) std::memcpy(scratch + have, frag + used, k);
        have += k;
        used += k;
      }
    }
    if (avail < len) break;  // the stream ends inside this record
    pos += kRecordHeader + len;
  }
  if (need == 0 || have < need) return Status::NeedMore;

  out.helloLength = uint16_t(need - kHandshakeHeader);
  const Status st = parseBody(msg + kHandshakeHeader, need - kHandshakeHeader, out);
  if (st != Status::Done) {
    // Never hand out half-filled fields with an Invalid.
    const TlsReason why = out.reason;
    std::memset(static_cast<void*>(&out), 0, sizeof(out));
    out.reason = why;
  }
  return st;
}

}  // namespace lbg::inspect
