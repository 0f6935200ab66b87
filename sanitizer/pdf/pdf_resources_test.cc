// Fonts and images of the PDF rebuild (pdf_resources.h): crafted PDFs written by qpdf in the test,
// read back with qpdf (structure) and poppler (text).

#include "sanitizer/pdf/pdf_resources.h"

#include <gtest/gtest.h>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFWriter.hh>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <tuple>
#include <vector>

// After <cstddef> and <cstdio>: jpeglib.h uses size_t and FILE without including them.
#include <jpeglib.h>

#include "sanitizer/core/engine.h"
#include "sanitizer/pdf/font_program.h"
#include "sanitizer/pdf/image_codec.h"
#include "sanitizer/pdf/image_reduction.h"
#include "sanitizer/pdf/pdf_sanitizer.h"
#include "sanitizer/render/font_check.h"

namespace lbg::sanitizer {
namespace {

// fonts-dejavu-core (pkg/deps/sanitizer.txt): a real TrueType program to embed.
constexpr const char* kDejaVu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

std::string readFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

using Mutator = std::function<void(QPDF&, QPDFObjectHandle page)>;

// One page saying "Hello LGWAN" in font /F1, with what `mutate` adds (fonts, images).
std::string makePdf(const Mutator& mutate) {
  QPDF pdf;
  pdf.emptyPDF();
  QPDFObjectHandle page = pdf.makeIndirectObject(QPDFObjectHandle::parse(
      "<< /Type /Page /MediaBox [0 0 612 792] /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 "
      "/BaseFont /Helvetica >> >> /XObject << >> >> >>"));
  page.replaceKey("/Contents",
                  QPDFObjectHandle::newStream(&pdf, "BT /F1 24 Tf 72 700 Td (Hello LGWAN) Tj ET\nq 100 0 0 100 72 400 cm /Im1 Do Q\n"));
  pdf.addPage(page, false);
  mutate(pdf, pdf.getAllPages().at(0));
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.setCompressStreams(false);
  writer.write();
  auto buffer = writer.getBufferSharedPointer();
  return std::string(reinterpret_cast<const char*>(buffer->getBuffer()), buffer->getSize());
}

// /F1 becomes a TrueType font with `program` embedded under `key` (FontFile2 by default).
Mutator embedFont(std::string program, const char* key = "/FontFile2", const char* subtype = nullptr) {
  return [program, key, subtype](QPDF& pdf, QPDFObjectHandle page) {
    QPDFObjectHandle file = QPDFObjectHandle::newStream(&pdf, program);
    file.getDict().replaceKey("/Length1", QPDFObjectHandle::newInteger(static_cast<long long>(program.size())));
    file.getDict().replaceKey("/Comment", QPDFObjectHandle::newString("carried key"));
    if (subtype != nullptr) file.getDict().replaceKey("/Subtype", QPDFObjectHandle::newName(subtype));
    QPDFObjectHandle descriptor = pdf.makeIndirectObject(QPDFObjectHandle::parse(
        "<< /Type /FontDescriptor /FontName /DejaVuSans /Flags 32 /FontBBox [-1021 -463 1793 1232] /ItalicAngle 0 "
        "/Ascent 928 /Descent -236 /CapHeight 700 /StemV 80 >>"));
    descriptor.replaceKey(key, file);
    QPDFObjectHandle font = pdf.makeIndirectObject(QPDFObjectHandle::parse(
        "<< /Type /Font /Subtype /TrueType /BaseFont /DejaVuSans /Encoding /WinAnsiEncoding >>"));
    font.replaceKey("/FontDescriptor", descriptor);
    page.getKey("/Resources").getKey("/Font").replaceKey("/F1", font);
  };
}

// /Im1 is an image stream with `dict` (a PDF dictionary) and `data`.
Mutator addImage(const std::string& dict, std::string data) {
  return [dict, data](QPDF& pdf, QPDFObjectHandle page) {
    QPDFObjectHandle image = QPDFObjectHandle::newStream(&pdf, data);
    image.replaceDict(QPDFObjectHandle::parse(dict));
    image.getDict().replaceKey("/Length", QPDFObjectHandle::newInteger(static_cast<long long>(data.size())));
    page.getKey("/Resources").getKey("/XObject").replaceKey("/Im1", image);
  };
}

struct Read {
  std::shared_ptr<QPDF> pdf;
  QPDFObjectHandle page;
};

Read readBack(const std::string& bytes) {
  Read r{std::make_shared<QPDF>(), {}};
  r.pdf->processMemoryFile("out.pdf", bytes.data(), bytes.size());
  r.page = r.pdf->getAllPages().at(0);
  return r;
}

std::string dataOf(QPDFObjectHandle stream, qpdf_stream_decode_level_e level = qpdf_dl_specialized) {
  auto buffer = level == qpdf_dl_none ? stream.getRawStreamData() : stream.getStreamData(level);
  return std::string(reinterpret_cast<const char*>(buffer->getBuffer()), buffer->getSize());
}

const RemovedItem* findRemoved(const FormatResult& r, const std::string& kind) {
  for (const auto& item : r.removed) {
    if (item.kind == kind) return &item;
  }
  return nullptr;
}

TEST(FontProgram, FreeTypeAcceptsARealFontAndRejectsDamage) {
  const std::string font = readFile(kDejaVu);
  ASSERT_GT(font.size(), 100000u) << kDejaVu;
  FormatLimits limits;
  EXPECT_TRUE(pdf::fontProgramLoads(font, limits));
  EXPECT_FALSE(pdf::fontProgramLoads(font.substr(0, font.size() / 3), limits));
  EXPECT_FALSE(pdf::fontProgramLoads(std::string(4096, 'A'), limits));
  EXPECT_FALSE(pdf::fontProgramLoads("", limits));
}

TEST(FontProgram, SandboxedCheckAnswersPerProgram) {
  const std::string font = readFile(kDejaVu);
  std::vector<bool> keep;
  std::string reason;
  FormatLimits limits;
  limits.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  ASSERT_TRUE(render::checkFontPrograms({font, "not a font", font}, limits, nullptr, &keep, &reason)) << reason;
  EXPECT_EQ(keep, (std::vector<bool>{true, false, true}));
}

TEST(PdfFonts, CheckedProgramIsKeptAsAFreshStream) {
  const std::string font = readFile(kDejaVu);
  FormatResult r = pdf::sanitize(makePdf(embedFont(font)), FormatLimits{});
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(findRemoved(r, "font-program"), nullptr);
  Read out = readBack(r.output);
  QPDFObjectHandle f1 = out.page.getKey("/Resources").getKey("/Font").getKey("/F1");
  EXPECT_EQ(f1.getKey("/BaseFont").getName(), "/DejaVuSans");
  QPDFObjectHandle file = f1.getKey("/FontDescriptor").getKey("/FontFile2");
  ASSERT_TRUE(file.isStream());
  // Written by us: compressed (the input was not), our keys only, the same program inside.
  EXPECT_EQ(file.getDict().getKey("/Filter").getName(), "/FlateDecode");
  EXPECT_FALSE(file.getDict().hasKey("/Comment"));
  EXPECT_EQ(dataOf(file), font);
  std::string text, reason;
  ASSERT_TRUE(pdf::extractText(r.output, &text, &reason)) << reason;
  EXPECT_NE(text.find("Hello LGWAN"), std::string::npos) << text;
}

TEST(PdfFonts, RejectedProgramFallsBackToHelveticaAndIsReported) {
  FormatResult r = pdf::sanitize(makePdf(embedFont(std::string(5000, '\x17'))), FormatLimits{});
  ASSERT_TRUE(r.ok) << r.reason;
  const RemovedItem* item = findRemoved(r, "font-program");
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(item->count, 1u);
  EXPECT_NE(item->location.find("FontFile2"), std::string::npos) << item->location;
  Read out = readBack(r.output);
  QPDFObjectHandle f1 = out.page.getKey("/Resources").getKey("/Font").getKey("/F1");
  EXPECT_EQ(f1.getKey("/BaseFont").getName(), "/Helvetica");
  EXPECT_EQ(f1.getKey("/Subtype").getName(), "/Type1");
  EXPECT_FALSE(f1.hasKey("/FontDescriptor"));
  std::string text, reason;
  ASSERT_TRUE(pdf::extractText(r.output, &text, &reason)) << reason;
  EXPECT_NE(text.find("Hello LGWAN"), std::string::npos) << text;
}

TEST(PdfFonts, UnknownFontFile3SubtypeIsRemovedUnparsed) {
  FormatResult r = pdf::sanitize(makePdf(embedFont(readFile(kDejaVu), "/FontFile3", "/PostScriptMagic")), FormatLimits{});
  ASSERT_TRUE(r.ok) << r.reason;
  ASSERT_NE(findRemoved(r, "font-program"), nullptr);
}

TEST(PdfFonts, EngineChecksFontsInTheSandboxAndPopplerAgrees) {
  auto created = Engine::create(EngineConfig{});
  ASSERT_TRUE(created.ok()) << created.error().toString();
  auto engine = std::move(created).value();
  Outcome good = engine->sanitize(makePdf(embedFont(readFile(kDejaVu))), "f.pdf", Mode::Rebuild);
  EXPECT_EQ(good.report.verdict, Verdict::Sanitized) << good.report.reason;
  Outcome bad = engine->sanitize(makePdf(embedFont("garbage font")), "f.pdf", Mode::Rebuild);
  ASSERT_EQ(bad.report.verdict, Verdict::Sanitized) << bad.report.reason;
  bool reported = false;
  for (const auto& item : bad.report.removed) reported |= item.kind == "font-program";
  EXPECT_TRUE(reported);
}

TEST(PdfImages, FlateImageIsDecodedAndReencodedUnderAFreshDictionary) {
  std::string pixels;
  for (int i = 0; i < 4 * 4 * 3; ++i) pixels += static_cast<char>(i * 5);
  // Extra bytes after the pixel data and unknown keys must not survive.
  FormatResult r = pdf::sanitize(
      makePdf(addImage("<< /Type /XObject /Subtype /Image /Width 4 /Height 4 /ColorSpace /DeviceRGB "
                       "/BitsPerComponent 8 /Foo (bar) /Decode [0 1 0 1 0 1] >>",
                       pixels + "TRAILING-PAYLOAD")),
      FormatLimits{});
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(findRemoved(r, "image"), nullptr);
  Read out = readBack(r.output);
  QPDFObjectHandle image = out.page.getKey("/Resources").getKey("/XObject").getKey("/Im1");
  ASSERT_TRUE(image.isStream());
  EXPECT_EQ(image.getDict().getKey("/Filter").getName(), "/FlateDecode");
  EXPECT_FALSE(image.getDict().hasKey("/Foo"));
  EXPECT_TRUE(image.getDict().getKey("/Decode").isArray());
  EXPECT_EQ(dataOf(image), pixels);
}

TEST(FlateInflate, OnlyAStreamOfExactlyTheExpectedSizeInflates) {
  const std::string pixels(300, 'p');
  std::string packed, out;
  ASSERT_TRUE(pdf::deflateZlib(pixels, &packed));
  EXPECT_TRUE(pdf::inflateZlibExact(packed, pixels.size(), &out));
  EXPECT_EQ(out, pixels);
  EXPECT_FALSE(pdf::inflateZlibExact(packed, pixels.size() - 1, &out));  // holds more
  EXPECT_FALSE(pdf::inflateZlibExact(packed, pixels.size() + 1, &out));  // holds fewer
  std::string damaged = packed;
  damaged.back() = static_cast<char>(damaged.back() ^ 1);  // Adler-32
  EXPECT_FALSE(pdf::inflateZlibExact(damaged, pixels.size(), &out));
  EXPECT_FALSE(pdf::inflateZlibExact(packed.substr(0, packed.size() / 2), pixels.size(), &out));
}

// A Flate image of exactly its size takes libdeflate; longer, shorter or parameterised streams
// take qpdf's decoder: the rebuilt pixels are the same either way, and short data is still caught.
TEST(PdfImages, FlateImagesOfEverySizeAreDecodedAsBefore) {
  std::string pixels;
  for (int i = 0; i < 6 * 5 * 3; ++i) pixels += static_cast<char>(i * 7);
  const std::string dict =
      "<< /Type /XObject /Subtype /Image /Width 6 /Height 5 /ColorSpace /DeviceRGB /BitsPerComponent 8 "
      "/Filter /FlateDecode >>";
  for (const std::string& data : {pixels, pixels + "TRAILING-PAYLOAD"}) {
    std::string packed;
    ASSERT_TRUE(pdf::deflateZlib(data, &packed));
    FormatResult r = pdf::sanitize(makePdf(addImage(dict, packed)), FormatLimits{});
    ASSERT_TRUE(r.ok) << r.reason;
    EXPECT_EQ(findRemoved(r, "image"), nullptr);
    Read out = readBack(r.output);
    EXPECT_EQ(dataOf(out.page.getKey("/Resources").getKey("/XObject").getKey("/Im1")), pixels);
  }
  std::string shortPacked;
  ASSERT_TRUE(pdf::deflateZlib(pixels.substr(0, pixels.size() - 3), &shortPacked));
  FormatResult r = pdf::sanitize(makePdf(addImage(dict, shortPacked)), FormatLimits{});
  ASSERT_TRUE(r.ok) << r.reason;
  const RemovedItem* blanked = findRemoved(r, "image");
  ASSERT_NE(blanked, nullptr);
  EXPECT_NE(blanked->location.find("short-data"), std::string::npos) << blanked->location;
}

TEST(PdfImages, JpegIsReencodedWithoutItsTrailingBytes) {
  pdf::JpegPixels source;
  source.width = 16;
  source.height = 8;
  source.components = 3;
  for (int i = 0; i < 16 * 8 * 3; ++i) source.pixels += static_cast<char>((i * 7) & 0xff);
  std::string jpeg;
  ASSERT_TRUE(pdf::encodeJpeg(source, &jpeg));
  FormatResult r = pdf::sanitize(
      makePdf(addImage("<< /Type /XObject /Subtype /Image /Width 16 /Height 8 /ColorSpace /DeviceRGB "
                       "/BitsPerComponent 8 /Filter /DCTDecode >>",
                       jpeg + "APPENDED-ZIP")),
      FormatLimits{});
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(findRemoved(r, "image"), nullptr);
  Read out = readBack(r.output);
  QPDFObjectHandle image = out.page.getKey("/Resources").getKey("/XObject").getKey("/Im1");
  EXPECT_EQ(image.getDict().getKey("/Filter").getName(), "/DCTDecode");
  const std::string written = dataOf(image, qpdf_dl_none);
  EXPECT_EQ(written.find("APPENDED-ZIP"), std::string::npos);
  pdf::JpegPixels back;
  ASSERT_TRUE(pdf::decodeJpeg(written, 1000, &back));
  EXPECT_EQ(back.width, 16u);
  EXPECT_EQ(back.components, 3);
}

// A JPEG as cameras and LibreOffice write them, written here with libjpeg: progressive when asked,
// with a comment and an APP1 marker that must not survive the rebuild. `components` 1, 3 or 4
// (CMYK); `lumaH` x `lumaV` is the luma sampling of a colour file.
std::string writeJpeg(int width, int height, int components, bool progressive, int lumaH = 2, int lumaV = 2) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = components;
  cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 80, TRUE);
  if (components == 3) {
    cinfo.comp_info[0].h_samp_factor = lumaH;
    cinfo.comp_info[0].v_samp_factor = lumaV;
  }
  if (progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  const char comment[] = "HIDDEN-COMMENT";
  jpeg_write_marker(&cinfo, JPEG_COM, reinterpret_cast<const JOCTET*>(comment), sizeof comment - 1);
  const char exif[] = "Exif\0\0HIDDEN-EXIF";
  jpeg_write_marker(&cinfo, JPEG_APP0 + 1, reinterpret_cast<const JOCTET*>(exif), sizeof exif - 1);
  std::vector<unsigned char> row(static_cast<size_t>(width) * components);
  while (cinfo.next_scanline < cinfo.image_height) {
    for (size_t x = 0; x < row.size(); ++x) row[x] = static_cast<unsigned char>((x * 5 + cinfo.next_scanline * 11) ^ (x / 7));
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&cinfo, &r, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::string out(reinterpret_cast<const char*>(buffer), size);
  std::free(buffer);
  return out;
}

bool hasMarker(const std::string& jpeg, unsigned char marker) {
  return jpeg.find(std::string{'\xff', static_cast<char>(marker)}) != std::string::npos;
}

TEST(JpegTranscode, ProgressiveBecomesBaselineWithTheSamePixelsAndNoMarkers) {
  for (bool progressive : {true, false}) {
    for (int components : {1, 3}) {
      const std::string input = writeJpeg(61, 37, components, progressive);
      ASSERT_EQ(hasMarker(input, 0xC2), progressive);
      std::string out;
      ASSERT_TRUE(pdf::transcodeJpeg(input, 61, 37, components, &out)) << components;
      EXPECT_TRUE(hasMarker(out, 0xC0)) << "baseline SOF0";
      EXPECT_FALSE(hasMarker(out, 0xC2)) << "no progressive SOF2";
      EXPECT_FALSE(hasMarker(out, 0xFE)) << "no comment";
      EXPECT_FALSE(hasMarker(out, 0xE1)) << "no APP1";
      EXPECT_EQ(out.find("HIDDEN"), std::string::npos);
      // Same coefficients, same quantisation: the decoded pixels are identical.
      pdf::JpegPixels a, b;
      ASSERT_TRUE(pdf::decodeJpeg(input, 1u << 20, &a));
      ASSERT_TRUE(pdf::decodeJpeg(out, 1u << 20, &b));
      EXPECT_EQ(b.width, 61u);
      EXPECT_EQ(b.components, components);
      EXPECT_TRUE(a.pixels == b.pixels) << "progressive " << progressive << " components " << components;
    }
  }
}

TEST(JpegTranscode, OnlyOrdinaryFilesOfTheDeclaredShapeQualify) {
  const std::string colour = writeJpeg(32, 16, 3, true);
  std::string out;
  EXPECT_FALSE(pdf::transcodeJpeg(colour, 33, 16, 3, &out)) << "width differs from the dictionary";
  EXPECT_FALSE(pdf::transcodeJpeg(colour, 32, 15, 3, &out)) << "height differs";
  EXPECT_FALSE(pdf::transcodeJpeg(colour, 32, 16, 1, &out)) << "component count differs";
  EXPECT_FALSE(pdf::transcodeJpeg(writeJpeg(32, 16, 4, false), 32, 16, 4, &out)) << "CMYK takes the pixel path";
  EXPECT_FALSE(pdf::transcodeJpeg(writeJpeg(32, 16, 3, false, 4, 1), 32, 16, 3, &out)) << "4x1 luma sampling";
  EXPECT_TRUE(pdf::transcodeJpeg(writeJpeg(32, 16, 3, false, 2, 1), 32, 16, 3, &out)) << "4:2:2 is ordinary";
  EXPECT_FALSE(pdf::transcodeJpeg("not a jpeg at all", 32, 16, 3, &out));
  EXPECT_FALSE(pdf::transcodeJpeg(colour.substr(0, 40), 32, 16, 3, &out)) << "cut in its header";
}

// A progressive gray JPEG of one row of 8 blocks, quantisation all 1, written straight from
// coefficients: every block zero except coefficient `index` of block `block`, set to `value`.
// Progressive coding (point transforms) can carry values that baseline Huffman tables cannot.
std::string jpegWithCoefficient(int block, int index, int value) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = 64;
  cinfo.image_height = 8;
  cinfo.input_components = 1;
  cinfo.in_color_space = JCS_GRAYSCALE;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 100, TRUE);
  jpeg_simple_progression(&cinfo);
  auto common = reinterpret_cast<j_common_ptr>(&cinfo);
  jvirt_barray_ptr arrays[1] = {(*cinfo.mem->request_virt_barray)(common, JPOOL_IMAGE, TRUE, 8, 1, 1)};
  (*cinfo.mem->realize_virt_arrays)(common);
  JBLOCKARRAY rows = (*cinfo.mem->access_virt_barray)(common, arrays[0], 0, 1, TRUE);
  for (int b = 0; b < 8; ++b) std::fill(rows[0][b], rows[0][b] + DCTSIZE2, 0);
  rows[0][block][index] = static_cast<JCOEF>(value);
  jpeg_write_coefficients(&cinfo, arrays);
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::string out(reinterpret_cast<const char*>(buffer), size);
  std::free(buffer);
  return out;
}

TEST(JpegTranscode, CoefficientsOutsideBaselineRangeTakeThePixelPath) {
  std::string out;
  // Baseline codes DC in [-1024, 1023] and AC in [-1023, 1023]: the edges transcode.
  for (auto [block, index, value] : {std::tuple{0, 0, -1024}, {7, 0, 1023}, {3, 1, 1023}, {5, 63, -1023}}) {
    const std::string input = jpegWithCoefficient(block, index, value);
    ASSERT_EQ(hasMarker(input, 0xC2), true);
    EXPECT_TRUE(pdf::transcodeJpeg(input, 64, 8, 1, &out)) << block << " " << index << " " << value;
  }
  // One step past them, in any block of the row, does not.
  for (auto [block, index, value] :
       {std::tuple{0, 0, -1025}, {6, 0, 1024}, {2, 1, 1024}, {7, 63, -1024}, {4, 17, 2000}, {1, 40, -4000}}) {
    EXPECT_FALSE(pdf::transcodeJpeg(jpegWithCoefficient(block, index, value), 64, 8, 1, &out))
        << block << " " << index << " " << value;
  }
}

TEST(PdfImages, ProgressiveJpegIsTranscodedToBaselineWithoutItsMarkers) {
  const std::string jpeg = writeJpeg(40, 24, 3, true);
  FormatResult r = pdf::sanitize(
      makePdf(addImage("<< /Type /XObject /Subtype /Image /Width 40 /Height 24 /ColorSpace /DeviceRGB "
                       "/BitsPerComponent 8 /Filter /DCTDecode >>",
                       jpeg)),
      FormatLimits{});
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(findRemoved(r, "image"), nullptr);
  Read out = readBack(r.output);
  QPDFObjectHandle image = out.page.getKey("/Resources").getKey("/XObject").getKey("/Im1");
  EXPECT_EQ(image.getDict().getKey("/Filter").getName(), "/DCTDecode");
  const std::string written = dataOf(image, qpdf_dl_none);
  EXPECT_TRUE(hasMarker(written, 0xC0));
  EXPECT_FALSE(hasMarker(written, 0xC2));
  EXPECT_EQ(written.find("HIDDEN"), std::string::npos);
  pdf::JpegPixels a, b;
  ASSERT_TRUE(pdf::decodeJpeg(jpeg, 1u << 20, &a));
  ASSERT_TRUE(pdf::decodeJpeg(written, 1u << 20, &b));
  EXPECT_TRUE(a.pixels == b.pixels);
}

struct DroppedImage {
  const char* dict;
  std::string data;
  const char* why;
};

TEST(PdfImages, UnsupportedImagesAreBlankedAndReported) {
  const std::vector<DroppedImage> cases = {
      {"<< /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /JPXDecode >>",
       "jpx", "filter JPXDecode"},
      {"<< /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /JBIG2Decode >>",
       "jb2", "filter JBIG2Decode"},
      {"<< /Subtype /Image /Width 2 /Height 2 /ColorSpace [/Separation /Spot /DeviceCMYK << /FunctionType 2 /Domain [0 1] /N 1 >>] "
       "/BitsPerComponent 8 >>",
       "abcd", "colour-space"},
      {"<< /Subtype /Image /Width 100 /Height 100 /ColorSpace /DeviceRGB /BitsPerComponent 8 >>", "short",
       "short-data"},
      {"<< /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode >>",
       "not a jpeg at all", "jpeg-decode"},
  };
  for (const auto& c : cases) {
    FormatResult r = pdf::sanitize(makePdf(addImage(c.dict, c.data)), FormatLimits{});
    ASSERT_TRUE(r.ok) << c.why << ": " << r.reason;
    const RemovedItem* item = findRemoved(r, "image");
    ASSERT_NE(item, nullptr) << c.why;
    EXPECT_NE(item->location.find(c.why), std::string::npos) << item->location;
    Read out = readBack(r.output);
    QPDFObjectHandle image = out.page.getKey("/Resources").getKey("/XObject").getKey("/Im1");
    EXPECT_EQ(image.getDict().getKey("/Width").getIntValue(), 1) << c.why;
    EXPECT_EQ(dataOf(image), std::string("\xff", 1)) << c.why;
  }
}

TEST(PdfImages, IndexedImageKeepsItsTableAsAString) {
  FormatResult r = pdf::sanitize(
      makePdf(addImage("<< /Subtype /Image /Width 2 /Height 1 /ColorSpace [/Indexed /DeviceRGB 1 <FF000000FF00>] "
                       "/BitsPerComponent 8 >>",
                       std::string("\x00\x01", 2))),
      FormatLimits{});
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(findRemoved(r, "image"), nullptr);
  Read out = readBack(r.output);
  QPDFObjectHandle cs = out.page.getKey("/Resources").getKey("/XObject").getKey("/Im1").getDict().getKey("/ColorSpace");
  ASSERT_TRUE(cs.isArray());
  EXPECT_EQ(cs.getArrayItem(3).getStringValue(), std::string("\xff\x00\x00\x00\xff\x00", 6));
}

// Image-PDF mode: photographs drawn far smaller than their size go into the intermediate PDF at
// the size the 150 dpi render needs (image_reduction.h); everything else is transcoded whole.

TEST(ImageReduction, EighthsCoverTheRenderResolution) {
  // 1600 x 1200 drawn 400 pt wide: 833 px at 150 dpi, 0.52 of the width -> 5/8 (1000 px).
  EXPECT_EQ(pdf::reductionEighths(1600, 1200, 400, 300, 150), 5);
  // 2400 px drawn 2 inches wide: 300 px -> 1/8.
  EXPECT_EQ(pdf::reductionEighths(2400, 1800, 144, 108, 150), 1);
  // The larger share of the two sides decides (a stretched drawing).
  EXPECT_EQ(pdf::reductionEighths(1600, 1200, 144, 432, 150), 6);
  // Drawn at its own resolution or larger, or needing more than 3/4 of a side: kept whole.
  EXPECT_EQ(pdf::reductionEighths(1600, 1200, 768, 576, 150), 8);
  EXPECT_EQ(pdf::reductionEighths(1600, 1200, 600, 450, 150), 8);
  // Exactly 3/4 is still worth it; a hair more is not.
  EXPECT_EQ(pdf::reductionEighths(1600, 1200, 576, 432, 150), 6);
  EXPECT_EQ(pdf::reductionEighths(1600, 1200, 577, 432, 150), 8);
  // Nothing to go on: kept whole.
  EXPECT_EQ(pdf::reductionEighths(0, 1200, 400, 300, 150), 8);
  EXPECT_EQ(pdf::reductionEighths(1600, 1200, 0, 300, 150), 8);
  EXPECT_EQ(pdf::reductionEighths(1600, 1200, 400, 300, 0), 8);
  EXPECT_EQ(pdf::reductionEighths(1600, 1200, std::nan(""), 300, 150), 8);
}

TEST(ImageReduction, ReducedDecodeHasTheScaledSizeAndFailsOnAnotherShape) {
  const std::string jpeg = writeJpeg(803, 600, 3, true);
  pdf::JpegPixels small;
  ASSERT_TRUE(pdf::decodeJpegReduced(jpeg, 803, 600, 3, &small));
  EXPECT_EQ(small.width, 302u);  // ceil(803 * 3 / 8)
  EXPECT_EQ(small.height, 225u);
  EXPECT_EQ(small.components, 3);
  EXPECT_EQ(small.pixels.size(), 302u * 225u * 3u);
  EXPECT_FALSE(pdf::decodeJpegReduced(jpeg, 800, 600, 3, &small)) << "size differs from the dictionary";
  EXPECT_FALSE(pdf::decodeJpegReduced(jpeg, 803, 600, 0, &small));
  EXPECT_FALSE(pdf::decodeJpegReduced(writeJpeg(64, 64, 4, false), 64, 64, 4, &small)) << "CMYK keeps its path";
  EXPECT_FALSE(pdf::decodeJpegReduced("not a jpeg", 803, 600, 3, &small));
}

constexpr const char* kPhotoDict =
    "<< /Type /XObject /Subtype /Image /Width 800 /Height 600 /ColorSpace /DeviceRGB /BitsPerComponent 8 "
    "/Filter /DCTDecode >>";

// The page of makePdf with `content` instead of its own, and the photograph as /Im1.
Mutator photoDrawnBy(const std::string& jpeg, const std::string& content) {
  return [jpeg, content](QPDF& pdf, QPDFObjectHandle page) {
    addImage(kPhotoDict, jpeg)(pdf, page);
    page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf, content));
  };
}

QPDFObjectHandle im1(Read out) { return out.page.getKey("/Resources").getKey("/XObject").getKey("/Im1"); }

pdf::RebuildOptions imagePdfMode(unsigned threads = 1) {
  pdf::RebuildOptions options;
  options.renderDpi = 150;
  options.imageThreads = threads;
  return options;
}

TEST(ImageReduction, PhotographDrawnSmallIsWrittenAtTheRenderSizeInImagePdfModeOnly) {
  const std::string jpeg = writeJpeg(800, 600, 3, true);
  // 800 x 600 drawn 120 x 90 pt: 250 px at 150 dpi, 0.31 of each side -> 3/8 (300 x 225).
  const std::string input = makePdf(photoDrawnBy(jpeg, "q 120 0 0 90 72 400 cm /Im1 Do Q\n"));
  FormatResult reduced = pdf::sanitize(input, FormatLimits{}, {}, imagePdfMode());
  ASSERT_TRUE(reduced.ok) << reduced.reason;
  EXPECT_EQ(findRemoved(reduced, "image"), nullptr);
  Read out = readBack(reduced.output);
  QPDFObjectHandle image = im1(out);
  EXPECT_EQ(image.getDict().getKey("/Width").getIntValue(), 300);
  EXPECT_EQ(image.getDict().getKey("/Height").getIntValue(), 225);
  EXPECT_EQ(image.getDict().getKey("/Filter").getName(), "/DCTDecode");
  EXPECT_EQ(image.getDict().getKey("/ColorSpace").getName(), "/DeviceRGB");
  pdf::JpegPixels pixels;
  ASSERT_TRUE(pdf::decodeJpeg(dataOf(image, qpdf_dl_none), 1u << 20, &pixels));
  EXPECT_EQ(pixels.width, 300u);
  EXPECT_EQ(pixels.height, 225u);
  EXPECT_EQ(pdf::verify(reduced.output, FormatLimits{}), "");
  // Rebuild mode keeps every image whole.
  FormatResult whole = pdf::sanitize(input, FormatLimits{});
  ASSERT_TRUE(whole.ok) << whole.reason;
  EXPECT_EQ(im1(readBack(whole.output)).getDict().getKey("/Width").getIntValue(), 800);
}

TEST(ImageReduction, DrawnSizeFollowsSavedStatesAndFormMatricesAndTakesTheLargestUse) {
  const std::string jpeg = writeJpeg(800, 600, 1, false);
  struct Case {
    const char* content;
    const char* formMatrix;  // nullptr: no form
    long long width;
  };
  const std::vector<Case> cases = {
      // Scaled twice (cm inside cm): 60 x 45 pt -> 125 px of 800 -> 2/8.
      {"q 2 0 0 2 0 0 cm q 30 0 0 22.5 0 0 cm /Im1 Do Q Q\n", nullptr, 200},
      // Q restores the larger matrix before the second use, which decides: 240 pt -> 500 px -> 5/8.
      {"q 60 0 0 45 0 0 cm /Im1 Do Q q 240 0 0 180 0 0 cm /Im1 Do Q\n", nullptr, 500},
      // Drawn through a form whose matrix halves it: 60 x 45 pt -> 2/8.
      {"q 120 0 0 90 0 0 cm /Fm1 Do Q\n", "[0.5 0 0 0.5 0 0]", 200},
      // ... or enlarges it past its resolution: kept whole.
      {"q 120 0 0 90 0 0 cm /Fm1 Do Q\n", "[10 0 0 10 0 0]", 800},
      // Rotated a quarter turn: the lengths of the edges count, 120 x 90 pt -> 3/8.
      {"q 0 120 -90 0 300 300 cm /Im1 Do Q\n", nullptr, 300},
  };
  for (const Case& c : cases) {
    const std::string input = makePdf([&](QPDF& pdf, QPDFObjectHandle page) {
      addImage("<< /Type /XObject /Subtype /Image /Width 800 /Height 600 /ColorSpace /DeviceGray "
               "/BitsPerComponent 8 /Filter /DCTDecode >>",
               jpeg)(pdf, page);
      page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf, c.content));
      if (c.formMatrix != nullptr) {
        QPDFObjectHandle form = QPDFObjectHandle::newStream(&pdf, "/Im1 Do\n");
        form.replaceDict(QPDFObjectHandle::parse(std::string("<< /Type /XObject /Subtype /Form /BBox [0 0 1 1] /Matrix ") +
                                                 c.formMatrix + " >>"));
        QPDFObjectHandle xobjects = page.getKey("/Resources").getKey("/XObject");
        QPDFObjectHandle formResources = QPDFObjectHandle::newDictionary();
        QPDFObjectHandle formXObjects = QPDFObjectHandle::newDictionary();
        formXObjects.replaceKey("/Im1", xobjects.getKey("/Im1"));
        formResources.replaceKey("/XObject", formXObjects);
        form.getDict().replaceKey("/Resources", formResources);
        xobjects.replaceKey("/Fm1", form);
      }
    });
    FormatResult r = pdf::sanitize(input, FormatLimits{}, {}, imagePdfMode());
    ASSERT_TRUE(r.ok) << c.content << " " << r.reason;
    Read out = readBack(r.output);
    EXPECT_EQ(im1(out).getDict().getKey("/Width").getIntValue(), c.width) << c.content;
  }
}

TEST(ImageReduction, ImagesOfUnknownUseKeepTheirSize) {
  const std::string jpeg = writeJpeg(800, 600, 3, false);
  const std::string small = "q 120 0 0 90 72 400 cm /Im1 Do Q\n";
  std::vector<std::pair<const char*, Mutator>> cases = {
      // Also drawn by an annotation's appearance stream, at a size the page walk does not see.
      {"appearance", [&](QPDF& pdf, QPDFObjectHandle page) {
         photoDrawnBy(jpeg, small)(pdf, page);
         QPDFObjectHandle ap = QPDFObjectHandle::newStream(&pdf, "q 500 0 0 375 0 0 cm /Im1 Do Q\n");
         ap.replaceDict(QPDFObjectHandle::parse("<< /Type /XObject /Subtype /Form /BBox [0 0 500 375] >>"));
         QPDFObjectHandle apResources = QPDFObjectHandle::parse("<< /XObject << >> >>");
         apResources.getKey("/XObject").replaceKey("/Im1", page.getKey("/Resources").getKey("/XObject").getKey("/Im1"));
         ap.getDict().replaceKey("/Resources", apResources);
         QPDFObjectHandle annot = pdf.makeIndirectObject(
             QPDFObjectHandle::parse("<< /Type /Annot /Subtype /Square /Rect [0 0 500 375] /AP << >> >>"));
         annot.getKey("/AP").replaceKey("/N", ap);
         page.replaceKey("/Annots", QPDFObjectHandle::newArray({annot}));
       }},
      // Carrying a soft mask.
      {"soft mask", [&](QPDF& pdf, QPDFObjectHandle page) {
         photoDrawnBy(jpeg, small)(pdf, page);
         QPDFObjectHandle mask = QPDFObjectHandle::newStream(&pdf, std::string(4, '\xff'));
         mask.replaceDict(QPDFObjectHandle::parse(
             "<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8 >>"));
         page.getKey("/Resources").getKey("/XObject").getKey("/Im1").getDict().replaceKey("/SMask", mask);
       }},
  };
  for (auto& [name, mutate] : cases) {
    FormatResult r = pdf::sanitize(makePdf(mutate), FormatLimits{}, {}, imagePdfMode());
    ASSERT_TRUE(r.ok) << name << " " << r.reason;
    EXPECT_EQ(im1(readBack(r.output)).getDict().getKey("/Width").getIntValue(), 800) << name;
  }
}

// Several photographs (progressive and baseline, gray and colour, one drawn small) and a Flate
// image: the rebuilt file is byte for byte the same with one thread or several, in both modes.
TEST(PdfImages, ImagesOnSeveralThreadsGiveTheSameFileAsOne) {
  const std::string input = makePdf([](QPDF& pdf, QPDFObjectHandle page) {
    QPDFObjectHandle xobjects = page.getKey("/Resources").getKey("/XObject");
    std::string content;
    for (int i = 0; i < 20; ++i) {
      const int components = i % 3 == 0 ? 1 : 3;
      const std::string jpeg = writeJpeg(160 + 8 * i, 120 + 4 * i, components, i % 2 == 0);
      QPDFObjectHandle image = QPDFObjectHandle::newStream(&pdf, jpeg);
      image.replaceDict(QPDFObjectHandle::parse(
          "<< /Type /XObject /Subtype /Image /Width " + std::to_string(160 + 8 * i) + " /Height " +
          std::to_string(120 + 4 * i) + (components == 1 ? " /ColorSpace /DeviceGray" : " /ColorSpace /DeviceRGB") +
          " /BitsPerComponent 8 /Filter /DCTDecode >>"));
      const std::string name = "/P" + std::to_string(i);
      xobjects.replaceKey(name, image);
      // Every other one drawn small (reduced in image-PDF mode), the rest at twice their size.
      content += i % 2 == 0 ? "q 20 0 0 15 0 0 cm " + name + " Do Q\n" : "q 400 0 0 300 0 0 cm " + name + " Do Q\n";
    }
    QPDFObjectHandle flate = QPDFObjectHandle::newStream(&pdf, std::string(300, '\x40'));
    flate.replaceDict(QPDFObjectHandle::parse(
        "<< /Type /XObject /Subtype /Image /Width 10 /Height 10 /ColorSpace /DeviceRGB /BitsPerComponent 8 >>"));
    xobjects.replaceKey("/Im1", flate);
    page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf, content + "q 100 0 0 100 72 400 cm /Im1 Do Q\n"));
  });
  for (double dpi : {0.0, 150.0}) {
    pdf::RebuildOptions serial;
    serial.renderDpi = dpi;
    FormatResult one = pdf::sanitize(input, FormatLimits{}, {}, serial);
    ASSERT_TRUE(one.ok) << one.reason;
    for (unsigned threads : {2u, 3u, 16u}) {
      pdf::RebuildOptions parallel = serial;
      parallel.imageThreads = threads;
      FormatResult many = pdf::sanitize(input, FormatLimits{}, {}, parallel);
      ASSERT_TRUE(many.ok) << many.reason;
      EXPECT_TRUE(many.output == one.output) << "dpi " << dpi << " threads " << threads;
      EXPECT_EQ(many.removed.size(), one.removed.size());
    }
    // And the work was real: every photograph is in the output, the small ones reduced only at 150 dpi.
    Read out = readBack(one.output);
    QPDFObjectHandle p0 = out.page.getKey("/Resources").getKey("/XObject").getKey("/P0");
    EXPECT_EQ(p0.getDict().getKey("/Width").getIntValue(), dpi > 0 ? 60 : 160);  // 20 pt at 150 dpi: 42 px of 160 -> 3/8
  }
}

}  // namespace
}  // namespace lbg::sanitizer
