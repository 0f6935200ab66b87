// Our progressive JPEG decoder and baseline writer against libjpeg, the reference for both: the
// coefficients of every file we take are libjpeg's, and the file we write is the one libjpeg's
// transcode (jpeg_copy_critical_parameters + jpeg_write_coefficients) writes.
#include "sanitizer/pdf/jpeg_progressive.h"

#include <gtest/gtest.h>
#include <jpeglib.h>

#include <cmath>
#include <csetjmp>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "sanitizer/pdf/image_codec.h"
#include "sanitizer/pdf/jpeg_baseline_writer.h"
#include "sanitizer/pdf/jpeg_reduced.h"
#include "sanitizer/pdf/libjpeg_reference.h"

namespace lbg::sanitizer::pdf {
namespace {

struct Options {
  uint32_t width = 64, height = 48;
  int components = 3;
  int h = 2, v = 2;  // luma sampling
  bool progressive = true;
  unsigned restartInterval = 0;  // MCUs
  int quality = 85;
  bool smooth = false;  // a smooth picture instead of gradients with noise
  const jpeg_scan_info* script = nullptr;
  int scans = 0;
  bool jfif = true;
};

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
};
void errorExit(j_common_ptr c) { std::longjmp(reinterpret_cast<JpegError*>(c->err)->jump, 1); }

// A photograph-like image: gradients and noise, so every band has coefficients.
std::string makeJpeg(const Options& o, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::vector<unsigned char> pixels(size_t(o.width) * o.height * o.components);
  for (uint32_t y = 0; y < o.height; ++y) {
    for (uint32_t x = 0; x < o.width; ++x) {
      for (int c = 0; c < o.components; ++c) {
        const int base = int((x * (3 + c) + y * (5 - c)) % 256);
        pixels[(size_t(y) * o.width + x) * o.components + c] =
            o.smooth ? uint8_t(128 + 100 * std::sin(x / 17.0 + c) * std::cos(y / 23.0 - c))
                     : uint8_t((base + int(rng() % 61) - 30) & 0xFF);
      }
    }
  }
  jpeg_compress_struct c;
  JpegError err;
  c.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = errorExit;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&c);
    std::free(buffer);
    return {};
  }
  jpeg_create_compress(&c);
  jpeg_mem_dest(&c, &buffer, &size);
  c.image_width = o.width;
  c.image_height = o.height;
  c.input_components = o.components;
  c.in_color_space = o.components == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, o.quality, TRUE);
  if (o.components == 3) {
    c.comp_info[0].h_samp_factor = o.h;
    c.comp_info[0].v_samp_factor = o.v;
  }
  c.write_JFIF_header = o.jfif ? TRUE : FALSE;
  c.restart_interval = o.restartInterval;
  if (o.progressive) jpeg_simple_progression(&c);
  if (o.script != nullptr) {
    c.scan_info = o.script;
    c.num_scans = o.scans;
  }
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = pixels.data() + size_t(c.next_scanline) * o.width * o.components;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::string out(reinterpret_cast<char*>(buffer), size);
  std::free(buffer);
  return out;
}

// The shapes every test walks: colour with the luma sampled sh x sv, or gray.
Options colour(uint32_t width, uint32_t height, int sh, int sv) {
  Options o;
  o.width = width;
  o.height = height;
  o.h = sh;
  o.v = sv;
  return o;
}
Options gray(uint32_t width, uint32_t height) {
  Options o = colour(width, height, 1, 1);
  o.components = 1;
  return o;
}
std::string shapeName(const Options& o) {
  return std::to_string(o.width) + "x" + std::to_string(o.height) + " " +
         (o.components == 1 ? std::string("gray") : std::to_string(o.h) + "x" + std::to_string(o.v));
}

using reference::LibjpegReference;
using reference::naturalBlocks;
LibjpegReference libjpeg(const std::string& bytes) { return reference::libjpegReference(bytes); }

void expectSameAsLibjpeg(const std::string& jpeg, const Options& o, const char* what) {
  SCOPED_TRACE(what);
  ASSERT_FALSE(jpeg.empty());
  const LibjpegReference ref = libjpeg(jpeg);
  ASSERT_TRUE(ref.ok);
  JpegCoefficients ours;
  ASSERT_TRUE(decodeProgressiveJpeg(jpeg, o.width, o.height, o.components, &ours));
  EXPECT_EQ(naturalBlocks(ours), ref.comps);
  std::string written;
  ASSERT_TRUE(writeBaselineJpeg(ours, &written));
  EXPECT_EQ(written, ref.transcoded);
  std::string transcoded;  // and through the PDF rebuild's entry point
  ASSERT_TRUE(transcodeJpeg(jpeg, o.width, o.height, o.components, &transcoded));
  EXPECT_EQ(transcoded, ref.transcoded);
}

TEST(JpegProgressive, EveryShapeAndSamplingDecodesToLibjpegsCoefficientsAndBytes) {
  const std::pair<uint32_t, uint32_t> sizes[] = {{1, 1}, {7, 9}, {8, 8}, {16, 16}, {17, 33}, {100, 75}, {333, 257}};
  const std::pair<int, int> samplings[] = {{1, 1}, {2, 1}, {1, 2}, {2, 2}};
  for (const auto& [w, h] : sizes) {
    for (const auto& [sh, sv] : samplings) {
      const Options o = colour(w, h, sh, sv);
      expectSameAsLibjpeg(makeJpeg(o, w * 31 + h), o, shapeName(o).c_str());
    }
    const Options g = gray(w, h);
    expectSameAsLibjpeg(makeJpeg(g, w + h), g, "gray");
  }
}

TEST(JpegProgressive, RestartIntervalsAndQualitiesDecodeAsLibjpeg) {
  for (unsigned interval : {1u, 2u, 3u, 7u, 8u, 9u, 64u}) {
    for (int quality : {10, 50, 95, 100}) {
      Options o;
      o.width = 123;
      o.height = 77;
      o.restartInterval = interval;
      o.quality = quality;
      const std::string what = "interval " + std::to_string(interval) + " quality " + std::to_string(quality);
      expectSameAsLibjpeg(makeJpeg(o, interval * 7 + unsigned(quality)), o, what.c_str());
      o.components = 1;
      o.h = o.v = 1;
      expectSameAsLibjpeg(makeJpeg(o, interval + unsigned(quality)), o, (what + " gray").c_str());
    }
  }
}

TEST(JpegProgressive, OtherScanScriptsDecodeAsLibjpeg) {
  // DC of each component in its own scan, spectral selection without successive approximation,
  // then bands split finely with two refinements of the luma.
  static const jpeg_scan_info script[] = {
      {1, {0}, 0, 0, 0, 0},    {1, {1}, 0, 0, 0, 1},    {1, {2}, 0, 0, 0, 0},   {1, {0}, 1, 1, 0, 2},
      {1, {0}, 2, 9, 0, 2},    {1, {0}, 10, 63, 0, 2},  {1, {1}, 1, 63, 0, 0},  {1, {2}, 1, 20, 0, 0},
      {1, {2}, 21, 63, 0, 0},  {1, {1}, 0, 0, 1, 0},    {1, {0}, 1, 63, 2, 1},  {1, {0}, 1, 9, 1, 0},
      {1, {0}, 10, 63, 1, 0},
  };
  Options o;
  o.width = 200;
  o.height = 150;
  o.script = script;
  o.scans = int(sizeof script / sizeof script[0]);
  expectSameAsLibjpeg(makeJpeg(o, 5), o, "script");
  o.restartInterval = 5;
  expectSameAsLibjpeg(makeJpeg(o, 6), o, "script with restarts");
  o.jfif = false;  // no JFIF marker: the component ids 1, 2, 3 say YCbCr
  expectSameAsLibjpeg(makeJpeg(o, 7), o, "script without JFIF");
}

TEST(JpegProgressive, WhatItDoesNotTakeIsLeftToLibjpeg) {
  Options baseline;
  baseline.progressive = false;
  JpegCoefficients c;
  EXPECT_FALSE(decodeProgressiveJpeg(makeJpeg(baseline), baseline.width, baseline.height, 3, &c));
  Options o;
  const std::string jpeg = makeJpeg(o);
  EXPECT_FALSE(decodeProgressiveJpeg(jpeg, o.width + 1, o.height, 3, &c));  // not the declared shape
  EXPECT_FALSE(decodeProgressiveJpeg(jpeg, o.width, o.height, 1, &c));
  Options cmykLike;  // gray declared as colour: the frame has 1 component
  cmykLike.components = 1;
  cmykLike.h = cmykLike.v = 1;
  EXPECT_FALSE(decodeProgressiveJpeg(makeJpeg(cmykLike), cmykLike.width, cmykLike.height, 3, &c));
  // Truncated inside the last scan: libjpeg would pad with zeros and warn; we do not guess.
  EXPECT_FALSE(decodeProgressiveJpeg(jpeg.substr(0, jpeg.size() - 40), o.width, o.height, 3, &c));
  std::string transcoded;
  const LibjpegReference ref = libjpeg(jpeg.substr(0, jpeg.size() - 40));
  ASSERT_TRUE(ref.ok);
  EXPECT_GT(ref.warnings, 0);
  ASSERT_TRUE(transcodeJpeg(jpeg.substr(0, jpeg.size() - 40), o.width, o.height, 3, &transcoded));
  EXPECT_EQ(transcoded, ref.transcoded);  // libjpeg's own answer, as before this decoder
}

// Two findings of the differential fuzz target, each where libjpeg's rule is not the obvious one.
TEST(JpegProgressive, LibjpegsOwnRulesForScanOrderAndJfifVersionAreFollowed) {
  Options o;
  o.width = 40;
  o.height = 24;
  const std::string jpeg = makeJpeg(o, 9);
  // The first scan (DC, all three components) names them 2, 1, 3: libjpeg's get_sos refuses a
  // component named before its frame order, so we leave the file to it too.
  std::string reordered = jpeg;
  const size_t sos = reordered.find("\xFF\xDA");
  ASSERT_NE(sos, std::string::npos);
  ASSERT_EQ(reordered[sos + 4], 3);
  std::swap(reordered[sos + 5], reordered[sos + 7]);
  JpegCoefficients c;
  EXPECT_FALSE(decodeProgressiveJpeg(reordered, o.width, o.height, 3, &c));
  EXPECT_FALSE(libjpeg(reordered).ok);
  // A JFIF 2.x marker: libjpeg-turbo 2.1 keeps its density but writes version 1.01.
  std::string jfif2 = jpeg;
  ASSERT_EQ(jfif2.compare(6, 5, std::string("JFIF\0", 5)), 0);
  jfif2[11] = 2;
  jfif2[13] = 1;  // density unit: dots per inch
  expectSameAsLibjpeg(jfif2, o, "JFIF 2.0");
  std::string written;
  ASSERT_TRUE(decodeProgressiveJpeg(jfif2, o.width, o.height, 3, &c));
  ASSERT_TRUE(writeBaselineJpeg(c, &written));
  EXPECT_EQ(written.substr(11, 4), std::string("\x01\x01\x01", 3) + jfif2[14]);
}

// Damaged files: whenever we take one, our coefficients are libjpeg's (the fuzz target
// fuzz/jpeg_progressive_fuzz.cc checks the same on random inputs).
TEST(JpegProgressive, DamagedFilesAreEitherLeftOrDecodedAsLibjpegDoes) {
  Options o;
  o.width = 48;
  o.height = 40;
  o.restartInterval = 2;
  const std::string jpeg = makeJpeg(o, 11);
  std::mt19937 rng(3);
  int taken = 0, left = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string bad = jpeg;
    const int edits = 1 + int(rng() % 3);
    for (int e = 0; e < edits; ++e) bad[rng() % bad.size()] = char(rng());
    if (rng() % 4 == 0) bad.resize(rng() % bad.size());
    JpegCoefficients ours;
    if (!decodeProgressiveJpeg(bad, o.width, o.height, 3, &ours)) {
      ++left;
      continue;
    }
    ++taken;
    const LibjpegReference ref = libjpeg(bad);
    ASSERT_TRUE(ref.ok) << "case " << i;
    ASSERT_EQ(naturalBlocks(ours), ref.comps) << "case " << i;
  }
  EXPECT_GT(taken, 100);  // edits in the entropy data that still decode
  EXPECT_GT(left, 100);
}

// Image-PDF's reduced photographs (jpeg_reduced.h through image_codec.h reduceJpeg): the same
// size and the same picture as libjpeg's scaled decode, which the progressive ones no longer use.
double psnr(const JpegPixels& a, const JpegPixels& b) {
  EXPECT_EQ(a.pixels.size(), b.pixels.size());
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size() && i < b.pixels.size(); ++i) {
    const double d = double(uint8_t(a.pixels[i])) - double(uint8_t(b.pixels[i]));
    sum += d * d;
  }
  const double mse = sum / double(std::max<size_t>(a.pixels.size(), 1));
  return mse == 0 ? 99.0 : 10 * std::log10(255.0 * 255.0 / mse);
}

void expectReducedAsLibjpeg(const std::string& jpeg, const Options& o, int eighths, const std::string& what) {
  SCOPED_TRACE(what + " eighths " + std::to_string(eighths));
  ASSERT_FALSE(jpeg.empty());
  JpegPixels reference;
  ASSERT_TRUE(decodeJpegReduced(jpeg, o.width, o.height, eighths, &reference));
  ReducedJpeg ours;
  ASSERT_TRUE(reduceJpeg(jpeg, o.width, o.height, eighths, &ours));
  EXPECT_EQ(ours.width, reference.width);
  EXPECT_EQ(ours.height, reference.height);
  EXPECT_EQ(ours.components, o.components);
  JpegPixels decoded;
  ASSERT_TRUE(decodeJpeg(ours.jpeg, 1u << 24, &decoded));
  ASSERT_EQ(decoded.width, reference.width);
  ASSERT_EQ(decoded.height, reference.height);
  ASSERT_EQ(decoded.components, reference.components);
  // Two implementations of the same scaled transform: close, not equal (ours is encoded again at
  // quality 90, as libjpeg's decode was by encodeJpeg before, and its chroma is upsampled by the
  // decoder rather than inside the IDCT). At 3/8, 5/8, 6/8 and 7/8 libjpeg-turbo's scaled IDCTs
  // (jidctint.c) are the N-point transforms ours computes: ours must come at least as close to
  // libjpeg's scaled decode as libjpeg's own decode and re-encode did. At 1/8, 2/8 and 4/8 its
  // reduced IDCTs (jidctred.c) fold frequencies above the smaller grid's limit back in as aliasing
  // where ours leaves them out: there the picture must be the same one, closely on a smooth picture,
  // and every channel's mean (the DC terms) unchanged.
  const double db = psnr(decoded, reference);
  std::string before;
  ASSERT_TRUE(encodeJpeg(reference, &before));
  JpegPixels beforeDecoded;
  ASSERT_TRUE(decodeJpeg(before, 1u << 24, &beforeDecoded));
  const double beforeDb = psnr(beforeDecoded, reference);
  if (eighths == 3 || eighths >= 5) {
    EXPECT_GT(db, beforeDb - 1.0) << "before: " << beforeDb << " dB";
  }
  // A picture of a few pixels says little about its error: 1/8 of 17 x 33 is 3 x 5.
  if (reference.width * reference.height >= 64) {
    EXPECT_GT(db, o.smooth ? 27.0 : 18.0);
    for (int c = 0; c < reference.components; ++c) {
      double sumOurs = 0, sumReference = 0;
      for (size_t i = c; i < reference.pixels.size(); i += reference.components) {
        sumOurs += uint8_t(decoded.pixels[i]);
        sumReference += uint8_t(reference.pixels[i]);
      }
      const double n = double(reference.pixels.size() / reference.components);
      EXPECT_NEAR(sumOurs / n, sumReference / n, 2.0) << "component " << c;
    }
  }
  if (getenv("LBG_PRINT_PSNR")) printf("%s %d: %.2f dB, before %.2f dB\n", what.c_str(), eighths, db, beforeDb);
}

TEST(JpegReduced, EveryShapeSamplingAndScaleGivesLibjpegsSizeAndPicture) {
  const std::pair<uint32_t, uint32_t> sizes[] = {{1, 1}, {7, 9}, {16, 16}, {17, 33}, {100, 75}, {333, 257}};
  const std::pair<int, int> samplings[] = {{1, 1}, {2, 1}, {1, 2}, {2, 2}};
  for (const auto& [w, h] : sizes) {
    for (int eighths = 1; eighths <= 7; ++eighths) {
      std::vector<Options> shapes{gray(w, h)};
      for (const auto& [sh, sv] : samplings) shapes.push_back(colour(w, h, sh, sv));
      for (Options o : shapes) {
        o.quality = 92;
        expectReducedAsLibjpeg(makeJpeg(o, w * 7 + h), o, eighths, shapeName(o));
        o.smooth = true;
        expectReducedAsLibjpeg(makeJpeg(o), o, eighths, shapeName(o) + " smooth");
      }
    }
  }
}

TEST(JpegReduced, ABlockOfOneColourStaysThatColour) {
  // DC only: every reduced sample is the block's mean, exactly (no ringing, no offset).
  JpegCoefficients image;
  image.width = image.height = 8;
  image.components = 1;
  alignas(16) int16_t block[64] = {};
  block[0] = 10;  // mean = 10 * 4 / 8 + 128 = 133 with a quantiser of 4
  image.comp[0].widthInBlocks = image.comp[0].heightInBlocks = image.comp[0].stride = image.comp[0].rows = 1;
  image.comp[0].blocks = block;
  for (int k = 0; k < 64; ++k) image.comp[0].quant[k] = 4;
  for (int eighths = 1; eighths <= 7; ++eighths) {
    ReducedPlanes planes;
    ASSERT_TRUE(reduceCoefficients(image, eighths, &planes));
    EXPECT_EQ(planes.width, uint32_t(eighths));
    for (uint32_t y = 0; y < planes.plane[0].rows; ++y) {
      for (uint32_t x = 0; x < planes.plane[0].stride; ++x) {
        ASSERT_EQ(planes.plane[0].samples[y * planes.plane[0].stride + x], 133) << eighths << " " << x << "," << y;
      }
    }
  }
  ReducedPlanes planes;
  EXPECT_FALSE(reduceCoefficients(image, 8, &planes));  // nothing to reduce: the transcode's job
  EXPECT_FALSE(reduceCoefficients(image, 0, &planes));
}

TEST(JpegReduced, BaselineAndDamagedFilesTakeLibjpegsWay) {
  Options baseline;
  baseline.progressive = false;
  expectReducedAsLibjpeg(makeJpeg(baseline), baseline, 3, "baseline");
  Options o;
  const std::string jpeg = makeJpeg(o);
  const std::string truncated = jpeg.substr(0, jpeg.size() - 40);  // libjpeg pads and warns
  JpegCoefficients c;
  ASSERT_FALSE(decodeProgressiveJpeg(truncated, o.width, o.height, 3, &c));
  expectReducedAsLibjpeg(truncated, o, 5, "truncated");
  ReducedJpeg out;
  EXPECT_FALSE(reduceJpeg(jpeg, o.width + 1, o.height, 5, &out));  // not the declared shape
  EXPECT_FALSE(reduceJpeg(jpeg, o.width, o.height, 8, &out));
  EXPECT_FALSE(reduceJpeg("not a jpeg", o.width, o.height, 4, &out));
}

}  // namespace
}  // namespace lbg::sanitizer::pdf
