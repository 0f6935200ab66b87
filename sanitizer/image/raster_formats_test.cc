// GIF, BMP and TIFF: generated in the test (giflib and libtiff write, BMP is built byte by byte),
// sanitized through the engine, and the PNG that comes out is decoded again and compared pixel by
// pixel. Malformed, truncated and bomb-dimension inputs must block with the right reason.
#include <gif_lib.h>
#include <gtest/gtest.h>
#include <png.h>
#include <tiffio.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "sanitizer/core/engine.h"
#include "sanitizer/image/raster.h"

namespace lbg::sanitizer {
namespace {

std::unique_ptr<Engine> engine(EngineConfig c = {}) {
  auto created = Engine::create(c);
  return created.ok() ? std::move(created).value() : nullptr;
}

// Decoded RGBA of a PNG the engine produced.
std::vector<uint8_t> pngPixels(const std::string& png, unsigned* w, unsigned* h) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, png.data(), png.size())) return {};
  image.format = PNG_FORMAT_RGBA;
  std::vector<uint8_t> pixels(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr)) return {};
  *w = image.width;
  *h = image.height;
  return pixels;
}

void le16(std::string& s, uint32_t v) {
  s.push_back(static_cast<char>(v & 0xFF));
  s.push_back(static_cast<char>((v >> 8) & 0xFF));
}
void le32(std::string& s, uint32_t v) {
  le16(s, v & 0xFFFF);
  le16(s, v >> 16);
}

// ---- GIF ------------------------------------------------------------------------------------

struct GifBuffer {
  std::string bytes;
};
int gifWrite(GifFileType* gif, const GifByteType* data, int len) {
  static_cast<GifBuffer*>(gif->UserData)->bytes.append(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
  return len;
}

// A w x h GIF with `frames` frames; frame f has pixel (x, y) = colour (x + y + f) % 4, colour 3 is
// transparent in frame 0. A comment extension carries `comment`.
std::string makeGif(int w, int h, int frames, bool interlace, const std::string& comment) {
  GifBuffer buffer;
  int error = 0;
  GifFileType* gif = EGifOpen(&buffer, gifWrite, &error);
  GifColorType colors[4] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {9, 9, 9}};
  ColorMapObject* map = GifMakeMapObject(4, colors);
  EGifSetGifVersion(gif, true);
  EGifPutScreenDesc(gif, w, h, 2, 0, map);
  EGifPutComment(gif, comment.c_str());
  for (int f = 0; f < frames; ++f) {
    GraphicsControlBlock gcb{0, false, 10, f == 0 ? 3 : NO_TRANSPARENT_COLOR};
    GifByteType ext[4];
    size_t len = EGifGCBToExtension(&gcb, ext);
    EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, static_cast<int>(len), ext);
    EGifPutImageDesc(gif, 0, 0, w, h, interlace, nullptr);
    std::vector<GifPixelType> line(static_cast<size_t>(w));
    // Interlaced images take their rows in pass order.
    std::vector<int> order;
    if (interlace) {
      for (int start : {0, 4, 2, 1}) {
        int step = start == 0 || start == 4 ? 8 : start == 2 ? 4 : 2;
        for (int y = start; y < h; y += step) {
          order.push_back(y);
        }
      }
    } else {
      for (int y = 0; y < h; ++y) order.push_back(y);
    }
    for (int y : order) {
      for (int x = 0; x < w; ++x) line[static_cast<size_t>(x)] = static_cast<GifPixelType>((x + y + f) % 4);
      EGifPutLine(gif, line.data(), w);
    }
  }
  GifFreeMapObject(map);
  EGifCloseFile(gif, &error);
  return buffer.bytes;
}

void expectGifFrame0(const std::string& png, int w, int h) {
  unsigned ow = 0, oh = 0;
  std::vector<uint8_t> px = pngPixels(png, &ow, &oh);
  ASSERT_EQ(ow, static_cast<unsigned>(w));
  ASSERT_EQ(oh, static_cast<unsigned>(h));
  const uint8_t expected[4][4] = {{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {0, 0, 0, 0}};
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const uint8_t* p = &px[(static_cast<size_t>(y) * w + x) * 4];
      const uint8_t* e = expected[(x + y) % 4];
      ASSERT_EQ(p[3], e[3]) << x << "," << y;
      if (e[3] != 0) {
        ASSERT_EQ(0, std::memcmp(p, e, 3)) << x << "," << y;
      }
    }
  }
}

TEST(RasterFormats, GifFirstFrameKeptCommentAndAnimationDropped) {
  std::string gif = makeGif(13, 7, 3, false, "<script>alert(1)</script>");
  ASSERT_NE(gif.find("alert(1)"), std::string::npos);
  Outcome out = engine()->sanitize(gif, "anim.gif", Mode::Rebuild);
  ASSERT_EQ(out.report.verdict, Verdict::Sanitized) << out.report.reason;
  EXPECT_EQ(out.report.detectedType, "gif");
  EXPECT_EQ(out.report.outputType, "png");
  EXPECT_EQ(out.output.find("alert(1)"), std::string::npos);
  bool frames = false;
  for (const auto& item : out.report.removed) frames = frames || item.kind == "animation-frames";
  EXPECT_TRUE(frames);
  expectGifFrame0(out.output, 13, 7);
}

TEST(RasterFormats, GifInterlaced) {
  Outcome out = engine()->sanitize(makeGif(5, 19, 1, true, "c"), "i.gif", Mode::Rebuild);
  ASSERT_EQ(out.report.verdict, Verdict::Sanitized) << out.report.reason;
  expectGifFrame0(out.output, 5, 19);
}

TEST(RasterFormats, GifBombTruncatedAndGarbageBlock) {
  // Logical screen 65535 x 65535 (4.3 Gpx) with a 1x1 image: refused from the header.
  std::string gif = makeGif(1, 1, 1, false, "c");
  gif[6] = gif[7] = gif[8] = gif[9] = '\xFF';
  Outcome bomb = engine()->sanitize(gif, "bomb.gif", Mode::Rebuild);
  EXPECT_EQ(bomb.report.verdict, Verdict::Blocked);
  EXPECT_EQ(bomb.report.reason, "limit:image-pixels");
  // A frame bigger than the cap inside a small screen is refused too.
  EngineConfig small;
  small.maxImagePixels = 50;
  Outcome frame = engine(small)->sanitize(makeGif(10, 10, 1, false, "c"), "f.gif", Mode::Rebuild);
  EXPECT_EQ(frame.report.reason, "limit:image-pixels");
  std::string whole = makeGif(40, 40, 1, false, "c");
  for (size_t cut : {size_t{6}, size_t{13}, size_t{40}, whole.size() / 2}) {
    Outcome out = engine()->sanitize(whole.substr(0, cut), "cut.gif", Mode::Rebuild);
    EXPECT_EQ(out.report.verdict, Verdict::Blocked) << cut;
    EXPECT_TRUE(out.output.empty());
  }
}

// ---- BMP ------------------------------------------------------------------------------------

// BITMAPINFOHEADER BMP. `rows` holds the pixel rows as stored (bottom-up unless height < 0),
// already padded; `extra` goes between header and pixels (palette or masks).
std::string makeBmp(int32_t w, int32_t h, uint16_t bpp, uint32_t compression, const std::string& extra,
                    const std::string& rows, uint32_t colorsUsed = 0) {
  std::string s = "BM";
  le32(s, static_cast<uint32_t>(14 + 40 + extra.size() + rows.size()));
  le32(s, 0);
  le32(s, static_cast<uint32_t>(14 + 40 + extra.size()));
  le32(s, 40);
  le32(s, static_cast<uint32_t>(w));
  le32(s, static_cast<uint32_t>(h));
  le16(s, 1);
  le16(s, bpp);
  le32(s, compression);
  le32(s, static_cast<uint32_t>(rows.size()));
  le32(s, 2835);
  le32(s, 2835);
  le32(s, colorsUsed);
  le32(s, 0);
  return s + extra + rows;
}

// 3 x 2, 24-bit bottom-up: bottom row blue green red, top row white black grey; rows padded to 12.
std::string bmp24() {
  std::string rows;
  rows += std::string("\xFF\x00\x00" "\x00\xFF\x00" "\x00\x00\xFF", 9) + std::string(3, '\0');  // bottom
  rows += std::string("\xFF\xFF\xFF" "\x00\x00\x00" "\x80\x80\x80", 9) + std::string(3, '\0');  // top
  return makeBmp(3, 2, 24, 0, "", rows);
}

TEST(RasterFormats, Bmp24BottomUp) {
  Outcome out = engine()->sanitize(bmp24(), "a.bmp", Mode::Rebuild);
  ASSERT_EQ(out.report.verdict, Verdict::Sanitized) << out.report.reason;
  EXPECT_EQ(out.report.outputType, "png");
  unsigned w = 0, h = 0;
  auto px = pngPixels(out.output, &w, &h);
  ASSERT_EQ(w, 3u);
  ASSERT_EQ(h, 2u);
  const uint8_t expected[] = {255, 255, 255, 255, 0, 0, 0, 255, 128, 128, 128, 255,
                              0, 0, 255, 255, 0, 255, 0, 255, 255, 0, 0, 255};
  EXPECT_EQ(0, std::memcmp(px.data(), expected, sizeof expected));
}

TEST(RasterFormats, BmpPaletteBitfieldsAndTopDown) {
  // 8-bit, two palette entries (BGRA), top-down 4 x 1: indices 0 1 1 0.
  std::string palette("\x00\x00\xFF\x00" "\x00\xFF\x00\x00", 8);
  Outcome pal = engine()->sanitize(makeBmp(4, -1, 8, 0, palette, std::string("\x00\x01\x01\x00", 4), 2), "p.bmp",
                                   Mode::Rebuild);
  ASSERT_EQ(pal.report.verdict, Verdict::Sanitized) << pal.report.reason;
  unsigned w = 0, h = 0;
  auto px = pngPixels(pal.output, &w, &h);
  ASSERT_EQ(w, 4u);
  EXPECT_EQ(px[0], 255);  // red
  EXPECT_EQ(px[5], 255);  // green
  // An index past the palette is malformed.
  Outcome bad = engine()->sanitize(makeBmp(4, -1, 8, 0, palette, std::string("\x00\x05\x01\x00", 4), 2), "b.bmp",
                                   Mode::Rebuild);
  EXPECT_EQ(bad.report.reason, "parse-error");
  // 1-bit: 8 pixels alternate.
  std::string mono("\x00\x00\x00\x00" "\xFF\xFF\xFF\x00", 8);
  Outcome one = engine()->sanitize(makeBmp(8, 1, 1, 0, mono, std::string("\x55\x00\x00\x00", 4)), "m.bmp", Mode::Rebuild);
  ASSERT_EQ(one.report.verdict, Verdict::Sanitized) << one.report.reason;
  px = pngPixels(one.output, &w, &h);
  EXPECT_EQ(px[0], 0);
  EXPECT_EQ(px[4], 255);
  // 32-bit BI_BITFIELDS with masks after the header: R in the low byte.
  std::string masks;
  le32(masks, 0x000000FF);
  le32(masks, 0x0000FF00);
  le32(masks, 0x00FF0000);
  Outcome bf = engine()->sanitize(makeBmp(1, 1, 32, 3, masks, std::string("\x10\x20\x30\x00", 4)), "bf.bmp",
                                  Mode::Rebuild);
  ASSERT_EQ(bf.report.verdict, Verdict::Sanitized) << bf.report.reason;
  px = pngPixels(bf.output, &w, &h);
  EXPECT_EQ(px[0], 0x10);
  EXPECT_EQ(px[1], 0x20);
  EXPECT_EQ(px[2], 0x30);
}

TEST(RasterFormats, BmpMalformedBombAndUnsupportedBlock) {
  std::string good = bmp24();
  Outcome cut = engine()->sanitize(good.substr(0, good.size() - 4), "cut.bmp", Mode::Rebuild);
  EXPECT_EQ(cut.report.reason, "parse-error");
  // 100000 x 100000 declared, 4 bytes of pixels: refused from the header, nothing allocated.
  Outcome bomb = engine()->sanitize(makeBmp(100000, 100000, 24, 0, "", "abcd"), "bomb.bmp", Mode::Rebuild);
  EXPECT_EQ(bomb.report.reason, "limit:image-pixels");
  Outcome rle = engine()->sanitize(makeBmp(2, 2, 8, 1, std::string(8, '\0'), "abcd"), "rle.bmp", Mode::Rebuild);
  EXPECT_EQ(rle.report.reason, "unsupported:bmp-rle");
  Outcome png = engine()->sanitize(makeBmp(2, 2, 0, 5, "", "\x89PNG"), "p.bmp", Mode::Rebuild);
  EXPECT_EQ(png.report.verdict, Verdict::Blocked);
  std::string negative = good;
  negative[18] = '\xFF';  // width -> huge/negative
  negative[19] = negative[20] = negative[21] = '\xFF';
  EXPECT_EQ(engine()->sanitize(negative, "n.bmp", Mode::Rebuild).report.verdict, Verdict::Blocked);
  std::string header = good;
  header[14] = 77;  // unknown DIB header size
  EXPECT_EQ(engine()->sanitize(header, "h.bmp", Mode::Rebuild).report.reason, "unsupported:bmp-header");
}

// ---- TIFF -----------------------------------------------------------------------------------

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// An RGB TIFF with `pages` pages written by libtiff, with a description tag and an artist tag.
std::string makeTiff(uint32_t w, uint32_t h, int pages, uint16_t compression) {
  char path[] = "/tmp/lbg-tiff-test-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  TIFF* tif = TIFFOpen(path, "w");
  for (int p = 0; p < pages; ++p) {
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, h);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 3);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, compression);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 4);
    TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, "secret-description-tag");
    TIFFSetField(tif, TIFFTAG_ARTIST, "artist-tag");
    std::vector<uint8_t> row(w * 3);
    for (uint32_t y = 0; y < h; ++y) {
      for (uint32_t x = 0; x < w; ++x) {
        row[x * 3] = static_cast<uint8_t>(x * 10);
        row[x * 3 + 1] = static_cast<uint8_t>(y * 10);
        row[x * 3 + 2] = 7;
      }
      TIFFWriteScanline(tif, row.data(), y, 0);
    }
    TIFFWriteDirectory(tif);
  }
  TIFFClose(tif);
  std::string bytes = readFile(path);
  unlink(path);
  return bytes;
}

TEST(RasterFormats, TiffPixelsKeptTagsDropped) {
  for (uint16_t compression : {COMPRESSION_NONE, COMPRESSION_LZW, COMPRESSION_ADOBE_DEFLATE, COMPRESSION_PACKBITS}) {
    std::string tiff = makeTiff(9, 11, 1, compression);
    ASSERT_NE(tiff.find("secret-description-tag"), std::string::npos);
    Outcome out = engine()->sanitize(tiff, "scan.tif", Mode::Rebuild);
    ASSERT_EQ(out.report.verdict, Verdict::Sanitized) << compression << " " << out.report.reason;
    EXPECT_EQ(out.report.detectedType, "tiff");
    EXPECT_EQ(out.report.outputType, "png");
    EXPECT_EQ(out.output.find("secret-description-tag"), std::string::npos);
    unsigned w = 0, h = 0;
    auto px = pngPixels(out.output, &w, &h);
    ASSERT_EQ(w, 9u);
    ASSERT_EQ(h, 11u);
    size_t at = (5 * 9 + 3) * 4;  // x 3, y 5
    EXPECT_EQ(px[at], 30);
    EXPECT_EQ(px[at + 1], 50);
    EXPECT_EQ(px[at + 2], 7);
    EXPECT_EQ(px[at + 3], 255);
  }
}

TEST(RasterFormats, TiffMultipageBombTruncatedAndCodecBlock) {
  EXPECT_EQ(engine()->sanitize(makeTiff(4, 4, 3, COMPRESSION_NONE), "fax.tif", Mode::Rebuild).report.reason,
            "unsupported:tiff-multipage");
  EngineConfig small;
  small.maxImagePixels = 100;
  EXPECT_EQ(engine(small)->sanitize(makeTiff(20, 20, 1, COMPRESSION_LZW), "big.tif", Mode::Rebuild).report.reason,
            "limit:image-pixels");
  std::string tiff = makeTiff(32, 32, 1, COMPRESSION_LZW);
  // libtiff writes the pixel strips first and the directory last: these cuts lose the header's
  // target or the directory. (A cut inside a tag value we never use, such as Artist, only drops that
  // tag: the output carries pixels alone, so that is not a reason to block.)
  for (size_t cut : {size_t{8}, size_t{100}, tiff.size() / 2, tiff.size() - 200}) {
    Outcome out = engine()->sanitize(tiff.substr(0, cut), "cut.tif", Mode::Rebuild);
    EXPECT_EQ(out.report.verdict, Verdict::Blocked) << cut;
    EXPECT_TRUE(out.output.empty());
  }
  if (TIFFIsCODECConfigured(COMPRESSION_LZMA)) {
    EXPECT_EQ(engine()->sanitize(makeTiff(4, 4, 1, COMPRESSION_LZMA), "x.tif", Mode::Rebuild).report.reason,
              "unsupported:tiff-compression");
  }
  // Header only: "II*\0" and an IFD offset pointing past the end.
  EXPECT_EQ(engine()->sanitize(std::string("II*\0\xFF\xFF\x00\x00", 8), "h.tif", Mode::Rebuild).report.verdict,
            Verdict::Blocked);
}

}  // namespace
}  // namespace lbg::sanitizer
