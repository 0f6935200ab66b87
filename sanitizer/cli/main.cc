// lbg-sanitize: the CDR engine as a command (ファイル無害化コマンド).
//   lbg-sanitize IN... --out DIR [--mode rebuild|image-pdf|text] [--report FILE] [--quarantine DIR]
// Exit status: 0 every input sanitized, 1 at least one blocked (or not readable), 2 usage error.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "policy/base/result.h"
#include "sanitizer/cli/summary_table.h"
#include "sanitizer/core/engine.h"

namespace po = boost::program_options;
using namespace lbg::sanitizer;
using lbg::Error;
using lbg::Result;
using lbg::sanitizer::cli::renderTable;

namespace {

constexpr const char* kUsage =
    "使い方 / Usage: lbg-sanitize IN... --out DIR [--mode rebuild|image-pdf|text] [--report FILE] "
    "[--quarantine DIR]\n"
    "外部から取り込むファイルを無害化します (能動的な内容を除去して再構築)。\n"
    "Renders files from outside harmless: active content is removed and the file is rebuilt.\n"
    "終了コード / exit status: 0 全て無害化 all sanitized, 1 遮断あり some blocked, 2 使い方の誤り usage error\n";

// The error message is the report's reason for blocking the file.
Result<std::string> readFile(const std::string& path, uint64_t maxBytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"read-error"};
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size < 0) return Error{"read-error"};
  if (static_cast<uint64_t>(size) > maxBytes) return Error{"limit:input-size"};
  std::string out(static_cast<size_t>(size), '\0');
  in.read(out.data(), size);
  if (!in) return Error{"read-error"};
  return out;
}

bool writeFile(const std::string& path, const std::string& bytes) {
  std::string tmp = path + ".part";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

std::string baseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string extensionFor(const std::string& outputType) {
  if (outputType == "text" || outputType == "csv") return outputType == "csv" ? "csv" : "txt";
  if (outputType == "jpeg") return "jpg";
  return outputType;
}

// "report.docm" + "docx" -> "report.docx"; a taken name gets "-1", "-2", ...
std::string outputName(const std::string& input, const std::string& ext, std::set<std::string>& taken) {
  std::string stem = baseName(input);
  size_t dot = stem.find_last_of('.');
  if (dot != std::string::npos && dot > 0) stem.resize(dot);
  if (stem.empty() || stem == "." || stem == "..") stem = "file";
  std::string name = stem + "." + ext;
  for (int i = 1; taken.count(name); ++i) name = stem + "-" + std::to_string(i) + "." + ext;
  taken.insert(name);
  return name;
}

void progress(size_t done, size_t total, const std::string& name) {
  constexpr size_t kWidth = 30;
  size_t filled = total == 0 ? kWidth : done * kWidth / total;
  std::string shown = name.size() > 40 ? "..." + name.substr(name.size() - 37) : name;
  std::cerr << "\r[" << std::string(filled, '#') << std::string(kWidth - filled, '.') << "] " << done << "/" << total
            << " " << shown << "\033[K" << std::flush;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> inputs;
  std::string outDir, modeText = "rebuild", reportPath, quarantineDir;
  uint32_t imageThreads = EngineConfig{}.imageThreads;
  po::options_description visible("Options / オプション");
  visible.add_options()
      ("help,h", "show this help / ヘルプを表示")
      ("out,o", po::value(&outDir), "output directory (required) / 出力先ディレクトリ (必須)")
      ("mode,m", po::value(&modeText)->default_value("rebuild"),
       "rebuild (再構築) | image-pdf (画像PDF化) | text (テキストのみを抽出)")
      ("report,r", po::value(&reportPath), "JSON report file (an array, one object per input) / JSONレポート")
      ("quarantine,q", po::value(&quarantineDir), "keep originals here (0700) / 原本の隔離先")
      ("image-threads", po::value(&imageThreads)->default_value(imageThreads),
       "threads per PDF for its images (1-16) / PDF内の画像を処理するスレッド数 (1-16)");
  po::options_description hidden;
  hidden.add_options()("input", po::value(&inputs));
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description positional;
  positional.add("input", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "エラー / error: " << e.what() << "\n" << kUsage << visible;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << kUsage << visible;
    return 0;
  }
  if (inputs.empty() || outDir.empty()) {
    std::cerr << "エラー / error: 入力と --out が必要です / inputs and --out are required\n" << kUsage << visible;
    return 2;
  }
  Mode mode;
  if (modeText == "rebuild") {
    mode = Mode::Rebuild;
  } else if (modeText == "image-pdf") {
    mode = Mode::ImagePdf;
  } else if (modeText == "text") {
    mode = Mode::Text;
  } else {
    std::cerr << "エラー / error: --mode は rebuild, image-pdf, text のいずれか / --mode must be rebuild, image-pdf "
                 "or text\n";
    return 2;
  }
  struct stat st;
  if (::stat(outDir.c_str(), &st) != 0) {
    if (::mkdir(outDir.c_str(), 0755) != 0) {
      std::cerr << "エラー / error: 出力先を作成できません / cannot create " << outDir << "\n";
      return 2;
    }
  } else if (!S_ISDIR(st.st_mode)) {
    std::cerr << "エラー / error: --out はディレクトリではありません / --out is not a directory\n";
    return 2;
  }
  EngineConfig config;
  config.quarantineDir = quarantineDir;
  config.imageThreads = imageThreads;
  auto created = Engine::create(config);
  if (!created) {
    std::cerr << "エラー / error: " << created.error().toString() << "\n";
    return 2;
  }
  std::unique_ptr<Engine> engine = std::move(created).value();

  bool tty = ::isatty(STDERR_FILENO) && inputs.size() > 1;
  std::vector<std::vector<std::string>> rows = {
      {"ファイル File", "判定 Verdict", "種別 Type", "出力 Output", "理由・除去 Reason / removed"}};
  std::string reportJson = "[";
  std::set<std::string> taken;
  size_t blocked = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string& path = inputs[i];
    if (tty) progress(i, inputs.size(), baseName(path));
    Report report;
    std::string outName;
    auto bytes = readFile(path, config.maxInputBytes);
    if (!bytes) {
      report.fileName = baseName(path);
      report.mode = mode;
      report.verdict = Verdict::Blocked;
      report.reason = bytes.error().message;
      report.policyVersion = config.policyVersion;
    } else {
      Outcome outcome = engine->sanitize(bytes.value(), baseName(path), mode);
      report = std::move(outcome.report);
      if (report.verdict == Verdict::Sanitized) {
        outName = outputName(path, extensionFor(report.outputType), taken);
        if (!writeFile(outDir + "/" + outName, outcome.output)) {
          report.verdict = Verdict::Blocked;
          report.reason = "write-error";
          outName.clear();
        }
      }
    }
    if (report.verdict == Verdict::Blocked) ++blocked;
    reportJson += (i ? "," : "") + report.toJson();
    std::string detail = report.reason;
    for (const auto& item : report.removed) {
      if (!detail.empty()) detail += ", ";
      detail += item.kind + (item.count > 1 ? " x" + std::to_string(item.count) : "");
    }
    if (detail.size() > 80) detail = detail.substr(0, 77) + "...";
    rows.push_back({baseName(path),
                    report.verdict == Verdict::Sanitized ? "無害化 sanitized" : "遮断 blocked",
                    report.detectedType.empty() ? "-" : report.detectedType, outName.empty() ? "-" : outName,
                    detail.empty() ? "-" : detail});
  }
  if (tty) {
    progress(inputs.size(), inputs.size(), "");
    std::cerr << "\n";
  }
  reportJson += "]\n";
  if (!reportPath.empty() && !writeFile(reportPath, reportJson)) {
    std::cerr << "エラー / error: レポートを書けません / cannot write report " << reportPath << "\n";
    return 1;
  }
  std::cout << renderTable(rows);
  std::cout << "合計 total " << inputs.size() << ", 無害化 sanitized " << inputs.size() - blocked << ", 遮断 blocked "
            << blocked << "\n";
  return blocked == 0 ? 0 : 1;
}
