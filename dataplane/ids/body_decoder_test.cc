#include "dataplane/ids/body_decoder.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "dataplane/ids/test_deflate.h"

#include <string>
#include <vector>

namespace lbg::ids {
namespace {

using Coding = HttpResponseState::Coding;

using testing::deflateWith;
std::string gzip(const std::string& s) { return deflateWith(s, 16 + MAX_WBITS); }

std::string text(const BodyDecoder::Result& r) {
  return {reinterpret_cast<const char*>(r.body.data()), r.body.size()};
}

BodyDecoder::Result run(BodyDecoder& d, std::vector<Coding> codings, const std::string& coded) {
  return d.decode(codings, {reinterpret_cast<const uint8_t*>(coded.data()), coded.size()});
}

TEST(BodyDecoder, GzipZlibAndRawDeflate) {
  BodyDecoder d(65536);
  const std::string plain = "MZ" + std::string(3000, 'a') + "EVILPAYLOAD";
  auto r = run(d, {Coding::Gzip}, gzip(plain));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(text(r), plain);
  // "deflate" is zlib-wrapped by the RFC and raw by many servers: both decode.
  r = run(d, {Coding::Deflate}, deflateWith(plain, MAX_WBITS));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(text(r), plain);
  r = run(d, {Coding::Deflate}, deflateWith(plain, -MAX_WBITS));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(text(r), plain);
  // A body labelled gzip that is zlib-wrapped: read as a lenient client reads it.
  r = run(d, {Coding::Gzip}, deflateWith(plain, MAX_WBITS));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(text(r), plain);
}

// The payload in a second gzip member is decoded (curl and browsers read every member).
TEST(BodyDecoder, EveryGzipMember) {
  BodyDecoder d(65536);
  const auto r = run(d, {Coding::Gzip}, gzip("first part, ") + gzip("EVILPAYLOAD"));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(text(r), "first part, EVILPAYLOAD");
}

// "Content-Encoding: deflate, gzip": deflated first, then gzipped; undone last to first.
TEST(BodyDecoder, TwoLayersUndoneInReverseOrder) {
  BodyDecoder d(65536);
  const std::string plain = "MZ two layers EVILPAYLOAD";
  const auto r = run(d, {Coding::Deflate, Coding::Gzip}, gzip(deflateWith(plain, MAX_WBITS)));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(text(r), plain);
  // The same bytes with the layers named the other way round are not what they claim.
  EXPECT_FALSE(run(d, {Coding::Gzip, Coding::Deflate}, gzip(deflateWith(plain, MAX_WBITS))).ok);
}

// A body cut before its stream ends (the inspection limit, or a server that stops) decodes to
// what it holds so far.
TEST(BodyDecoder, CutStreamGivesItsDecodedPrefix) {
  BodyDecoder d(65536);
  std::string plain;
  for (int i = 0; i < 4000; ++i) plain += std::to_string(i * 7919) + ",";
  const std::string coded = gzip(plain);
  const auto r = run(d, {Coding::Gzip}, coded.substr(0, coded.size() / 2));
  ASSERT_TRUE(r.ok);
  EXPECT_GT(r.body.size(), 0u);
  EXPECT_LT(r.body.size(), plain.size());
  EXPECT_EQ(text(r), plain.substr(0, r.body.size()));
}

// A decompression bomb costs at most the limit: the output stops there.
TEST(BodyDecoder, OutputStopsAtTheLimit) {
  BodyDecoder d(4096);
  const std::string plain = std::string(1 << 20, '\0') + "EVILPAYLOAD";
  const auto r = run(d, {Coding::Gzip}, gzip(plain));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.body.size(), 4096u);
  // Two layers: the inner one is also bounded.
  const auto r2 = run(d, {Coding::Gzip, Coding::Gzip}, gzip(gzip(plain)));
  ASSERT_TRUE(r2.ok);
  EXPECT_EQ(r2.body.size(), 4096u);
}

TEST(BodyDecoder, NotWhatTheCodingSays) {
  BodyDecoder d(65536);
  EXPECT_FALSE(run(d, {Coding::Gzip}, "MZ plain bytes labelled gzip EVILPAYLOAD").ok);
  std::string corrupt = gzip(std::string(2000, 'x') + "tail");
  corrupt[corrupt.size() / 2] ^= 0x55;
  corrupt[corrupt.size() / 2 + 1] ^= 0x55;
  EXPECT_FALSE(run(d, {Coding::Gzip}, corrupt).ok);
  EXPECT_FALSE(run(d, {}, "x").ok);
}

// The decoder is reused body after body: a failed body leaves nothing behind for the next.
TEST(BodyDecoder, ReusedAcrossBodies) {
  BodyDecoder d(65536);
  for (int i = 0; i < 200; ++i) {
    EXPECT_FALSE(run(d, {Coding::Gzip}, "\x1f\x8b garbage").ok);
    const std::string plain = "body " + std::to_string(i);
    const auto r = run(d, {Coding::Gzip, Coding::Deflate}, deflateWith(gzip(plain), -MAX_WBITS));
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(text(r), plain);
  }
}

}  // namespace
}  // namespace lbg::ids
