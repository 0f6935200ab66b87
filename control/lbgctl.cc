// lbgctl: the administrator's command line for lbg-gateway. A thin client: it turns arguments
// into one request of the control protocol (control/api.h) as the command table says
// (command_table.cc, lbgctl_parse.h), prints the answer, and exits with a code scripts can test.
// Every action is implemented once, in the daemon.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "control/api.h"
#include "control/appliance_ca.h"
#include "control/atomic_file.h"
#include "control/client.h"
#include "control/lbgctl_format.h"
#include "control/lbgctl_parse.h"
#include "control/lbgctl_stats.h"
#include "control/sha256.h"

namespace po = boost::program_options;
using nlohmann::json;

namespace lbg::control::cli {
namespace {

// Exit codes (documented in `lbgctl --help` and control/README.md).
enum Exit : int {
  kOk = 0,
  kFailed = 1,        // internal error on the server side
  kUsage = 2,         // bad command line
  kNoConnection = 3,  // cannot reach the control socket
  kForbidden = 4,
  kInvalid = 5,  // validation failed (policy, catalogue, arguments)
  kNotFound = 6,
  kConflict = 7,
  kUnavailable = 8,   // the dataplane did not take the change; nothing changed
  kDifferences = 10,  // policy diff / policy test found changes; service expiring found some
};

constexpr const char* kDefaultSocket = "/run/lbg/control.sock";

using Invocation = CliInvocation;

int exitFor(ErrorCode c) {
  switch (c) {
    case ErrorCode::Forbidden:
      return kForbidden;
    case ErrorCode::Invalid:
    case ErrorCode::UnknownCommand:
    case ErrorCode::TooLarge:
      return kInvalid;
    case ErrorCode::NotFound:
      return kNotFound;
    case ErrorCode::Conflict:
      return kConflict;
    case ErrorCode::Unavailable:
      return kUnavailable;
    case ErrorCode::Internal:
      break;
  }
  return kFailed;
}

std::string text(const json& j) {
  if (j.is_null()) return "-";
  if (j.is_string()) return j.get<std::string>();
  if (j.is_array()) {
    std::string out;
    for (const auto& x : j) out += (out.empty() ? "" : " ") + text(x);
    return out.empty() ? "-" : out;
  }
  return j.dump();
}

void printCaCert(const char* title, const json& c) {
  std::cout << title << "\n  subject:    " << text(c["subject"]) << "\n  sha256:     "
            << text(c["sha256"]) << "\n  valid:      " << text(c["not_before"]) << " .. "
            << text(c["not_after"]) << "\n  path:       " << text(c["path"]) << "\n";
}

// Human output; returns the exit code for "differences" style commands.
// `policy diff` found nothing: no setting, service or IDS rule changes.
bool diffEmpty(const json& r) {
  const json& d = r["diff"];
  return d["settings"].empty() && d["services"].empty() && !d.contains("ids");
}

int printHuman(const std::string& cmd, const json& r) {
  if (cmd.rfind("ca.", 0) == 0) {
    printCaCert("certificate / 証明書:", r["certificate"]);
    const json& k = r["key"];
    std::cout << "key / 秘密鍵:\n  path:       " << text(k["path"]) << " (mode " << text(k["mode"])
              << ", group " << text(k["group"]) << ")\n";
    if (!r["previous"].is_null()) printCaCert("previous / 旧証明書 (still to be trusted):", r["previous"]);
    for (const auto& w : r.value("warnings", json::array())) std::cerr << "warning: " << text(w) << "\n";
    return kOk;
  }
  if (cmd == "service.list") {
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : r["services"]) {
      rows.push_back({text(s["name"]), text(s["kind"]), text(s["ports"]), text(s["fqdn"]),
                      text(s["cidr"]), s.contains("ismap") ? text(s["ismap"]["expires"]) : "-"});
    }
    std::cout << table({"NAME", "KIND", "PORTS", "FQDN", "CIDR", "ISMAP-EXPIRES"}, rows);
  } else if (cmd == "service.expiring") {
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : r["services"]) {
      rows.push_back(
          {text(s["name"]), text(s["ismap_id"]), text(s["expires"]), text(s["days_left"])});
    }
    if (rows.empty()) {
      std::cout << "no ISMAP registration expires within " << r["days"]
                << " days / 期限切れ間近のサービスなし\n";
      return kOk;
    }
    std::cout << table({"SERVICE", "ISMAP", "EXPIRES", "DAYS-LEFT"}, rows);
    return kDifferences;
  } else if (cmd == "policy.history") {
    std::vector<std::vector<std::string>> rows;
    for (const auto& v : r["versions"]) {
      const bool run = r["running"] == v["version"];
      rows.push_back({(run ? "*" : " ") + text(v["version"]), text(v["state"]),
                      text(v["created_at"]), text(v["author"]),
                      v.contains("approver") ? text(v["approver"]) : "-", text(v["message"]),
                      text(v["sha256"]).substr(0, 12)});
    }
    std::cout << table({"VERSION", "STATE", "TIME", "AUTHOR", "APPROVER", "MESSAGE", "SHA256"},
                       rows);
    for (const auto& p : r["problems"]) std::cout << "problem: " << text(p) << "\n";
  } else if (cmd == "policy.show") {
    std::cout << "# version " << r["meta"]["version"] << " (" << text(r["meta"]["state"]) << ") by "
              << text(r["meta"]["author"]) << " sha256 " << text(r["meta"]["sha256"]) << "\n"
              << text(r["yaml"]);
  } else if (cmd == "policy.candidate") {
    std::cout << text(r["yaml"]);
  } else if (cmd == "policy.diff") {
    std::cout << text(r["text"]);
    return diffEmpty(r) ? kOk : kDifferences;
  } else if (cmd == "ids.load") {
    for (const auto& f : r["files"]) {
      std::cout << text(f["file"]) << ": " << f["loaded"] << " rules loaded, " << f["rejected"]
                << " rejected / 読込 " << f["loaded"] << "・除外 " << f["rejected"] << "\n";
      for (const auto& x : f["rejections"]) {
        std::cout << "  " << text(f["file"]) << ":" << x["line"] << ":" << x["column"] << ": "
                  << text(x["keyword"]) << ": " << text(x["message"]) << "\n";
      }
      std::cout << "  stored as " << text(f["stored"]) << "\n";
    }
    std::cout << "candidate changed; see `lbgctl policy diff` / 候補ポリシーを変更しました\n";
  } else if (cmd == "ids.test") {
    if (!r.value("enabled", false)) {
      std::cout << "the " << text(r["policy"]) << " policy has no ids: block / IDS未設定\n";
      return kOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : r["rows"]) {
      rows.push_back({text(a["sid"]), text(a["rev"]), text(a["action"]), text(a["count"]),
                      text(a["flow"]), text(a["msg"])});
    }
    std::cout << r["alerts"] << " alerts with the " << text(r["policy"]) << " policy"
              << (r["policy_version"].is_null() ? ""
                                                : " (version " + text(r["policy_version"]) + ")")
              << " / IDS検知数\n";
    if (!rows.empty()) std::cout << table({"SID", "REV", "ACTION", "COUNT", "FLOW", "MSG"}, rows);
    if (r.value("rows_truncated", false) || r.value("alerts_truncated", false))
      std::cout << "(truncated / 一部のみ表示)\n";
    return rows.empty() ? kOk : kDifferences;
  } else if (cmd == "policy.test") {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : r["changed"]) {
      rows.push_back({text(c["flow"]), text(c["name"]),
                      text(c["running"]["action"]) + " " + text(c["running"]["service"]),
                      text(c["candidate"]["action"]) + " " + text(c["candidate"]["service"])});
    }
    std::cout << r["flows"] << " flows, " << rows.size() << " would change / 判定が変わるフロー\n";
    if (!rows.empty()) std::cout << table({"FLOW", "NAME", "RUNNING", "CANDIDATE"}, rows);
    return rows.empty() ? kOk : kDifferences;
  } else if (cmd == "stats") {
    std::cout << renderStats(r);
  } else if (cmd == "ids.stats" && r.value("enabled", false)) {
    std::cout << r["rules"] << " rules, " << r["rules_checked"] << " verified, "
              << r["rules_matched"] << " matched; " << r["checks"] << " checks, " << r["matches"]
              << " matches, " << r["cycles"] << " cycles (policy version " << r["policy_version"]
              << ")\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : r["rules_by_cost"])
      rows.push_back({text(c["sid"]), text(c["checks"]), text(c["matches"]), text(c["cycles"]),
                      text(c["cycles_per_check"]), text(c["msg"])});
    std::cout << table({"SID", "CHECKS", "MATCHES", "CYCLES", "CYCLES/CHECK", "MSG"}, rows);
  } else if (cmd == "certs") {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : r["certs"]) {
      rows.push_back({text(c["id"]), text(c["server"]) + ":" + text(c["port"]), text(c["name"]),
                      text(c["verdict"]), text(c["check"]), text(c["issuer"]),
                      text(c["not_after"]).substr(0, 10), text(c["age_s"]) + "s",
                      c.value("expired", false) ? "expired" : text(c["expires_at"]).substr(0, 19)});
    }
    std::cout << table({"ID", "SERVER", "NAME", "VERDICT", "CHECK", "ISSUER", "NOT-AFTER", "AGE",
                        "REUSED-UNTIL"},
                       rows);
  } else if (cmd == "flows") {
    std::vector<std::vector<std::string>> rows;
    for (const auto& f : r["flows"]) {
      const auto get = [&](const char* k) { return f.contains(k) ? text(f[k]) : "-"; };
      std::string name = "-";
      if (f.contains("tls") && f["tls"].contains("sni")) name = text(f["tls"]["sni"]);
      if (f.contains("http") && f["http"].contains("hostname")) name = text(f["http"]["hostname"]);
      rows.push_back({get("proto"), get("src_ip") + ":" + get("src_port"),
                      get("dest_ip") + ":" + get("dest_port"), name, get("action"),
                      f.contains("policy") && f["policy"].contains("service")
                          ? text(f["policy"]["service"])
                          : "-"});
    }
    std::cout << table({"PROTO", "CLIENT", "SERVER", "NAME", "ACTION", "SERVICE"}, rows);
  } else if (cmd == "service.show") {
    for (auto it = r.begin(); it != r.end(); ++it)
      std::cout << it.key() << ": " << text(*it) << "\n";
  } else if (r.is_object()) {
    for (auto it = r.begin(); it != r.end(); ++it) {
      if (it.key() == "content") continue;
      std::cout << it.key() << ": " << text(*it) << "\n";
    }
  } else {
    std::cout << text(r) << "\n";
  }
  return kOk;
}

int run(int argc, char** argv) {
  // Shell completion (lbgctl.bash-completion): candidates for the word after the ones given.
  if (argc >= 2 && std::string_view(argv[1]) == "__complete") {
    for (const auto& w : completions(std::vector<std::string>(argv + 2, argv + argc)))
      std::cout << w << "\n";
    return kOk;
  }
  po::options_description global("options");
  std::string socketPath = kDefaultSocket;
  global.add_options()("socket", po::value(&socketPath), "control socket")(
      "json", "print the raw JSON result")("help,h", "this help");
  po::options_description hidden;
  hidden.add_options()("words", po::value<std::vector<std::string>>(), "");
  po::options_description all;
  all.add(global).add(hidden);
  po::positional_options_description pos;
  pos.add("words", -1);
  po::variables_map vm;
  Invocation inv;
  try {
    // Global options come first; everything from the command word on belongs to the command.
    auto parsed =
        po::command_line_parser(argc, argv).options(all).positional(pos).allow_unregistered().run();
    po::store(parsed, vm);
    po::notify(vm);
    if (vm.count("help") || !vm.count("words")) {
      std::cout << usageText();
      return vm.count("help") ? kOk : kUsage;
    }
    std::vector<std::string> words =
        po::collect_unrecognized(parsed.options, po::include_positional);
    inv = parseCommand(words);
  } catch (const UsageError& e) {
    std::cerr << "lbgctl: " << e.message << "\n";
    return kUsage;
  } catch (const po::error& e) {
    std::cerr << "lbgctl: " << e.what() << "\n";
    return kUsage;
  }
  const bool asJson = vm.count("json") > 0;

  int passFd = -1;
  if (!inv.passFile.empty()) {
    passFd = ::open(inv.passFile.c_str(), O_RDONLY | O_CLOEXEC);
    if (passFd < 0) {
      std::perror(inv.passFile.c_str());
      return kUsage;
    }
  }
  if (!inv.writeFile.empty() && !inv.force && ::access(inv.writeFile.c_str(), F_OK) == 0) {
    std::cerr << "lbgctl: " << inv.writeFile << " exists (use --force to overwrite)\n";
    return kUsage;
  }
  auto client = Client::connect(socketPath);
  if (!client) {
    std::cerr << "lbgctl: " << client.error().toString() << "\n";
    return kNoConnection;
  }
  auto resp = client->call(inv.request, passFd);
  if (passFd >= 0) ::close(passFd);
  if (!resp) {
    std::cerr << "lbgctl: " << resp.error().toString() << "\n";
    return kNoConnection;
  }
  if (!resp->ok) {
    if (asJson) {
      std::cout << encodeError(resp->error);
    } else {
      std::cerr << "lbgctl: " << toString(resp->error.code) << ": " << resp->error.error.toString()
                << "\n";
    }
    return exitFor(resp->error.code);
  }
  const json& r = resp->result;
  if (inv.request.cmd == "ca.show" && !inv.writeFile.empty()) {
    // The public certificate, DER for Windows' certutil / GPO import, written with the caller's
    // rights.
    auto der = certPemToDer(r["certificate"].value("pem", ""));
    if (!der) {
      std::cerr << "lbgctl: " << der.error().toString() << "\n";
      return kFailed;
    }
    if (auto w = writeFileAtomic(inv.writeFile, *der, 0644); !w) {
      std::cerr << "lbgctl: " << w.error().toString() << "\n";
      return kFailed;
    }
    std::cout << "wrote " << inv.writeFile << " (DER, sha256 "
              << text(r["certificate"]["sha256"]) << ")\n";
    return kOk;
  }
  if (inv.request.cmd == "ca.show" && inv.has("pem") && !asJson) {
    std::cout << text(r["certificate"]["pem"]);
    return kOk;
  }
  if (!inv.writeFile.empty()) {
    // The backup is written by the caller with the caller's rights, and checked against the
    // digest the server computed.
    const std::string content = r.value("content", "");
    if (sha256Hex(content) != r.value("sha256", "")) {
      std::cerr << "lbgctl: backup damaged in transit (hash mismatch)\n";
      return kFailed;
    }
    if (auto w = writeFileAtomic(inv.writeFile, content, 0600); !w) {
      std::cerr << "lbgctl: " << w.error().toString() << "\n";
      return kFailed;
    }
    if (!asJson) {
      std::cout << "wrote " << inv.writeFile << " (" << r["versions"] << " versions, sha256 "
                << text(r["sha256"]) << ")\n";
      return kOk;
    }
  }
  if (inv.request.cmd == "ha.health") {
    // keepalived's track script: the exit code is the answer (0: can enforce).
    if (asJson) {
      std::cout << r.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
      std::cout << (r.value("healthy", false) ? "healthy / 正常" : "unhealthy / 異常") << " ("
                << text(r["role"]) << ")\n";
      for (const auto& p : r.value("problems", json::array())) std::cout << "  " << text(p) << "\n";
    }
    return r.value("healthy", false) ? kOk : kFailed;
  }
  if (asJson) {
    json out = r;
    if (!inv.writeFile.empty()) out.erase("content");
    std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    if (inv.request.cmd == "policy.test") return r["changed"].empty() ? kOk : kDifferences;
    if (inv.request.cmd == "policy.diff") return diffEmpty(r) ? kOk : kDifferences;
    if (inv.request.cmd == "ids.test")
      return r.value("rows", json::array()).empty() ? kOk : kDifferences;
    if (inv.request.cmd == "service.expiring") return r["services"].empty() ? kOk : kDifferences;
    return kOk;
  }
  if (r.is_object() && r.contains("warnings")) {
    for (const auto& w : r["warnings"]) std::cerr << "warning: " << text(w) << "\n";
  }
  return printHuman(inv.request.cmd, r);
}

}  // namespace
}  // namespace lbg::control::cli

int main(int argc, char** argv) {
  return lbg::control::cli::run(argc, argv);
}
