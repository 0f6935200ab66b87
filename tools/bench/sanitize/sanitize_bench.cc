// Benchmark of the CDR engine; see README.md. Prints one summary line last.

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "sanitizer/core/engine.h"
#include "tools/bench/sanitize/mix.h"

namespace {

using namespace lbg::sanitizer;
using Clock = std::chrono::steady_clock;
using lbg::bench::Sample;

// CPU seconds of this process (every thread: the engine's image threads work for the file being
// timed, and nothing else runs here meanwhile), and of reaped children (render sandboxes forked
// per file, and retired pool workers).
double processCpu() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}
double childrenCpu() {
  rusage ru{};
  getrusage(RUSAGE_CHILDREN, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

// Minor page faults of this process (not the render workers'): where a run's extra time is memory
// being faulted in, not work.
long minorFaults() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

struct Timing {
  double wallMs = 0, cpuMs = 0;
  double workerMs = 0;  // of cpuMs: the render workers' (and reaped children's) part
  long faults = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(v.size() * p))];
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;

  int files = 40, imagePdfFiles = 3, largeFiles = 6, warmupLarge = 2, repeat = 3;
  uint32_t imageThreads = EngineConfig{}.imageThreads;
  bool verbose = false;
  uint64_t seed = 1;
  std::string saveDir;
  po::options_description options("sanitize-bench");
  options.add_options()("help", "help")("files", po::value(&files)->default_value(40),
                                        "files of the mix (50 KB - 10 MB; formats in mix.cc's proportions)")(
      "large", po::value(&largeFiles)->default_value(6), "extra 10 MB files for the p99")(
      "warmup-large", po::value(&warmupLarge)->default_value(2),
      "10 MB files made after those (a PDF, a .docm, ...) run once, untimed, before the p99 runs: a "
      "long-running lbg-icapd has seen large files before")(
      "repeat", po::value(&repeat)->default_value(3), "runs per file: throughput takes each file's median run, the p99 every run")(
      "seed", po::value(&seed)->default_value(1), "generator seed")(
      "image-pdf-files", po::value(&imagePdfFiles)->default_value(3),
      "PDFs also run in image-PDF mode")("verbose", po::bool_switch(&verbose),
                                         "print every run of the 10 MB files (wall and CPU ms)")(
      "image-threads", po::value(&imageThreads)->default_value(imageThreads),
      "the engine's threads per PDF for its images (EngineConfig::imageThreads)")(
      "save", po::value(&saveDir),
      "also write the generated files into this (existing) directory, e.g. to profile one format with lbg-sanitize");
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
  // The per-file deadline is raised: on a loaded machine a legacy conversion (a LibreOffice start)
  // can take longer than the default 30 s of wall time, and a file blocked by the deadline would
  // measure the timeout, not the work.
  EngineConfig config;
  config.timeoutMs = 300000;
  config.imageThreads = imageThreads;
  auto created = Engine::create(config);
  if (!created) {
    std::cerr << created.error().toString() << "\n";
    return 1;
  }
  std::unique_ptr<Engine> engine = std::move(created).value();
  std::mt19937_64 rng(seed);
  std::vector<Sample> samples, large;
  std::string error;
  // The warm-up files are made after the measured ones, so those stay the same files.
  if (!lbg::bench::makeMix({files, largeFiles + warmupLarge}, rng, &samples, &large, &error)) {
    std::cerr << "sanitize-bench: " << error << "\n";
    return 1;
  }
  std::vector<Sample> warmup(large.begin() + largeFiles, large.end());
  large.resize(size_t(largeFiles));
  if (!saveDir.empty()) {
    for (const auto* set : {&samples, &large}) {
      for (const auto& s : *set) {
        std::ofstream(saveDir + "/" + s.name, std::ios::binary).write(s.bytes.data(), static_cast<std::streamsize>(s.bytes.size()));
      }
    }
  }
  int blocked = 0;
  auto run = [&](const Sample& s, Mode mode) {
    Timing t;
    auto w0 = Clock::now();
    // The pooled render workers' time counts too (live ones by their CPU clocks, reaped ones in
    // RUSAGE_CHILDREN): the file's cost is everything spent on it, in any process.
    const double own0 = processCpu(), others0 = childrenCpu() + engine->renderWorkersCpuSeconds();
    const long f0 = minorFaults();
    Outcome out = engine->sanitize(s.bytes, s.name, mode);
    t.workerMs = (childrenCpu() + engine->renderWorkersCpuSeconds() - others0) * 1e3;
    t.cpuMs = (processCpu() - own0) * 1e3 + t.workerMs;
    t.faults = minorFaults() - f0;
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
  struct PerFormat {
    int files = 0;
    double cpuMs = 0;
    uint64_t bytes = 0;
  };
  std::map<std::string, PerFormat> perFormat;
  for (const auto& s : samples) {
    Timing t = best(s);
    PerFormat& f = perFormat[s.format];
    ++f.files;
    f.cpuMs += t.cpuMs;
    f.bytes += s.bytes.size();
    mixWall += t.wallMs;
    mixCpu += t.cpuMs;
    mixBytes += s.bytes.size();
    if (s.bytes.size() <= 2'000'000) {
      smallWall += t.wallMs;
      smallCpu += t.cpuMs;
      ++smallCount;
    }
  }
  // Latency at 10 MB. A process's first large PDF and first large .docm cost 80-130 ms more
  // than any later one (its allocators and buffer pools grow to 10 MB documents once); an
  // lbg-icapd that has run for a while has paid that, so the warm-up files pay it here, untimed
  // for the p99 and printed on their own.
  std::string warmupLine = "warm-up (not in the p99):";
  for (const auto& s : warmup) {
    const Timing t = run(s, Mode::Rebuild);
    char item[160];
    std::snprintf(item, sizeof item, " %s CPU %.1f ms;", s.name.c_str(), t.cpuMs);
    warmupLine += item;
  }
  std::vector<double> largeWall, largeCpu;
  for (const auto& s : large) {
    for (const Timing& t : runs(s)) {
      if (verbose) {
        std::printf("%s %zu bytes: wall %.1f ms, cpu %.1f ms (render workers %.1f), %ld minor faults\n",
                    s.name.c_str(), s.bytes.size(), t.wallMs, t.cpuMs, t.workerMs, t.faults);
      }
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
  if (!warmup.empty()) {
    warmupLine.pop_back();
    std::printf("%s\n", warmupLine.c_str());
  }
  // Per format over every file of the mix (any size), CPU time, each file's median run.
  std::string breakdown = "per format (CPU):";
  for (const auto& [format, f] : perFormat) {
    char item[160];
    std::snprintf(item, sizeof item, " %s %d files %.1f files/s %.1f MB/s;", format.c_str(), f.files,
                  rate(f.files, f.cpuMs), rate(f.bytes / 1e6, f.cpuMs));
    breakdown += item;
  }
  if (!perFormat.empty()) breakdown.pop_back();
  std::printf("%s\n", breakdown.c_str());
  // The 10 MB latency both ways: what a user waits for (wall, with the file's images on
  // `imageThreads` threads) and what it costs (CPU of every thread and render worker).
  std::printf("p99 at 10 MB: wall %.1f ms (latency, %u image threads), CPU %.1f ms (all threads and workers)\n",
              percentile(largeWall, 0.99), imageThreads, percentile(largeCpu, 0.99));
  std::printf("sanitize: rebuild %.1f files/s, %.1f MB/s, p99 %.1f ms; image-pdf %.2f pages/s\n",
              rate(smallCount, smallCpu), rate(mixBytes / 1e6, mixCpu), percentile(largeCpu, 0.99),
              rate(pages, imageCpu));
  return blocked == 0 ? 0 : 1;
}
