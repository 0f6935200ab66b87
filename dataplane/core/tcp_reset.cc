#include "dataplane/core/tcp_reset.h"

#include <cstring>

namespace lbg::dataplane {

namespace {

uint32_t sum16(const uint8_t* data, size_t len, uint32_t acc) {
  for (size_t i = 0; i + 1 < len; i += 2) acc += uint32_t(data[i]) << 8 | data[i + 1];
  if (len & 1) acc += uint32_t(data[len - 1]) << 8;
  return acc;
}

uint16_t fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(~acc & 0xffff);
}

void put16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
void put32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;

}  // namespace

uint16_t ipv4HeaderChecksum(const uint8_t* hdr, size_t len) { return fold(sum16(hdr, len, 0)); }

uint16_t tcpChecksum(const packet::PacketView&, const uint8_t* ip, const uint8_t* tcp, size_t tcpLen,
                     bool v6) {
  uint32_t acc = 0;
  if (v6) {
    acc = sum16(ip + 8, 32, acc);  // source and destination addresses
    acc += uint32_t(tcpLen);
    acc += 6;
  } else {
    acc = sum16(ip + 12, 8, acc);
    acc += 6;
    acc += uint32_t(tcpLen);
  }
  return fold(sum16(tcp, tcpLen, acc));
}

size_t buildTcpReset(const packet::PacketView& p, bool towardSource, uint8_t* out, size_t cap) {
  if (p.ipProto != 6 || (p.ipVersion != 4 && p.ipVersion != 6)) return 0;
  const bool v6 = p.ipVersion == 6;
  const size_t l2 = p.l3Offset;
  const size_t ipLen = v6 ? 40 : 20;
  const size_t total = l2 + ipLen + 20;
  if (total > cap || l2 < 14) return 0;

  std::memcpy(out, p.frame, l2);
  if (towardSource) {
    uint8_t mac[6];
    std::memcpy(mac, out, 6);
    std::memcpy(out, out + 6, 6);
    std::memcpy(out + 6, mac, 6);
  }
  const IpAddr& from = towardSource ? p.dst : p.src;
  const IpAddr& to = towardSource ? p.src : p.dst;
  uint8_t* ip = out + l2;
  if (v6) {
    std::memset(ip, 0, 40);
    ip[0] = 0x60;
    put16(ip + 4, 20);
    ip[6] = 6;
    ip[7] = 64;
    std::memcpy(ip + 8, from.bytes.data(), 16);
    std::memcpy(ip + 24, to.bytes.data(), 16);
  } else {
    std::memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, 40);
    put16(ip + 6, 0x4000);  // DF
    ip[8] = 64;
    ip[9] = 6;
    std::memcpy(ip + 12, &from.bytes[12], 4);
    std::memcpy(ip + 16, &to.bytes[12], 4);
    put16(ip + 10, ipv4HeaderChecksum(ip, 20));
  }

  uint8_t* tcp = ip + ipLen;
  std::memset(tcp, 0, 20);
  uint32_t segLen = p.payloadLen;
  if (p.tcpFlags & kSyn) ++segLen;
  if (p.tcpFlags & kFin) ++segLen;
  if (towardSource) {
    put16(tcp, p.dstPort);
    put16(tcp + 2, p.srcPort);
    put32(tcp + 4, (p.tcpFlags & kAck) ? p.ack : 0);
    put32(tcp + 8, p.seq + segLen);
    tcp[13] = kRst | kAck;
  } else {
    put16(tcp, p.srcPort);
    put16(tcp + 2, p.dstPort);
    put32(tcp + 4, p.seq);
    put32(tcp + 8, p.ack);
    tcp[13] = (p.tcpFlags & kAck) ? (kRst | kAck) : kRst;
  }
  tcp[12] = 5 << 4;
  put16(tcp + 16, tcpChecksum(p, ip, tcp, 20, v6));
  return total;
}

}  // namespace lbg::dataplane
