#include "dataplane/inspect/quic/initial.h"

#include <gtest/gtest.h>

#include <vector>

namespace lbg::inspect {
namespace {

using Bytes = std::vector<uint8_t>;

bool check(const Bytes& b) {
  return looksLikeQuicInitial({b.data(), b.size()});
}

// A v1-style long header: first byte, version, DCID, SCID, token length, length, payload.
Bytes longHeader(uint8_t first, uint32_t version, uint8_t dcid = 8, uint8_t scid = 0,
                 size_t payload = 1200) {
  Bytes b = {first, uint8_t(version >> 24), uint8_t(version >> 16), uint8_t(version >> 8),
             uint8_t(version)};
  b.push_back(dcid);
  b.insert(b.end(), dcid, 0x11);
  b.push_back(scid);
  b.insert(b.end(), scid, 0x22);
  b.push_back(0);                             // token length
  b.push_back(uint8_t(0x40 | payload >> 8));  // 2-byte varint
  b.push_back(uint8_t(payload));
  b.insert(b.end(), payload, 0x33);
  return b;
}

TEST(QuicInitial, Version1Initial) {
  EXPECT_TRUE(check(longHeader(0xc3, 1)));
  EXPECT_TRUE(check(longHeader(0xc0, 0xff00001d)));  // draft-29
  EXPECT_FALSE(check(longHeader(0xd3, 1)));          // 0-RTT
  EXPECT_FALSE(check(longHeader(0xe3, 1)));          // Handshake
  EXPECT_FALSE(check(longHeader(0x83, 1)));          // fixed bit clear
  EXPECT_FALSE(check(longHeader(0x43, 1)));          // short header
  EXPECT_FALSE(check(longHeader(0xc3, 1, 21)));      // DCID longer than v1 allows
}

TEST(QuicInitial, Version2UsesTypeOne) {
  EXPECT_TRUE(check(longHeader(0xd3, 0x6b3343cf)));
  EXPECT_FALSE(check(longHeader(0xc3, 0x6b3343cf)));
}

TEST(QuicInitial, VersionNegotiationAndUnknownVersions) {
  Bytes vn = {0x80, 0, 0, 0, 0, 4, 1, 2, 3, 4, 0, 0, 0, 0, 1};
  EXPECT_TRUE(check(vn));
  vn.resize(11);  // no version listed
  EXPECT_FALSE(check(vn));
  EXPECT_TRUE(check(longHeader(0xc3, 0x51303530)));              // Q050: invariants only
  EXPECT_FALSE(check(longHeader(0xc3, 0x51303530, 8, 0, 100)));  // …in a full-size datagram
}

TEST(QuicInitial, TruncatedOrLyingLengths) {
  const Bytes good = longHeader(0xc3, 1);
  for (size_t n = 0; n < 20; ++n)
    EXPECT_FALSE(check(Bytes(good.begin(), good.begin() + long(n)))) << n;
  Bytes lying = good;
  lying[6 + 8 + 1 + 1] = 0x7f;  // length claims more than the datagram holds
  EXPECT_FALSE(check(lying));
  Bytes dcid = good;
  dcid[5] = 250;  // unknown-version rules would allow 250, but it runs past the datagram
  dcid[1] = 0x12;
  EXPECT_FALSE(check(Bytes(dcid.begin(), dcid.begin() + 100)));
  EXPECT_FALSE(check({0x16, 0x03, 0x01, 0x00, 0x10, 0x01, 0x00}));  // TLS, not QUIC
}

}  // namespace
}  // namespace lbg::inspect
