// Benchmark of the CDR engine; see README.md. Prints one summary line last.

#include <qpdf/Buffer.hh>
#include <qpdf/JSON.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFWriter.hh>

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
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
  static const char* kWords[] = {"LGWAN",     "住民", "申請",   "report", "budget",
                                 "municipal", "data", "接続系", "α′"};
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
    QPDFObjectHandle page = pdf.makeIndirectObject(
        QPDFObjectHandle::parse("<< /Type /Page /MediaBox [0 0 595 842] /Resources << /Font << /F1 "
                                "<< /Type /Font /Subtype /Type1 "
                                "/BaseFont /Helvetica >> >> >> >>"));
    std::string content = "BT /F1 11 Tf 50 780 Td 14 TL\n";
    for (int line = 0; line < 50; ++line)
      content += "(" + randomText(rng, 60).substr(0, 60) + ") '\n";
    content += "ET\n";
    // Padding as an unused stream of random bytes so the file size is reached.
    std::string pad(padding, '\0');
    for (auto& c : pad) c = static_cast<char>(rng());
    page.replaceKey("/Contents", QPDFObjectHandle::newStream(&pdf, content));
    page.replaceKey("/PieceInfo", QPDFObjectHandle::newStream(&pdf, pad));
    if (index % 3 == 0) {
      page.replaceKey(
          "/AA", QPDFObjectHandle::parse("<< /O << /S /JavaScript /JS (app.alert\\(1\\)) >> >>"));
    }
    pdf.addPage(page, false);
  }
  if (index % 2 == 0) {
    pdf.getRoot().replaceKey("/OpenAction",
                             QPDFObjectHandle::parse("<< /S /Launch /F (cmd.exe) >>"));
  }
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.write();
  auto buffer = writer.getBufferSharedPointer();
  return {"gen" + std::to_string(index) + ".pdf",
          std::string(reinterpret_cast<const char*>(buffer->getBuffer()), buffer->getSize()),
          pages};
}

Sample makeDocm(std::mt19937_64& rng, size_t target, int index) {
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
  std::string doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"" + w +
                    "\"><w:body>" + body + "</w:body></w:document>";
  std::string vba(std::min<size_t>(target / 10, 200000), '\0');
  for (auto& c : vba) c = static_cast<char>(rng());
  ZipWriter zip;
  zip.add("[Content_Types].xml",
          "<?xml version=\"1.0\"?><Types "
          "xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
          "<Default Extension=\"rels\" "
          "ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
          "<Default Extension=\"bin\" ContentType=\"application/vnd.ms-office.vbaProject\"/>"
          "<Override PartName=\"/word/document.xml\" "
          "ContentType=\"application/vnd.ms-word.document.macroEnabled.main+xml\"/>"
          "</Types>");
  zip.add(
      "_rels/.rels",
      "<?xml version=\"1.0\"?><Relationships "
      "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
      "<Relationship Id=\"rId1\" "
      "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" "
      "Target=\"word/document.xml\"/></Relationships>");
  zip.add("word/document.xml", doc);
  zip.add("word/_rels/document.xml.rels",
          "<?xml version=\"1.0\"?><Relationships "
          "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
          "<Relationship Id=\"rId9\" "
          "Type=\"http://schemas.microsoft.com/office/2006/relationships/vbaProject\" "
          "Target=\"vbaProject.bin\"/></Relationships>");
  zip.add("word/vbaProject.bin", vba);
  std::string out, reason;
  zip.finish(&out, &reason);
  return {"gen" + std::to_string(index) + ".docm", out, 0};
}

// CPU seconds of this thread, and of reaped children (render sandboxes forked per file, and
// retired pool workers).
double threadCpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}
double childrenCpu() {
  rusage ru{};
  getrusage(RUSAGE_CHILDREN, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

struct Timing {
  double wallMs = 0, cpuMs = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(v.size() * p))];
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;

  int files = 40, imagePdfFiles = 3, largeFiles = 6, repeat = 3;
  bool verbose = false;
  uint64_t seed = 1;
  po::options_description options("sanitize-bench");
  options.add_options()("help", "help")("files", po::value(&files)->default_value(40),
                                        "generated files (50 KB - 10 MB)")(
      "large", po::value(&largeFiles)->default_value(6), "extra 10 MB files for the p99")(
      "repeat", po::value(&repeat)->default_value(3), "runs per file: throughput takes each file's median run, the p99 every run")(
      "seed", po::value(&seed)->default_value(1), "generator seed")(
      "image-pdf-files", po::value(&imagePdfFiles)->default_value(3),
      "PDFs also run in image-PDF mode")("verbose", po::bool_switch(&verbose),
                                         "print every run of the 10 MB files (wall and CPU ms)");
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
  // Created first, as lbg-icapd does at start: its render workers fork from a small process.
  auto created = Engine::create(EngineConfig{});
  if (!created) {
    std::cerr << created.error().toString() << "\n";
    return 1;
  }
  std::unique_ptr<Engine> engine = std::move(created).value();
  std::mt19937_64 rng(seed);
  std::vector<Sample> samples, large;
  // Sizes spread log-uniformly between 50 KB and 10 MB.
  std::uniform_real_distribution<double> logSize(std::log(50e3), std::log(10e6));
  for (int i = 0; i < files; ++i) {
    size_t target = static_cast<size_t>(std::exp(logSize(rng)));
    samples.push_back(i % 2 == 0 ? makePdf(rng, target, i) : makeDocm(rng, target, i));
  }
  for (int i = 0; i < largeFiles; ++i) {
    large.push_back(i % 2 == 0 ? makePdf(rng, 10'000'000, 1000 + i)
                               : makeDocm(rng, 10'000'000, 1001 + i));
  }
  int blocked = 0;
  auto run = [&](const Sample& s, Mode mode) {
    Timing t;
    auto w0 = Clock::now();
    // The pooled render workers' time counts too (live ones by their CPU clocks, reaped ones in
    // RUSAGE_CHILDREN): the file's cost is everything spent on it, in any process.
    double c0 = threadCpu() + childrenCpu() + engine->renderWorkersCpuSeconds();
    Outcome out = engine->sanitize(s.bytes, s.name, mode);
    t.cpuMs = (threadCpu() + childrenCpu() + engine->renderWorkersCpuSeconds() - c0) * 1e3;
    t.wallMs = std::chrono::duration<double, std::milli>(Clock::now() - w0).count();
    if (out.report.verdict != Verdict::Sanitized) {
      ++blocked;
      std::cerr << s.name << ": " << modeName(mode) << " blocked " << out.report.reason << "\n";
    }
    return t;
  };

  // Each file runs `repeat` times. Throughput takes each file's median run (a fluke in either
  // direction does not count); the latency percentile takes every run, so the tail stays a tail.
  auto runs = [&](const Sample& s) {
    std::vector<Timing> all;
    for (int pass = 0; pass < repeat; ++pass) all.push_back(run(s, Mode::Rebuild));
    return all;
  };
  auto median = [](std::vector<Timing> all) {
    std::vector<double> w, c;
    for (const auto& t : all) w.push_back(t.wallMs), c.push_back(t.cpuMs);
    std::sort(w.begin(), w.end());
    std::sort(c.begin(), c.end());
    return Timing{w[w.size() / 2], c[c.size() / 2]};
  };
  auto best = [&](const Sample& s) { return median(runs(s)); };
  // The mix: MB/s over everything, files/s over the files of at most 2 MB (the target's class).
  double mixWall = 0, mixCpu = 0, smallWall = 0, smallCpu = 0;
  uint64_t mixBytes = 0;
  size_t smallCount = 0;
  for (const auto& s : samples) {
    Timing t = best(s);
    mixWall += t.wallMs;
    mixCpu += t.cpuMs;
    mixBytes += s.bytes.size();
    if (s.bytes.size() <= 2'000'000) {
      smallWall += t.wallMs;
      smallCpu += t.cpuMs;
      ++smallCount;
    }
  }
  // Latency at 10 MB.
  std::vector<double> largeWall, largeCpu;
  for (const auto& s : large) {
    for (const Timing& t : runs(s)) {
      if (verbose) std::printf("%s %zu bytes: wall %.1f ms, cpu %.1f ms\n", s.name.c_str(), s.bytes.size(), t.wallMs, t.cpuMs);
      largeWall.push_back(t.wallMs);
      largeCpu.push_back(t.cpuMs);
    }
  }
  // Image-PDF: pages per second, the render child's CPU included.
  uint32_t pages = 0;
  double imageWall = 0, imageCpu = 0;
  int done = 0;
  for (const auto& s : samples) {
    if (s.pages == 0 || done >= imagePdfFiles) continue;
    std::vector<Timing> all;
    for (int pass = 0; pass < repeat; ++pass) all.push_back(run(s, Mode::ImagePdf));
    const Timing t = median(std::move(all));
    pages += s.pages;
    imageWall += t.wallMs;
    imageCpu += t.cpuMs;
    ++done;
  }
  auto rate = [](double n, double ms) { return ms > 0 ? n / (ms / 1e3) : 0.0; };
  std::printf(
      "files %zu + %zu x 10 MB, %d runs each (median; p99 over every run), %d blocked, %.1f MB in "
      "the mix\n",
      samples.size(), large.size(), repeat, blocked, mixBytes / 1e6);
  std::printf(
      "wall clock (includes waiting for a CPU on a shared machine): rebuild %.1f files/s (<= 2 "
      "MB), "
      "%.1f MB/s, p99 %.1f ms at 10 MB; image-pdf %.2f pages/s\n",
      rate(smallCount, smallWall), rate(mixBytes / 1e6, mixWall), percentile(largeWall, 0.99),
      rate(pages, imageWall));
  std::printf("sanitize: rebuild %.1f files/s, %.1f MB/s, p99 %.1f ms; image-pdf %.2f pages/s\n",
              rate(smallCount, smallCpu), rate(mixBytes / 1e6, mixCpu), percentile(largeCpu, 0.99),
              rate(pages, imageCpu));
  return blocked == 0 ? 0 : 1;
}
