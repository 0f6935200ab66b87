// Audit benchmark: writes a month of a busy site's enforcement log (default 10 million events)
// through the real LogWriter, then times lbg-audit's verify, a selective query and the monthly
// report. Last line: `audit: verify <V> MB/s, query <Q> s, report <R> s`.
// Targets (issue): verify >= 200 MB/s, selective query < 5 s, monthly report < 60 s.
#include <boost/program_options.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "dataplane/telemetry/log/ed25519_key.h"
#include "dataplane/telemetry/log/time_format.h"
#include "dataplane/telemetry/log/verifier.h"
#include "tools/audit/measures.h"
#include "tools/audit/query.h"
#include "tools/audit/report.h"
#include "tools/audit/sample_log.h"

namespace po = boost::program_options;
using namespace lbg;
using Clock = std::chrono::steady_clock;

static double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// CPU seconds of this process (all threads): on a shared, loaded machine the wall clock says
// more about the neighbours than about us, so both are printed.
static double cpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char** argv) {
  uint64_t events = 10000000;
  std::string dir;
  bool keep = false;
  po::options_description o("audit_bench");
  o.add_options()("help,h", "help")("events", po::value(&events), "events to generate (default 10000000)")(
      "dir", po::value(&dir), "work directory (default: a fresh one under $TMPDIR)")(
      "keep", po::bool_switch(&keep), "keep the generated log");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, o), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << e.what() << "\n" << o;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << o;
    return 0;
  }
  namespace fs = std::filesystem;
  bool madeDir = dir.empty();
  if (madeDir) {
    std::string t = (fs::temp_directory_path() / "lbg-audit-bench-XXXXXX").string();
    if (::mkdtemp(t.data()) == nullptr) return 1;
    dir = t;
  }
  fs::create_directories(dir);
  audit::SampleLogOptions so;
  so.dir = dir + "/log";
  so.keyFile = dir + "/log.key";
  so.events = events;
  so.startNs = *telemetry::logfmt::parseRfc3339("2026-11-01T00:00:00+09:00");
  so.spanNs = 30LL * 86400 * 1000000000LL;
  fs::remove_all(so.dir);
  fs::remove(so.keyFile);
  fs::remove(so.keyFile + ".pub");

  auto t0 = Clock::now();
  auto written = audit::writeSampleLog(so);
  if (!written) {
    std::cerr << "generate: " << written.error().toString() << "\n";
    return 1;
  }
  std::printf("generated %llu records in %.1f s\n", (unsigned long long)*written, since(t0));
  auto key = telemetry::logfmt::VerifyKey::loadPem(so.keyFile + ".pub");
  if (!key) return 1;

  t0 = Clock::now();
  double c0 = cpuSeconds();
  auto vr = telemetry::logfmt::verifyLog(so.dir, *key);
  double tv = since(t0), cv = cpuSeconds() - c0;
  if (!vr.ok()) {
    std::cerr << "verify failed: " << vr.findings[0].toString() << "\n";
    return 1;
  }
  double mbps = double(vr.bytesScanned) / 1e6 / tv;
  std::printf("verify: %llu records, %.1f MB in %.2f s (%.2f s CPU)\n", (unsigned long long)vr.recordsScanned,
              double(vr.bytesScanned) / 1e6, tv, cv);

  audit::QueryFilter f;
  f.destIp = so.rareDest;
  f.fromNs = so.startNs;
  f.toNs = so.startNs + so.spanNs;
  uint64_t matched = 0;
  t0 = Clock::now();
  c0 = cpuSeconds();
  auto qr = audit::runQuery(so.dir, *key, f, [&](std::string_view, const telemetry::logfmt::RecordFields&) {
    ++matched;
    return true;
  });
  double tq = since(t0), cq = cpuSeconds() - c0;
  if (!qr) return 1;
  std::printf("query dest_ip=%s: %llu matches, %llu of %llu segments read, %.2f s (%.2f s CPU)\n",
              so.rareDest.c_str(), (unsigned long long)matched, (unsigned long long)qr->scanned,
              (unsigned long long)qr->segments, tq, cq);

  auto cat = audit::loadMeasures("");
  audit::ReportOptions ro;
  ro.fromNs = so.startNs;
  ro.toNs = so.startNs + so.spanNs;
  t0 = Clock::now();
  c0 = cpuSeconds();
  auto rep = audit::buildReport(so.dir, *key, ro);
  if (!rep) return 1;
  std::string html = audit::renderHtml(*rep, *cat);
  double tr = since(t0), cr = cpuSeconds() - c0;
  std::printf("report: %llu records, %zu bytes of HTML in %.2f s (%.2f s CPU)\n", (unsigned long long)rep->records,
              html.size(), tr, cr);

  if (!keep) fs::remove_all(madeDir ? dir : so.dir);
  std::printf("audit: verify %.0f MB/s, query %.2f s, report %.1f s\n", mbps, tq, tr);
  return 0;
}
