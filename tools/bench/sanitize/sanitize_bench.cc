// Benchmark of the CDR engine; see README.md. Prints one summary line last.

#include <qpdf/JSON.hh>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFWriter.hh>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "sanitizer/common/zip_io.h"
#include "sanitizer/core/engine.h"

namespace {

using namespace lbg::sanitizer;
using Clock = std::chrono::steady_clock;

struct Sample {
  std::string name;
  std::string bytes;
  uint32_t pages = 0;
};

std::string randomText(std::mt19937_64& rng, size_t bytes) {
  static const char* kWords[] = {"LGWAN", "住民", "申請", "report", "budget", "municipal", "data", "接続系", "α′"};
  std::string out;
  while (out.size() < bytes) {
    out += kWords[rng() % (sizeof(kWords) / sizeof(kWords[0]))];
    out += ' ';
  }
  return out;
}

Sample makePdf(std::mt19937_64& rng, size_t target, int index) {
  QPDF pdf;
  pdf.emptyPDF();
  uint32_t pages = static_cast<uint32_t>(1 + target / (200 * 1024));
  size_t padding = target / pages;
  for (uint32_t p = 0; p < pages; ++p) {
    QPDFObjectHandle page = pdf.makeIndirectObject(QPDFObjectHandle::parse(
        "<< /Type /Page /MediaBox [0 0 595 842] /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 "
        "/BaseFont /Helvetica >> >> >> >>"));
    std::string content = "BT /F1 11 Tf 50 780 Td 14 TL\n";
    for (int line = 0; line < 50; ++line) content += "(" + randomText(rng, 60).substr(0, 60) + ") '\n";
    content += "ET\n";
    // Padding as an unused stream of random bytes so the file size is reached.
    std::string pad(padding, '\0');
    for (auto& c : pad) c = static_cast<char>(rng());
    page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf, content));
    page.replaceKey("/PieceInfo", QPDFObjectHandle::newStream(&pdf, pad));
    if (index % 3 == 0) {
      page.replaceKey("/AA", QPDFObjectHandle::parse("<< /O << /S /JavaScript /JS (app.alert\\(1\\)) >> >>"));
    }
    pdf.addPage(page, false);
  }
  if (index % 2 == 0) {
    pdf.getRoot().replaceKey("/OpenAction", QPDFObjectHandle::parse("<< /S /Launch /F (cmd.exe) >>"));
  }
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.write();
  auto buffer = writer.getBufferSharedPointer();
  return {"gen" + std::to_string(index) + ".pdf",
          std::string(reinterpret_cast<const char*>(buffer->getBuffer()), buffer->getSize()), pages};
}

Sample makeDocm(std::mt19937_64& rng, size_t target, int index) {
  const std::string w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
  std::string body;
  while (body.size() < target * 4) {  // XML compresses ~4-8x
    body += "<w:p><w:r><w:t>" + randomText(rng, 400) + "</w:t></w:r></w:p>";
    if (rng() % 50 == 0) {
      body += "<w:p><w:fldSimple w:instr=\"DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe calc\"><w:r><w:t>x</w:t></w:r></w:fldSimple></w:p>";
    }
  }
  std::string doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"" + w + "\"><w:body>" + body +
                    "</w:body></w:document>";
  std::string vba(std::min<size_t>(target / 10, 200000), '\0');
  for (auto& c : vba) c = static_cast<char>(rng());
  ZipWriter zip;
  zip.add("[Content_Types].xml",
          "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
          "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
          "<Default Extension=\"bin\" ContentType=\"application/vnd.ms-office.vbaProject\"/>"
          "<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.ms-word.document.macroEnabled.main+xml\"/>"
          "</Types>");
  zip.add("_rels/.rels",
          "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
          "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" "
          "Target=\"word/document.xml\"/></Relationships>");
  zip.add("word/document.xml", doc);
  zip.add("word/_rels/document.xml.rels",
          "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
          "<Relationship Id=\"rId9\" Type=\"http://schemas.microsoft.com/office/2006/relationships/vbaProject\" "
          "Target=\"vbaProject.bin\"/></Relationships>");
  zip.add("word/vbaProject.bin", vba);
  std::string out, reason;
  zip.finish(&out, &reason);
  return {"gen" + std::to_string(index) + ".docm", out, 0};
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  int files = 40, imagePdfFiles = 3;
  uint64_t seed = 1;
  po::options_description options("sanitize-bench");
  options.add_options()("help", "help")("files", po::value(&files)->default_value(40), "generated files")(
      "seed", po::value(&seed)->default_value(1), "generator seed")(
      "image-pdf-files", po::value(&imagePdfFiles)->default_value(3), "PDFs also run in image-PDF mode");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << e.what() << "\n" << options;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << options;
    return 0;
  }
  std::mt19937_64 rng(seed);
  std::vector<Sample> samples;
  // Sizes spread log-uniformly between 50 KB and 10 MB.
  std::uniform_real_distribution<double> logSize(std::log(50e3), std::log(10e6));
  for (int i = 0; i < files; ++i) {
    size_t target = static_cast<size_t>(std::exp(logSize(rng)));
    samples.push_back(i % 2 == 0 ? makePdf(rng, target, i) : makeDocm(rng, target, i));
  }
  std::string error;
  auto engine = Engine::create(EngineConfig{}, &error);
  if (!engine) {
    std::cerr << error << "\n";
    return 1;
  }
  std::vector<double> millis;
  uint64_t bytes = 0;
  int blocked = 0;
  auto start = Clock::now();
  for (const auto& s : samples) {
    auto t0 = Clock::now();
    Outcome out = engine->sanitize(s.bytes, s.name, Mode::Rebuild);
    millis.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    bytes += s.bytes.size();
    if (out.report.verdict != Verdict::Sanitized) {
      ++blocked;
      std::cerr << s.name << ": blocked " << out.report.reason << "\n";
    }
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(millis.begin(), millis.end());
  double p99 = millis.empty() ? 0 : millis[std::min(millis.size() - 1, static_cast<size_t>(millis.size() * 0.99))];

  uint32_t pages = 0;
  auto imageStart = Clock::now();
  int done = 0;
  for (const auto& s : samples) {
    if (s.pages == 0 || done >= imagePdfFiles) continue;
    Outcome out = engine->sanitize(s.bytes, s.name, Mode::ImagePdf);
    if (out.report.verdict == Verdict::Sanitized) pages += s.pages;
    else std::cerr << s.name << ": image-pdf blocked " << out.report.reason << "\n";
    ++done;
  }
  double imageSeconds = std::chrono::duration<double>(Clock::now() - imageStart).count();
  std::printf("files %zu (%d blocked), %.1f MB in\n", samples.size(), blocked, bytes / 1e6);
  std::printf("sanitize: rebuild %.1f files/s, %.1f MB/s, p99 %.1f ms; image-pdf %.2f pages/s\n",
              samples.size() / seconds, bytes / 1e6 / seconds, p99, imageSeconds > 0 ? pages / imageSeconds : 0.0);
  return blocked == 0 ? 0 : 1;
}
