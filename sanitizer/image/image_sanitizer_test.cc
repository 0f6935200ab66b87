#include "sanitizer/image/image_sanitizer.h"

#include <gtest/gtest.h>
#include <png.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include <jpeglib.h>

#include "sanitizer/core/engine.h"

namespace lbg::sanitizer {
namespace {

std::string makePng(unsigned w, unsigned h) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = w;
  image.height = h;
  image.format = PNG_FORMAT_RGB;
  std::vector<unsigned char> pixels(w * h * 3);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<unsigned char>(i * 7);
  png_alloc_size_t size = 0;
  png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), 0, nullptr);
  std::string out(size, '\0');
  png_image_write_to_memory(&image, out.data(), &size, 0, pixels.data(), 0, nullptr);
  out.resize(size);
  return out;
}

// Inserts a tEXt chunk (with a valid CRC) right after IHDR: metadata a rebuild must not carry.
std::string withTextChunk(std::string png, const std::string& text) {
  std::string body = "tEXt" + text;
  uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  std::string chunk = be32(static_cast<uint32_t>(text.size())) + body + be32(crc);
  png.insert(8 + 25, chunk);  // signature + IHDR (4 len + 4 type + 13 data + 4 crc)
  return png;
}

std::string makeJpegWithComment(const std::string& comment) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &out, &size);
  cinfo.image_width = 16;
  cinfo.image_height = 16;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  jpeg_write_marker(&cinfo, JPEG_COM, reinterpret_cast<const JOCTET*>(comment.data()), static_cast<unsigned>(comment.size()));
  std::vector<unsigned char> row(16 * 3, 200);
  while (cinfo.next_scanline < 16) {
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&cinfo, &r, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::string bytes(reinterpret_cast<char*>(out), size);
  std::free(out);
  return bytes;
}

std::unique_ptr<Engine> engine(EngineConfig c = {}) {
  auto created = Engine::create(c);
  return created.ok() ? std::move(created).value() : nullptr;
}

TEST(ImageSanitizer, PngMetadataDroppedPixelsKept) {
  std::string input = withTextChunk(makePng(20, 10), std::string("Comment\0<script>evil</script>", 30));
  ASSERT_NE(input.find("evil"), std::string::npos);
  Outcome out = engine()->sanitize(input, "a.png", Mode::Rebuild);
  ASSERT_EQ(out.report.verdict, Verdict::Sanitized) << out.report.reason;
  EXPECT_EQ(out.report.outputType, "png");
  EXPECT_EQ(out.output.find("evil"), std::string::npos);
  EXPECT_EQ(out.output.find("tEXt"), std::string::npos);
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  ASSERT_TRUE(png_image_begin_read_from_memory(&image, out.output.data(), out.output.size()));
  EXPECT_EQ(image.width, 20u);
  EXPECT_EQ(image.height, 10u);
  png_image_free(&image);
}

TEST(ImageSanitizer, JpegCommentDropped) {
  std::string input = makeJpegWithComment("<?php system($_GET[c]); ?>");
  ASSERT_NE(input.find("system("), std::string::npos);
  Outcome out = engine()->sanitize(input, "a.jpg", Mode::Rebuild);
  ASSERT_EQ(out.report.verdict, Verdict::Sanitized) << out.report.reason;
  EXPECT_EQ(out.report.outputType, "jpeg");
  EXPECT_EQ(out.output.find("system("), std::string::npos);
}

TEST(ImageSanitizer, PixelLimitAndCorruptionBlock) {
  EngineConfig c;
  c.maxImagePixels = 100;
  Outcome big = engine(c)->sanitize(makePng(20, 10), "big.png", Mode::Rebuild);
  EXPECT_EQ(big.report.verdict, Verdict::Blocked);
  EXPECT_EQ(big.report.reason, "limit:image-pixels");
  std::string png = makePng(20, 10);
  Outcome cut = engine()->sanitize(png.substr(0, png.size() / 2), "cut.png", Mode::Rebuild);
  EXPECT_EQ(cut.report.verdict, Verdict::Blocked);
  std::string jpeg = makeJpegWithComment("x");
  Outcome jcut = engine()->sanitize(jpeg.substr(0, 40), "cut.jpg", Mode::Rebuild);
  EXPECT_EQ(jcut.report.verdict, Verdict::Blocked);
}

}  // namespace
}  // namespace lbg::sanitizer
