#include "tools/audit/pdf.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

extern char** environ;

namespace lbg::audit {

Result<Ok> printPdf(const std::string& htmlPath, const std::string& pdfPath, const std::string& chromium,
                    int timeoutSeconds) {
  std::error_code ec;
  std::string absHtml = std::filesystem::absolute(htmlPath, ec).string();
  std::string tmpl = (std::filesystem::temp_directory_path() / "lbg-audit-chromium-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return Error{"cannot create a temporary profile directory"};
  std::string profile = tmpl;
  std::filesystem::remove(pdfPath, ec);
  std::vector<std::string> args = {chromium,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--no-pdf-header-footer",
                                   "--user-data-dir=" + profile,
                                   "--print-to-pdf=" + pdfPath,
                                   "file://" + absHtml};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  std::string logPath = profile + "/chromium.log";
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid;
  int rc = posix_spawnp(&pid, chromium.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    std::filesystem::remove_all(profile, ec);
    return Error{"cannot start " + chromium + ": " + std::strerror(rc) +
                 " (install Debian's chromium package)"};
  }
  int status = 0;
  bool done = false;
  for (int waited = 0; waited < timeoutSeconds * 10; ++waited) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      done = true;
      break;
    }
    timespec ts{0, 100000000};
    ::nanosleep(&ts, nullptr);
  }
  if (!done) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  std::string log;
  {
    std::ifstream in(logPath);
    std::getline(in, log, '\0');
  }
  std::filesystem::remove_all(profile, ec);
  if (!done) return Error{"chromium did not finish within " + std::to_string(timeoutSeconds) + " s"};
  std::ifstream pdf(pdfPath, std::ios::binary);
  char magic[5] = {};
  pdf.read(magic, 5);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || std::string(magic, 5) != "%PDF-")
    return Error{"chromium failed to print the PDF: " + log.substr(0, 600)};
  return Ok{};
}

}  // namespace lbg::audit
