#include "sanitizer/common/scratch_buffer.h"

#include <gtest/gtest.h>

#include <string>

#include "sanitizer/common/zip_io.h"

namespace lbg::sanitizer {
namespace {

class ScratchBufferTest : public ::testing::Test {
 protected:
  void SetUp() override { ScratchBuffer::releaseThreadPool(); }
  void TearDown() override { ScratchBuffer::releaseThreadPool(); }
};

TEST_F(ScratchBufferTest, GrowsKeepingContentAndAppends) {
  ScratchBuffer b = ScratchBuffer::take(4);
  EXPECT_EQ(b.size(), 0u);
  EXPECT_GE(b.capacity(), 4u);
  b.append("abcd");
  b.append(std::string(100000, 'x'));  // beyond capacity: moved, first bytes kept
  ASSERT_EQ(b.size(), 100004u);
  EXPECT_EQ(b.view().substr(0, 5), "abcdx");
  b.resize(2);
  EXPECT_EQ(b.view(), "ab");
}

TEST_F(ScratchBufferTest, ReleasedStorageIsReusedOnTheSameThread) {
  const char* first;
  {
    ScratchBuffer b = ScratchBuffer::take(1 << 20);
    b.resize(1 << 20);
    first = b.data();
  }
  EXPECT_EQ(ScratchBuffer::pooledBytes(), size_t{1} << 20);
  ScratchBuffer again = ScratchBuffer::take(1000);
  EXPECT_EQ(again.data(), first);
  EXPECT_EQ(again.size(), 0u);
  EXPECT_EQ(ScratchBuffer::pooledBytes(), 0u);
}

TEST_F(ScratchBufferTest, PrefersABufferWhosePagesWereWritten) {
  // Two buffers of the same capacity: one written to 3 MB, one only to 1 KB (a deflate bound
  // that received little). A 2 MB request gets the written one.
  const char* written;
  {
    ScratchBuffer a = ScratchBuffer::take(4 << 20);
    ScratchBuffer b = ScratchBuffer::take(4 << 20);
    a.resize(1024);
    b.resize(3 << 20);
    written = b.data();
  }
  ScratchBuffer c = ScratchBuffer::take(2 << 20);
  EXPECT_EQ(c.data(), written);
}

TEST_F(ScratchBufferTest, PoolIsBounded) {
  {
    ScratchBuffer huge = ScratchBuffer::take(ScratchBuffer::kMaxPooledBytes + 1);
  }
  EXPECT_EQ(ScratchBuffer::pooledBytes(), 0u);  // too large to keep
  {
    ScratchBuffer bs[ScratchBuffer::kMaxPooled + 2];
    for (auto& b : bs) b = ScratchBuffer::take(1 << 16);
  }
  EXPECT_LE(ScratchBuffer::pooledBytes(), ScratchBuffer::kMaxPooled * (size_t{1} << 16));
  {
    ScratchBuffer a = ScratchBuffer::take(ScratchBuffer::kMaxPooledBytes);
    ScratchBuffer b = ScratchBuffer::take(ScratchBuffer::kMaxPooledBytes);
    ScratchBuffer c = ScratchBuffer::take(ScratchBuffer::kMaxPooledBytes);
  }
  EXPECT_LE(ScratchBuffer::pooledBytes(), ScratchBuffer::kMaxPooledTotal);
}

TEST_F(ScratchBufferTest, MovedFromBufferIsEmptyAndMoveAssignReleases) {
  ScratchBuffer a = ScratchBuffer::take(64);
  a.append("hello");
  ScratchBuffer b = std::move(a);
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(b.view(), "hello");
  b = ScratchBuffer::take(16);
  EXPECT_EQ(b.size(), 0u);
}

// ZipReader into a reused buffer: exactly the member's bytes, whatever the buffer held before.
TEST_F(ScratchBufferTest, ZipReaderReadsMembersIntoReusedBuffers) {
  // Incompressible enough to stay under the compression-ratio limit.
  std::string big(3 << 20, '\0'), small = "<a>small</a>", stored = "\x01\x02";
  uint32_t x = 12345;
  for (auto& c : big) c = static_cast<char>('a' + ((x = x * 1103515245u + 12345u) >> 24) % 26);
  ZipWriter writer;
  writer.add("big.xml", big);
  writer.add("small.xml", small);
  writer.add("stored.bin", stored);  // too short to deflate: stored
  std::string zip, reason;
  ASSERT_TRUE(writer.finish(&zip, &reason)) << reason;
  FormatLimits limits;
  auto reader = ZipReader::open(zip, limits, &reason);
  ASSERT_TRUE(reader) << reason;
  ScratchBuffer out;
  ASSERT_TRUE(reader->read(*reader->find("big.xml"), &out, &reason)) << reason;
  EXPECT_EQ(out.view(), big);
  out = ScratchBuffer();  // back to the pool: the next read reuses its (stale) bytes
  ASSERT_TRUE(reader->read(*reader->find("small.xml"), &out, &reason)) << reason;
  EXPECT_EQ(out.view(), small);
  ASSERT_TRUE(reader->read(*reader->find("stored.bin"), &out, &reason)) << reason;
  EXPECT_EQ(out.view(), stored);
  std::string asString;
  ASSERT_TRUE(reader->read(*reader->find("small.xml"), &asString, &reason)) << reason;
  EXPECT_EQ(asString, small);
}

}  // namespace
}  // namespace lbg::sanitizer
