#include "tools/bench/sanitize/mix.h"

// JSON first: clang with libstdc++ needs it complete before QPDFObjectHandle.hh uses it.
#include <qpdf/JSON.hh>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFWriter.hh>

#include <openssl/evp.h>
#include <png.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sanitizer/common/zip_io.h"
#include "sanitizer/image/image_sanitizer.h"

extern char** environ;

namespace lbg::bench {
namespace {

namespace fs = std::filesystem;

// The proportions of 40 files, interleaved so that a smaller --files keeps every format early:
// a municipal inbox is mostly PDF, then Office documents, images and archives; legacy binary
// Office is rare but each one costs a LibreOffice conversion.
constexpr const char* kMixPattern[40] = {
    "pdf",  "docx", "xlsx", "jpeg", "pdf",  "zip",  "docm", "pdf",  "doc",  "png",
    "pdf",  "docx", "xlsx", "pdf",  "jpeg", "docm", "pdf",  "xls",  "zip",  "pdf",
    "docx", "pdf",  "xlsx", "jpeg", "pdf",  "docm", "png",  "pdf",  "docx", "doc",
    "pdf",  "zip",  "xlsx", "pdf",  "jpeg", "docm", "docx", "pdf",  "xls",  "pdf"};

std::string randomText(std::mt19937_64& rng, size_t bytes) {
  static const char* kWords[] = {"LGWAN", "住民", "申請", "report", "budget", "municipal",
                                 "data",  "接続系", "α′",  "令和", "予算",  "committee",
                                 "資料",  "minutes", "の",  "について", "survey", "2026"};
  std::string out;
  while (out.size() < bytes) {
    out += kWords[rng() % (sizeof(kWords) / sizeof(kWords[0]))];
    out += ' ';
  }
  return out;
}

std::string xmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '&') out += "&amp;";
    else if (c == '>') out += "&gt;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

// A photograph stand-in: smooth gradients, soft shapes and sensor-like noise, so that JPEG
// compresses it as it would a camera picture (neither a flat colour nor random bytes).
std::vector<unsigned char> photo(std::mt19937_64& rng, unsigned w, unsigned h) {
  std::vector<unsigned char> rgb(static_cast<size_t>(w) * h * 3);
  const double fx = 2 + rng() % 7, fy = 2 + rng() % 5, phase = (rng() % 628) / 100.0;
  const unsigned cx = rng() % w, cy = rng() % h, r = 1 + w / (3 + rng() % 5);
  std::uniform_int_distribution<int> noise(-12, 12);
  for (unsigned y = 0; y < h; ++y) {
    for (unsigned x = 0; x < w; ++x) {
      const double u = static_cast<double>(x) / w, v = static_cast<double>(y) / h;
      const double wave = 0.5 + 0.5 * std::sin(fx * u * 6.28 + phase) * std::cos(fy * v * 6.28);
      const long dx = static_cast<long>(x) - cx, dy = static_cast<long>(y) - cy;
      const bool disc = dx * dx + dy * dy < static_cast<long>(r) * r;
      unsigned char* p = &rgb[(static_cast<size_t>(y) * w + x) * 3];
      const int base[3] = {static_cast<int>(60 + 150 * u), static_cast<int>(40 + 180 * wave),
                           static_cast<int>(200 - 140 * v)};
      for (int c = 0; c < 3; ++c) {
        const int value = (disc ? 255 - base[c] / 2 : base[c]) + noise(rng);
        p[c] = static_cast<unsigned char>(std::clamp(value, 0, 255));
      }
    }
  }
  return rgb;
}

// A screenshot stand-in for PNG: flat panels and rows of "text" strokes.
std::vector<unsigned char> screenshot(std::mt19937_64& rng, unsigned w, unsigned h) {
  std::vector<unsigned char> rgb(static_cast<size_t>(w) * h * 3, 245);
  const unsigned char accent[3] = {static_cast<unsigned char>(rng() % 200),
                                   static_cast<unsigned char>(rng() % 200), 180};
  for (unsigned y = 0; y < h; ++y) {
    for (unsigned x = 0; x < w; ++x) {
      unsigned char* p = &rgb[(static_cast<size_t>(y) * w + x) * 3];
      if (y < h / 12) {
        std::copy(accent, accent + 3, p);
      } else if ((y / 14) % 2 == 0 && y % 14 > 3 && x > 20 && x < w - 20 && (x / 7 + y / 14) % 9 != 0 &&
                 rng() % 4 != 0) {
        p[0] = p[1] = p[2] = 40;
      }
    }
  }
  return rgb;
}

std::string jpegOf(std::mt19937_64& rng, unsigned w, unsigned h) {
  std::vector<unsigned char> rgb = photo(rng, w, h);
  std::string out;
  sanitizer::image::encodeJpeg(rgb.data(), w, h, 85, &out);
  return out;
}

std::string pngOf(std::mt19937_64& rng, unsigned w, unsigned h) {
  std::vector<unsigned char> rgb = screenshot(rng, w, h);
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = w;
  image.height = h;
  image.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&image, nullptr, &size, 0, rgb.data(), 0, nullptr)) return {};
  std::string out(size, '\0');
  if (!png_image_write_to_memory(&image, out.data(), &size, 0, rgb.data(), 0, nullptr)) return {};
  out.resize(size);
  return out;
}

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// A flat ODT document of about `target` bytes once written by LibreOffice: headings and
// paragraphs in three fonts (DejaVu Sans and Serif, a CJK face for the Japanese words), a table,
// and photographs (JPEG) and screenshots (PNG) for most of the bytes.
std::string flatOdt(std::mt19937_64& rng, size_t target) {
  std::string body;
  const size_t paragraphs = std::clamp<size_t>(target / 4000, 12, 600);
  const size_t imageBudget = target * 3 / 4;
  size_t imageBytes = 0;
  int image = 0;
  for (size_t i = 0; i < paragraphs || imageBytes < imageBudget; ++i) {
    if (i % 25 == 0) body += "<text:h text:outline-level=\"1\">" + xmlEscape(randomText(rng, 30)) + "</text:h>";
    body += "<text:p text:style-name=\"P" + std::to_string(i % 3) + "\">" +
            xmlEscape(randomText(rng, 300)) + "</text:p>";
    if (i == 5) {
      body += "<table:table table:name=\"T\"><table:table-column table:number-columns-repeated=\"3\"/>";
      for (int row = 0; row < 12; ++row) {
        body += "<table:table-row>";
        for (int col = 0; col < 3; ++col)
          body += "<table:table-cell office:value-type=\"string\"><text:p>" +
                  xmlEscape(randomText(rng, 12)) + "</text:p></table:table-cell>";
        body += "</table:table-row>";
      }
      body += "</table:table>";
    }
    if (imageBytes < imageBudget && i % 4 == 1) {
      const bool asPng = image % 4 == 3;
      const unsigned w = asPng ? 800 : 1024 + static_cast<unsigned>(rng() % 600);
      const unsigned h = w * 3 / 4;
      const std::string bytes = asPng ? pngOf(rng, w, h) : jpegOf(rng, w, h);
      imageBytes += bytes.size();
      body += "<text:p><draw:frame draw:name=\"i" + std::to_string(image++) +
              "\" svg:width=\"14cm\" svg:height=\"10.5cm\" text:anchor-type=\"paragraph\"><draw:image>"
              "<office:binary-data>" + base64(bytes) + "</office:binary-data></draw:image></draw:frame></text:p>";
    }
  }
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" xmlns:xlink="http://www.w3.org/1999/xlink" office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.text">
<office:automatic-styles>
<style:style style:name="P0" style:family="paragraph"><style:text-properties style:font-name="DejaVu Sans" fo:font-size="10.5pt"/></style:style>
<style:style style:name="P1" style:family="paragraph"><style:text-properties style:font-name="DejaVu Serif" fo:font-size="11pt"/></style:style>
<style:style style:name="P2" style:family="paragraph"><style:text-properties style:font-name="DejaVu Sans" fo:font-weight="bold"/></style:style>
</office:automatic-styles>
<office:body><office:text>)" +
         body + "</office:text></office:body></office:document>\n";
}

// A CSV of `rows` rows (numbers, dates, text and a formula column) for LibreOffice Calc.
std::string csv(std::mt19937_64& rng, size_t rows) {
  std::string out = "id,date,name,amount,total\n";
  for (size_t r = 1; r <= rows; ++r) {
    out += std::to_string(r) + ",2026-" + std::to_string(1 + rng() % 12) + "-" +
           std::to_string(1 + rng() % 28) + "," + randomText(rng, 16) + "," +
           std::to_string(rng() % 100000) + ".5,=D" + std::to_string(r + 1) + "*1.1\n";
  }
  return out;
}

// A macro-enabled Word document: LibreOffice writes no VBA, so the package is assembled here
// (text-heavy document.xml with DDE fields, a vbaProject part of `target`/10 bytes).
std::string docm(std::mt19937_64& rng, size_t target) {
  const std::string w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
  std::string body;
  while (body.size() < target * 4) {  // XML compresses ~4-8x
    body += "<w:p><w:r><w:t>" + randomText(rng, 400) + "</w:t></w:r></w:p>";
    if (rng() % 50 == 0) {
      body +=
          "<w:p><w:fldSimple w:instr=\"DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "
          "calc\"><w:r><w:t>x</w:t></w:r></w:fldSimple></w:p>";
    }
  }
  std::string vba(std::min<size_t>(target / 10, 200000), '\0');
  for (auto& c : vba) c = static_cast<char>(rng());
  sanitizer::ZipWriter zip;
  zip.add("[Content_Types].xml",
          "<?xml version=\"1.0\"?><Types "
          "xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
          "<Default Extension=\"rels\" "
          "ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
          "<Default Extension=\"bin\" ContentType=\"application/vnd.ms-office.vbaProject\"/>"
          "<Override PartName=\"/word/document.xml\" "
          "ContentType=\"application/vnd.ms-word.document.macroEnabled.main+xml\"/>"
          "</Types>");
  zip.add("_rels/.rels",
          "<?xml version=\"1.0\"?><Relationships "
          "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
          "<Relationship Id=\"rId1\" "
          "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" "
          "Target=\"word/document.xml\"/></Relationships>");
  zip.add("word/document.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"" + w +
                                   "\"><w:body>" + body + "</w:body></w:document>");
  zip.add("word/_rels/document.xml.rels",
          "<?xml version=\"1.0\"?><Relationships "
          "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
          "<Relationship Id=\"rId9\" "
          "Type=\"http://schemas.microsoft.com/office/2006/relationships/vbaProject\" "
          "Target=\"vbaProject.bin\"/></Relationships>");
  zip.add("word/vbaProject.bin", vba);
  std::string out, reason;
  zip.finish(&out, &reason);
  return out;
}

// Adds what an attacker's PDF carries (JavaScript on open, a page action, a launch link) to a
// LibreOffice PDF, and counts its pages.
std::string armPdf(const std::string& bytes, bool arm, uint32_t* pages) {
  QPDF pdf;
  pdf.processMemoryFile("in.pdf", bytes.data(), bytes.size());
  auto all = pdf.getAllPages();
  *pages = static_cast<uint32_t>(all.size());
  if (!arm) return bytes;
  pdf.getRoot().replaceKey("/OpenAction", QPDFObjectHandle::parse("<< /S /JavaScript /JS (app.alert\\(1\\)) >>"));
  all.front().replaceKey("/AA", QPDFObjectHandle::parse("<< /O << /S /Launch /F (cmd.exe) >> >>"));
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.write();
  auto buffer = writer.getBufferSharedPointer();
  return std::string(reinterpret_cast<const char*>(buffer->getBuffer()), buffer->getSize());
}

bool writeFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

bool readFile(const fs::path& path, std::string* bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  *bytes = s.str();
  return true;
}

// soffice --convert-to FORMAT for every input at once (one LibreOffice start per format).
bool convert(const fs::path& work, const std::string& format, const std::vector<fs::path>& inputs,
             std::string* error) {
  if (inputs.empty()) return true;
  const std::string profile = "-env:UserInstallation=file://" + (work / "profile").string();
  const std::string outdir = (work / format).string();
  std::vector<std::string> args = {"soffice", profile, "--headless", "--norestore",
                                   "--convert-to", format, "--outdir", outdir};
  for (const auto& in : inputs) args.push_back(in.string());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, "soffice", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    *error = "LibreOffice (soffice) not found: the mix needs it (pkg/deps/sanitizer.txt)";
    return false;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *error = "soffice --convert-to " + format + " failed";
    return false;
  }
  return true;
}

size_t logUniform(std::mt19937_64& rng, double lo, double hi) {
  std::uniform_real_distribution<double> d(std::log(lo), std::log(hi));
  return static_cast<size_t>(std::exp(d(rng)));
}

}  // namespace

bool makeMix(const MixSpec& spec, std::mt19937_64& rng, std::vector<Sample>* mix,
             std::vector<Sample>* large, std::string* error) {
  std::string dirTemplate = (fs::temp_directory_path() / "lbg-sanitize-bench.XXXXXX").string();
  if (mkdtemp(dirTemplate.data()) == nullptr) {
    *error = "mkdtemp failed";
    return false;
  }
  const fs::path work = dirTemplate;
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{work};

  // Which file of the mix (or of the large set) comes from which LibreOffice input.
  struct Pending {
    std::vector<Sample>* into;
    size_t index;
    std::string format;  // LibreOffice's output format
    fs::path source;
    bool arm;
  };
  std::vector<Pending> pending;
  std::vector<fs::path> toPdf, toDocx, toDoc, toXlsx, toXls;
  auto source = [&](std::vector<Sample>* into, const std::string& name, const std::string& format,
                    const std::string& extension, const std::string& text, bool arm) {
    const fs::path path = work / (name + "." + extension);
    writeFile(path, text);
    into->push_back({format, name + "." + format, {}, 0});
    pending.push_back({into, into->size() - 1, format, path, arm});
    auto& list = format == "pdf"    ? toPdf
                 : format == "docx" ? toDocx
                 : format == "doc"  ? toDoc
                 : format == "xlsx" ? toXlsx
                                    : toXls;
    list.push_back(path);
  };

  std::vector<size_t> zips;
  for (int i = 0; i < spec.files; ++i) {
    const std::string format = kMixPattern[i % 40];
    const std::string name = "mix" + std::to_string(i);
    if (format == "pdf" || format == "docx" || format == "doc") {
      source(mix, name, format, "fodt", flatOdt(rng, logUniform(rng, 50e3, 10e6)), i % 3 == 0);
    } else if (format == "xlsx" || format == "xls") {
      source(mix, name, format, "csv", csv(rng, logUniform(rng, 500, 40000)), false);
    } else if (format == "docm") {
      mix->push_back({format, name + ".docm", docm(rng, logUniform(rng, 50e3, 10e6)), 0});
    } else if (format == "jpeg") {
      const unsigned w = 640 + static_cast<unsigned>(rng() % 2400);
      mix->push_back({format, name + ".jpg", jpegOf(rng, w, w * 2 / 3), 0});
    } else if (format == "png") {
      const unsigned w = 400 + static_cast<unsigned>(rng() % 1200);
      mix->push_back({format, name + ".png", pngOf(rng, w, w * 3 / 4), 0});
    } else {  // zip: members chosen once everything else exists
      mix->push_back({format, name + ".zip", {}, 0});
      zips.push_back(mix->size() - 1);
    }
  }
  for (int i = 0; i < spec.large; ++i) {
    const std::string name = "large" + std::to_string(i);
    if (i % 2 == 0) {
      source(large, name, "pdf", "fodt", flatOdt(rng, 10'000'000), true);
    } else {
      large->push_back({"docm", name + ".docm", docm(rng, 10'000'000), 0});
    }
  }

  if (!convert(work, "pdf", toPdf, error) || !convert(work, "docx", toDocx, error) ||
      !convert(work, "doc", toDoc, error) || !convert(work, "xlsx", toXlsx, error) ||
      !convert(work, "xls", toXls, error)) {
    return false;
  }
  for (const Pending& p : pending) {
    Sample& s = (*p.into)[p.index];
    const fs::path out = work / p.format / (p.source.stem().string() + "." + p.format);
    if (!readFile(out, &s.bytes)) {
      *error = "LibreOffice wrote no " + out.string();
      return false;
    }
    if (p.format == "pdf") s.bytes = armPdf(s.bytes, p.arm, &s.pages);
  }
  // Archives: a PDF, an Office document and an image of the mix, as a mail attachment would be.
  for (size_t z : zips) {
    sanitizer::ZipWriter zip;
    int members = 0;
    for (const char* want : {"pdf", "docx", "jpeg", "xlsx"}) {
      for (size_t k = (z * 7) % mix->size(), n = 0; n < mix->size(); ++n, k = (k + 1) % mix->size()) {
        const Sample& m = (*mix)[k];
        if (m.format == want && !m.bytes.empty() && m.bytes.size() < 2'000'000) {
          zip.add("資料/" + m.name, m.bytes);
          ++members;
          break;
        }
      }
    }
    std::string reason;
    if (members == 0 || !zip.finish(&(*mix)[z].bytes, &reason)) {
      *error = "zip of the mix: " + (members == 0 ? std::string("no member") : reason);
      return false;
    }
  }
  return true;
}

}  // namespace lbg::bench
