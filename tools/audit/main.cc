// lbg-audit: offline verification, queries and J-LIS audit reports over lbg's enforcement log.
#include <boost/program_options.hpp>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "dataplane/telemetry/log/ed25519_key.h"
#include "dataplane/telemetry/log/time_format.h"
#include "dataplane/telemetry/log/verifier.h"
#include "tools/audit/measures.h"
#include "tools/audit/pdf.h"
#include "tools/audit/query.h"
#include "tools/audit/report.h"

namespace po = boost::program_options;
using namespace lbg;
using namespace lbg::telemetry::logfmt;

namespace {

// Exit codes: 0 ok; 1 the log is broken (verify); 2 usage; 3 cannot do the work.
constexpr int kBroken = 1, kUsage = 2, kFailed = 3;

constexpr const char* kUsageText =
    "lbg-audit — LGWAN ブレイクアウトゲートウェイのログ監査 / audit of the gateway's enforcement log\n"
    "\n"
    "使い方 / usage:\n"
    "  lbg-audit --dir LOGDIR --pubkey KEY.pub verify [--from T] [--to T] [--json]\n"
    "      チェーンと署名を検証し、最初の異常箇所（セグメント・レコード・理由）を示す。異常があれば終了コード 1。\n"
    "      checks chain and signatures; names the first broken place; exit code 1 on any break.\n"
    "  lbg-audit --dir LOGDIR --pubkey KEY.pub query [--from T] [--to T] [--type flow] [--src IP]\n"
    "      [--dst IP] [--ip IP] [--service NAME] [--action allow|deny] [--sni NAME] [--reason R]\n"
    "      [--measure AP-...] [--limit N]\n"
    "      条件に合うレコードを EVE 互換 JSON 行で出力 / prints matching records as EVE-compatible JSON lines.\n"
    "  lbg-audit --dir LOGDIR --pubkey KEY.pub report --from T --to T --format html|csv|json|pdf\n"
    "      [--lang ja|en] [--tz +09:00] --out FILE\n"
    "      J-LIS 向け監査報告書（既定は日本語）/ J-LIS-oriented audit report (Japanese by default).\n"
    "  lbg-audit keygen --out KEY   Ed25519 鍵の作成 (KEY と KEY.pub) / creates KEY and KEY.pub\n"
    "\n"
    "冗長構成 / HA pair: --dir と --pubkey を装置ごとに繰り返す（--pubkey が1つなら全ログ共通）。\n"
    "   各装置のハッシュチェーンを個別に検証し、装置ごとの結果を示す。query と report は全装置の\n"
    "   レコードを時刻順に統合する。\n"
    "   repeat --dir and --pubkey per box (one --pubkey: the same for every log); each box's hash\n"
    "   chain is verified on its own and reported per box; query and report merge the boxes'\n"
    "   records by time.\n"
    "\n"
    "T: RFC 3339 (2026-11-23T09:00:00+09:00) または日付 (2026-11-23、--tz の現地日付)。\n"
    "   --to は含まない終端。日付のみの --to はその日の終わりまでを含む。\n"
    "   RFC 3339 time or a date (a local date in --tz); --to is exclusive, a date --to includes that day.\n";

std::optional<int64_t> parseTime(const std::string& text, int tz, bool isEnd) {
  if (text.size() == 10) {
    auto t = parseRfc3339(text);
    if (!t) return std::nullopt;
    int64_t v = *t - int64_t(tz) * 60 * 1000000000LL;
    return isEnd ? v + 86400LL * 1000000000LL : v;
  }
  return parseRfc3339(text);
}

int64_t nowNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

struct Common {
  std::vector<std::string> dirs, pubkeys;  // one per box (an HA pair: two); one key may serve all
  std::string from, to, tz = "+09:00";
};

po::options_description commonOptions(Common& c) {
  po::options_description o("共通 / common");
  o.add_options()("dir", po::value(&c.dirs)->composing(),
                  "ログディレクトリ（装置ごとに繰り返し可）/ log directory (repeat per box)")(
      "pubkey", po::value(&c.pubkeys)->composing(),
      "ログ公開鍵 (PEM)、--dir ごとまたは共通 / the log public key (PEM), per --dir or one for all")(
      "from", po::value(&c.from), "開始 / start (RFC 3339 or date)")(
      "to", po::value(&c.to), "終了 / end (exclusive; a date includes that day)")(
      "tz", po::value(&c.tz), "表示の UTC オフセット / UTC offset for dates and display (default +09:00)");
  return o;
}

struct Loaded {
  std::vector<audit::LogSource> logs;  // in the order of --dir
  int tz = 540;
  int64_t from = std::numeric_limits<int64_t>::min();
  int64_t to = std::numeric_limits<int64_t>::max();
};

int load(const Common& c, Loaded& out, bool needRange) {
  if (c.dirs.empty() || c.pubkeys.empty()) {
    std::cerr << "lbg-audit: --dir と --pubkey が必要です / --dir and --pubkey are required\n";
    return kUsage;
  }
  if (c.pubkeys.size() != 1 && c.pubkeys.size() != c.dirs.size()) {
    std::cerr << "lbg-audit: --pubkey は1つか --dir と同数 / give one --pubkey, or one per --dir\n";
    return kUsage;
  }
  auto tz = parseUtcOffset(c.tz);
  if (!tz) {
    std::cerr << "lbg-audit: --tz は +09:00 の形式で / --tz must look like +09:00: " << c.tz << "\n";
    return kUsage;
  }
  out.tz = *tz;
  for (size_t i = 0; i < c.dirs.size(); ++i) {
    const std::string& path = c.pubkeys[c.pubkeys.size() == 1 ? 0 : i];
    auto key = VerifyKey::loadPem(path);
    if (!key) {
      std::cerr << "lbg-audit: 公開鍵を読めません / cannot load the public key: " << key.error().toString() << "\n";
      return kFailed;
    }
    out.logs.push_back({c.dirs[i], *key});
  }
  if (!c.from.empty()) {
    auto t = parseTime(c.from, out.tz, false);
    if (!t) {
      std::cerr << "lbg-audit: --from が不正 / bad --from: " << c.from << "\n";
      return kUsage;
    }
    out.from = *t;
  }
  if (!c.to.empty()) {
    auto t = parseTime(c.to, out.tz, true);
    if (!t) {
      std::cerr << "lbg-audit: --to が不正 / bad --to: " << c.to << "\n";
      return kUsage;
    }
    out.to = *t;
  }
  if (needRange && (c.from.empty() || c.to.empty())) {
    std::cerr << "lbg-audit: --from と --to が必要です / --from and --to are required\n";
    return kUsage;
  }
  if (out.to <= out.from) {
    std::cerr << "lbg-audit: --to は --from より後に / --to must be after --from\n";
    return kUsage;
  }
  return 0;
}

int cmdVerify(const std::vector<std::string>& args, Common& c) {
  bool json = false;
  po::options_description o = commonOptions(c);
  o.add_options()("json", po::bool_switch(&json), "結果を JSON で / result as JSON");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(o).run(), vm);
  po::notify(vm);
  Loaded l;
  if (int rc = load(c, l, false)) return rc;
  VerifyOptions vo;
  vo.fromNs = l.from;
  vo.toNs = l.to;
  // Each box's log has its own hash chain and key: verified one by one, reported per box.
  std::vector<VerifyResult> results;
  bool allOk = true;
  for (const auto& log : l.logs) {
    results.push_back(verifyLog(log.dir, log.key, vo));
    allOk = allOk && results.back().ok();
  }
  auto toJson = [](const VerifyResult& r) {
    nlohmann::json j = {{"ok", r.ok()},
                        {"appliance", r.appliance},
                        {"key_id", r.keyId},
                        {"segments", r.segments.size()},
                        {"records_verified", r.recordsScanned},
                        {"bytes_verified", r.bytesScanned},
                        {"notes", r.notes},
                        {"findings", nlohmann::json::array()}};
    for (const auto& f : r.findings)
      j["findings"].push_back({{"segment", f.segment},
                               {"file", f.file},
                               {"record", f.record},
                               {"seq", f.seq},
                               {"offset", f.offset},
                               {"reason", f.reason}});
    return j;
  };
  if (json) {
    if (results.size() == 1) {
      std::cout << toJson(results[0]).dump(2) << "\n";
    } else {
      nlohmann::json j = {{"ok", allOk}, {"logs", nlohmann::json::array()}};
      for (size_t i = 0; i < results.size(); ++i) {
        nlohmann::json one = toJson(results[i]);
        one["dir"] = l.logs[i].dir;
        j["logs"].push_back(one);
      }
      std::cout << j.dump(2) << "\n";
    }
    return allOk ? 0 : kBroken;
  }
  for (size_t i = 0; i < results.size(); ++i) {
    const VerifyResult& r = results[i];
    if (results.size() > 1) std::cout << (i ? "\n" : "") << "== " << l.logs[i].dir << "\n";
    std::cout << "appliance " << r.appliance << ", key " << r.keyId << ": " << r.segments.size()
              << " segments, " << r.recordsScanned << " records (" << r.bytesScanned << " bytes) hashed\n";
    for (const auto& n : r.notes) std::cout << "note: " << n << "\n";
    for (const auto& rs : r.retained)
      std::cout << "retention: segment " << rs.segment << " (seq " << rs.firstSeq << ".." << rs.lastSeq
                << ") deleted by retention (" << rs.reason << ")\n";
    if (r.ok()) {
      std::cout << "OK: 改ざん・欠落なし / no alteration or gap found\n";
    } else {
      std::cout << "BROKEN: 最初の異常箇所 / first broken place: " << r.findings[0].toString() << "\n";
      for (size_t k = 1; k < r.findings.size(); ++k) std::cout << "  also: " << r.findings[k].toString() << "\n";
    }
  }
  if (results.size() > 1) {
    std::cout << "\n装置ごとのチェーン / each box's chain:\n";
    for (size_t i = 0; i < results.size(); ++i)
      std::cout << "  " << (results[i].appliance.empty() ? "?" : results[i].appliance) << " ("
                << l.logs[i].dir << "): "
                << (results[i].ok() ? "OK" : "BROKEN") << "\n";
  }
  return allOk ? 0 : kBroken;
}

int cmdQuery(const std::vector<std::string>& args, Common& c) {
  audit::QueryFilter f;
  bool stats = false;
  po::options_description o = commonOptions(c);
  o.add_options()("type", po::value(&f.eventType), "event_type")("src", po::value(&f.srcIp), "src_ip")(
      "dst", po::value(&f.destIp), "dest_ip")("ip", po::value(&f.anyIp), "src_ip or dest_ip")(
      "service", po::value(&f.service), "policy.service")("action", po::value(&f.action), "allow | deny")(
      "sni", po::value(&f.sni), "tls.sni or http.hostname")("reason", po::value(&f.reason), "reason")(
      "measure", po::value(&f.measure), "measure id")("limit", po::value(&f.limit), "at most N records")(
      "stats", po::bool_switch(&stats), "統計を標準エラーへ / statistics to stderr");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(o).run(), vm);
  po::notify(vm);
  Loaded l;
  if (int rc = load(c, l, false)) return rc;
  f.fromNs = l.from;
  f.toNs = l.to == std::numeric_limits<int64_t>::max() ? l.to : l.to - 1;
  for (char& ch : f.sni) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  std::string out;
  auto printStats = [](const audit::QueryStats& q, const std::string& dir) {
    std::cerr << dir << ": segments " << q.segments << ", skipped by time " << q.skippedByTime
              << ", by index " << q.skippedByIndex << ", scanned " << q.scanned << ", untrusted indexes "
              << q.untrustedIndexes << ", records read " << q.records << ", matched " << q.matched << "\n";
  };
  if (l.logs.size() == 1) {
    auto r = audit::runQuery(l.logs[0].dir, l.logs[0].key, f, [&](std::string_view line, const RecordFields&) {
      out.append(line);
      out.push_back('\n');
      if (out.size() > (1 << 20)) {
        std::fwrite(out.data(), 1, out.size(), stdout);
        out.clear();
      }
      return true;
    });
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    if (!r) {
      std::cerr << "lbg-audit: " << r.error().toString() << "\n";
      return kFailed;
    }
    if (stats) printStats(*r, l.logs[0].dir);
    return 0;
  }
  // Several boxes: each box's matches, then all of them in time order (a stable sort: one box's
  // equal times keep log order). The matches are held in memory: narrow with --from/--to.
  std::vector<std::pair<int64_t, std::string>> matched;
  for (const auto& log : l.logs) {
    auto r = audit::runQuery(log.dir, log.key, f, [&](std::string_view line, const RecordFields& rf) {
      matched.emplace_back(rf.timeNs, std::string(line));
      return true;
    });
    if (!r) {
      std::cerr << "lbg-audit: " << r.error().toString() << "\n";
      return kFailed;
    }
    if (stats) printStats(*r, log.dir);
  }
  std::stable_sort(matched.begin(), matched.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  if (f.limit != 0 && matched.size() > f.limit) matched.resize(f.limit);
  for (const auto& [t, line] : matched) {
    out.append(line);
    out.push_back('\n');
    if (out.size() > (1 << 20)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return 0;
}

int cmdReport(const std::vector<std::string>& args, Common& c) {
  std::string format, lang = "ja", out, measuresPath, generatedAt, chromium = "chromium";
  po::options_description o = commonOptions(c);
  o.add_options()("format", po::value(&format), "html | csv | json | pdf")(
      "lang", po::value(&lang), "ja (既定 / default) | en")("out", po::value(&out), "出力ファイル / output file")(
      "measures", po::value(&measuresPath), "α′ 対策カタログ / measure catalogue YAML (default: built in)")(
      "generated-at", po::value(&generatedAt), "作成日時を固定 / fix the generation time (RFC 3339)")(
      "chromium", po::value(&chromium), "PDF 用 Chromium / chromium binary for --format pdf");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(o).run(), vm);
  po::notify(vm);
  if (format != "html" && format != "csv" && format != "json" && format != "pdf") {
    std::cerr << "lbg-audit: --format は html|csv|json|pdf / --format must be html|csv|json|pdf\n";
    return kUsage;
  }
  if (lang != "ja" && lang != "en") {
    std::cerr << "lbg-audit: --lang は ja|en / --lang must be ja or en\n";
    return kUsage;
  }
  if (out.empty()) {
    std::cerr << "lbg-audit: --out が必要です / --out is required\n";
    return kUsage;
  }
  Loaded l;
  if (int rc = load(c, l, true)) return rc;
  auto cat = audit::loadMeasures(measuresPath);
  if (!cat) {
    std::cerr << "lbg-audit: " << cat.error().toString() << "\n";
    return kFailed;
  }
  audit::ReportOptions ro;
  ro.fromNs = l.from;
  ro.toNs = l.to;
  ro.tzMinutes = l.tz;
  ro.lang = lang;
  ro.generatedNs = nowNs();
  if (!generatedAt.empty()) {
    auto t = parseRfc3339(generatedAt);
    if (!t) {
      std::cerr << "lbg-audit: --generated-at が不正 / bad --generated-at\n";
      return kUsage;
    }
    ro.generatedNs = *t;
  }
  auto data = audit::buildReport(l.logs, ro);
  if (!data) {
    std::cerr << "lbg-audit: " << data.error().toString() << "\n";
    return kFailed;
  }
  std::string text = format == "csv"    ? audit::renderCsv(*data, *cat)
                     : format == "json" ? audit::renderJson(*data, *cat)
                                        : audit::renderHtml(*data, *cat);
  std::string htmlPath = format == "pdf" ? out + ".html" : out;
  {
    std::ofstream f(htmlPath, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f) {
      std::cerr << "lbg-audit: 書き込めません / cannot write " << htmlPath << "\n";
      return kFailed;
    }
  }
  if (format == "pdf") {
    auto r = audit::printPdf(htmlPath, out, chromium);
    std::error_code ec;
    std::filesystem::remove(htmlPath, ec);
    if (!r) {
      std::cerr << "lbg-audit: " << r.error().toString() << "\n";
      return kFailed;
    }
  }
  // The report states the integrity result; the exit code says it too, for scripts.
  return data->integrityOk ? 0 : kBroken;
}

int cmdKeygen(const std::vector<std::string>& args) {
  std::string out;
  po::options_description o("keygen");
  o.add_options()("out", po::value(&out), "秘密鍵の出力先 / private key path (KEY.pub beside it)");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(o).run(), vm);
  po::notify(vm);
  if (out.empty()) {
    std::cerr << "lbg-audit: --out が必要です / --out is required\n";
    return kUsage;
  }
  if (::access(out.c_str(), F_OK) == 0) {
    std::cerr << "lbg-audit: 既に存在します（上書きしません）/ exists, not overwritten: " << out << "\n";
    return kFailed;
  }
  auto k = SigningKey::generate();
  if (!k) return kFailed;
  auto w = k->writePem(out);
  if (!w) {
    std::cerr << "lbg-audit: " << w.error().toString() << "\n";
    return kFailed;
  }
  std::cout << "key id " << k->keyId() << ": " << out << " (0600), " << out << ".pub\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Common c;
    std::string command;
    po::options_description global = commonOptions(c);
    global.add_options()("help,h", "help")("command", po::value(&command))(
        "args", po::value<std::vector<std::string>>());
    po::positional_options_description pos;
    pos.add("command", 1).add("args", -1);
    po::parsed_options parsed =
        po::command_line_parser(argc, argv).options(global).positional(pos).allow_unregistered().run();
    po::variables_map vm;
    po::store(parsed, vm);
    po::notify(vm);
    if (vm.count("help") || command.empty()) {
      std::cout << kUsageText;
      return command.empty() && !vm.count("help") ? kUsage : 0;
    }
    std::vector<std::string> rest = po::collect_unrecognized(parsed.options, po::include_positional);
    rest.erase(rest.begin());  // the command itself
    if (command == "verify") return cmdVerify(rest, c);
    if (command == "query") return cmdQuery(rest, c);
    if (command == "report") return cmdReport(rest, c);
    if (command == "keygen") return cmdKeygen(rest);
    std::cerr << "lbg-audit: 不明なコマンド / unknown command: " << command << "\n" << kUsageText;
    return kUsage;
  } catch (const po::error& e) {
    std::cerr << "lbg-audit: " << e.what() << "\n\n" << kUsageText;
    return kUsage;
  } catch (const std::exception& e) {
    std::cerr << "lbg-audit: " << e.what() << "\n";
    return kFailed;
  }
}
