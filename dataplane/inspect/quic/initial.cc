#include "dataplane/inspect/quic/initial.h"

namespace lbg::inspect {
namespace {

constexpr uint32_t kVersion1 = 0x00000001;
constexpr uint32_t kVersion2 = 0x6b3343cf;
constexpr size_t kMinClientDatagram = 1200;

bool isV1Family(uint32_t v) {
  return v == kVersion1 || (v & 0xffffff00u) == 0xff000000u /* IETF drafts */ ||
         (v & 0xfffffff0u) == 0xfaceb000u /* mvfst */;
}

// RFC 9000 §16 variable-length integer.
bool readVarint(std::span<const uint8_t> b, size_t& pos, uint64_t& v) {
  if (pos >= b.size()) return false;
  const size_t len = size_t(1) << (b[pos] >> 6);
  if (b.size() - pos < len) return false;
  v = b[pos] & 0x3f;
  for (size_t i = 1; i < len; ++i) v = v << 8 | b[pos + i];
  pos += len;
  return true;
}

}  // namespace

bool looksLikeQuicInitial(std::span<const uint8_t> b) {
  // Long header: form bit, 4-byte version, DCID length + DCID, SCID length + SCID.
  if (b.size() < 7 || (b[0] & 0x80) == 0) return false;
  const uint32_t version = uint32_t(b[1]) << 24 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 8 | b[4];
  size_t pos = 5;
  const uint8_t dcidLen = b[pos++];
  if (b.size() - pos < size_t(dcidLen) + 1) return false;
  pos += dcidLen;
  const uint8_t scidLen = b[pos++];
  if (b.size() - pos < scidLen) return false;
  pos += scidLen;
  if (version == 0) return pos < b.size();  // Version Negotiation: at least one version follows
  if ((b[0] & 0x40) == 0) return false;     // fixed bit
  const uint8_t type = (b[0] >> 4) & 0x03;
  const bool v1 = isV1Family(version);
  // Unknown version: only the invariants are ours to check, plus the 1200-byte minimum that
  // every QUIC client applies to its first datagram (RFC 9000 §14.1; gQUIC pads likewise), which
  // keeps other UDP protocols whose first byte happens to have the top bits set out.
  if (!v1 && version != kVersion2) return b.size() >= kMinClientDatagram;
  if (type != (v1 ? 0 : 1)) return false;
  // RFC 9000 limits connection IDs to 20 bytes in v1 and v2.
  if (dcidLen > 20 || scidLen > 20) return false;
  uint64_t tokenLen = 0, length = 0;
  if (!readVarint(b, pos, tokenLen) || b.size() - pos < tokenLen) return false;
  pos += size_t(tokenLen);
  if (!readVarint(b, pos, length)) return false;
  // The payload (packet number included) follows; later packets may be coalesced after it.
  return length >= 1 && length <= b.size() - pos;
}

}  // namespace lbg::inspect
