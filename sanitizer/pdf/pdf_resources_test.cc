// Fonts and images of the PDF rebuild (pdf_resources.h): crafted PDFs written by qpdf in the test,
// read back with qpdf (structure) and poppler (text).

#include "sanitizer/pdf/pdf_resources.h"

#include <gtest/gtest.h>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFWriter.hh>

#include <algorithm>
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

}  // namespace
}  // namespace lbg::sanitizer
