#pragma once

// Tests only: bytes coded by zlib's own encoder, as a server sends them (windowBits 16 + 15 gzip,
// 15 zlib, -15 raw deflate).

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace lbg::ids::testing {

inline std::string deflateWith(const std::string& plain, int windowBits) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, uLong(plain.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = uInt(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace lbg::ids::testing
