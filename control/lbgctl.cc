// lbgctl: the administrator's command line for lbg-gateway. A thin client: it turns arguments
// into one request of the control protocol (control/api.h), prints the answer, and exits with a
// code scripts can test. Every action is implemented once, in the daemon.

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
#include "control/atomic_file.h"
#include "control/client.h"
#include "control/lbgctl_format.h"
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
constexpr size_t kMaxInputFile = 64u << 20;

constexpr const char* kUsageText = R"(usage: lbgctl [--socket PATH] [--json] COMMAND ...

  status | stats | flows [--limit N] [--filter FIELD=VALUE ...] | reload | whoami
  service list [--running] | show NAME [--running] | remove NAME
  service add NAME [--kind K] [--fqdn F ...] [--cidr C ...] [--port P ...]
                   [--ismap-id ID --ismap-expires YYYY-MM-DD] [--intercept] [--description TEXT]
  service edit NAME [--add-fqdn F] [--remove-fqdn F] [--add-cidr C] [--remove-cidr C]
                    [--add-port P] [--remove-port P] [--kind K] [--description TEXT]
                    [--ismap-id ID] [--ismap-expires DATE] [--intercept true|false]
  service import-m365 FILE [--areas A,B] [--categories C,D] [--required-only]
                    --ismap-id ID --ismap-expires DATE
  service import-asp FILE
  service expiring [--days N]
  policy candidate | load FILE | discard | diff | validate | test --pcap CAPTURE
  policy commit -m MESSAGE | approve N | reject N [--reason TEXT]
  policy history | show N | rollback N [-m MESSAGE]
  backup FILE [--force] | restore FILE

Exit codes / 終了コード: 0 ok; 1 server error; 2 usage; 3 cannot connect; 4 forbidden (権限なし);
  5 invalid (検証エラー); 6 not found; 7 conflict; 8 dataplane unavailable (変更なし);
  10 differences found (policy diff/test) or services expiring.

Roles / ロール: admin edits and commits, approver approves, operator watches, auditor reads history.
)";

struct UsageError {
  std::string message;
};

std::vector<std::string> splitComma(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string readInput(const std::string& path) {
  auto r = readFileLimited(path, kMaxInputFile);
  if (!r) throw UsageError{r.error().toString()};
  return *r;
}

uint64_t versionArg(const std::vector<std::string>& pos, size_t i) {
  if (pos.size() <= i) throw UsageError{"missing version number"};
  const std::string& s = pos[i];
  if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos) {
    throw UsageError{"not a version number: " + s};
  }
  return std::stoull(s);
}

const std::string& nameArg(const std::vector<std::string>& pos, size_t i, const char* what) {
  if (pos.size() <= i) throw UsageError{std::string("missing ") + what};
  return pos[i];
}

// A parsed invocation: the request, plus what the client itself must do around it.
struct Invocation {
  Request request;
  std::string passFile;   // opened here and passed as a descriptor (policy test --pcap)
  std::string writeFile;  // backup target
  bool force = false;
};

Invocation parseCommand(const std::vector<std::string>& words) {
  if (words.empty()) throw UsageError{"missing command"};
  std::string cmd = words[0];
  std::vector<std::string> rest(words.begin() + 1, words.end());
  if ((cmd == "service" || cmd == "policy") && !rest.empty()) {
    cmd += "." + rest[0];
    rest.erase(rest.begin());
  }
  if (!findCommand(cmd)) throw UsageError{"unknown command: " + cmd};

  po::options_description o;
  std::vector<std::string> fqdn, cidr, port, addFqdn, removeFqdn, addCidr, removeCidr, addPort,
      removePort, filter;
  std::string kind, ismapId, ismapExpires, description, message, reason, areas, categories, pcap,
      intercept;
  uint64_t days = 30, limit = 100;
  o.add_options()("positional", po::value<std::vector<std::string>>(), "")(
      "fqdn", po::value(&fqdn))("cidr", po::value(&cidr))("port", po::value(&port))(
      "add-fqdn", po::value(&addFqdn))("remove-fqdn", po::value(&removeFqdn))(
      "add-cidr", po::value(&addCidr))("remove-cidr", po::value(&removeCidr))(
      "add-port", po::value(&addPort))("remove-port", po::value(&removePort))(
      "kind", po::value(&kind))("ismap-id", po::value(&ismapId))(
      "ismap-expires", po::value(&ismapExpires))("description", po::value(&description))(
      "message,m", po::value(&message))("reason", po::value(&reason))("areas", po::value(&areas))(
      "categories", po::value(&categories))("required-only", "")("pcap", po::value(&pcap))(
      "days", po::value(&days))("limit", po::value(&limit))("filter", po::value(&filter))(
      "running", "")("force", "")("intercept", po::value(&intercept)->implicit_value("true"));
  po::positional_options_description p;
  p.add("positional", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(rest).options(o).positional(p).run(), vm);
  po::notify(vm);
  const auto pos = vm.count("positional") ? vm["positional"].as<std::vector<std::string>>()
                                          : std::vector<std::string>{};

  // Reject options that do not belong to the command, so a typo is not silently ignored.
  const auto allow = [&](std::initializer_list<const char*> names, size_t maxPositional) {
    for (const auto& [key, value] : vm) {
      if (key == "positional") continue;
      bool ok = false;
      for (const char* n : names) ok |= key == n;
      if (!ok) throw UsageError{"option --" + key + " does not apply to " + cmd};
    }
    if (pos.size() > maxPositional) throw UsageError{"unexpected argument: " + pos[maxPositional]};
  };

  Invocation inv;
  inv.request.cmd = cmd;
  json& a = inv.request.args;
  const bool running = vm.count("running") > 0;
  if (cmd == "service.list") {
    allow({"running"}, 0);
    if (running) a["policy"] = "running";
  } else if (cmd == "service.show" || cmd == "service.remove") {
    allow({"running"}, 1);
    a["name"] = nameArg(pos, 0, "service name");
    if (running && cmd == "service.show") a["policy"] = "running";
  } else if (cmd == "service.add") {
    allow({"kind", "fqdn", "cidr", "port", "ismap-id", "ismap-expires", "intercept", "description"},
          1);
    a["name"] = nameArg(pos, 0, "service name");
    a["kind"] = kind.empty() ? "cloud" : kind;
    if (!fqdn.empty()) a["fqdn"] = fqdn;
    if (!cidr.empty()) a["cidr"] = cidr;
    a["ports"] = port;
    if (!ismapId.empty()) a["ismap_id"] = ismapId;
    if (!ismapExpires.empty()) a["ismap_expires"] = ismapExpires;
    if (!description.empty()) a["description"] = description;
    if (vm.count("intercept")) a["intercept"] = intercept == "true";
  } else if (cmd == "service.edit") {
    allow({"add-fqdn", "remove-fqdn", "add-cidr", "remove-cidr", "add-port", "remove-port", "kind",
           "description", "ismap-id", "ismap-expires", "intercept"},
          1);
    a["name"] = nameArg(pos, 0, "service name");
    for (auto [key, v] :
         {std::pair{"add_fqdn", &addFqdn}, std::pair{"remove_fqdn", &removeFqdn},
          std::pair{"add_cidr", &addCidr}, std::pair{"remove_cidr", &removeCidr},
          std::pair{"add_ports", &addPort}, std::pair{"remove_ports", &removePort}}) {
      if (!v->empty()) a[key] = *v;
    }
    if (vm.count("kind")) a["kind"] = kind;
    if (vm.count("description")) a["description"] = description;
    if (vm.count("ismap-id")) a["ismap_id"] = ismapId;
    if (vm.count("ismap-expires")) a["ismap_expires"] = ismapExpires;
    if (vm.count("intercept")) {
      if (intercept != "true" && intercept != "false")
        throw UsageError{"--intercept takes true or false"};
      a["intercept"] = intercept == "true";
    }
    if (a.size() == 1) throw UsageError{"nothing to change"};
  } else if (cmd == "service.import-m365") {
    allow({"areas", "categories", "required-only", "ismap-id", "ismap-expires"}, 1);
    const std::string& file = nameArg(pos, 0, "endpoint list file");
    a["content"] = readInput(file);
    a["file"] = file;
    a["areas"] = splitComma(areas);
    a["categories"] = splitComma(categories);
    a["required_only"] = vm.count("required-only") > 0;
    if (!ismapId.empty()) a["ismap_id"] = ismapId;
    if (!ismapExpires.empty()) a["ismap_expires"] = ismapExpires;
  } else if (cmd == "service.import-asp" || cmd == "policy.load") {
    allow({}, 1);
    const std::string& file = nameArg(pos, 0, "file");
    a["content"] = readInput(file);
    a["file"] = file;
  } else if (cmd == "service.expiring") {
    allow({"days"}, 0);
    a["days"] = days;
  } else if (cmd == "policy.test") {
    allow({"pcap"}, 0);
    if (pcap.empty()) throw UsageError{"policy test needs --pcap CAPTURE"};
    inv.passFile = pcap;
  } else if (cmd == "policy.commit") {
    allow({"message"}, 0);
    if (message.empty()) throw UsageError{"policy commit needs -m MESSAGE"};
    a["message"] = message;
  } else if (cmd == "policy.approve" || cmd == "policy.show") {
    allow({}, 1);
    a["version"] = versionArg(pos, 0);
  } else if (cmd == "policy.reject") {
    allow({"reason"}, 1);
    a["version"] = versionArg(pos, 0);
    a["reason"] = reason;
  } else if (cmd == "policy.rollback") {
    allow({"message"}, 1);
    a["version"] = versionArg(pos, 0);
    if (!message.empty()) a["message"] = message;
  } else if (cmd == "flows") {
    allow({"limit", "filter"}, 0);
    a["limit"] = limit;
    for (const auto& f : filter) {
      const auto eq = f.find('=');
      if (eq == std::string::npos || eq == 0)
        throw UsageError{"--filter takes FIELD=VALUE, e.g. policy.service=m365"};
      a["filter"][f.substr(0, eq)] = f.substr(eq + 1);
    }
  } else if (cmd == "backup") {
    allow({"force"}, 1);
    inv.writeFile = nameArg(pos, 0, "backup file");
    inv.force = vm.count("force") > 0;
  } else if (cmd == "restore") {
    allow({}, 1);
    a["content"] = readInput(nameArg(pos, 0, "backup file"));
  } else {
    allow({}, 0);
  }
  return inv;
}

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

// Human output; returns the exit code for "differences" style commands.
int printHuman(const std::string& cmd, const json& r) {
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
    return r["diff"]["settings"].empty() && r["diff"]["services"].empty() ? kOk : kDifferences;
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
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : r["counters"])
      rows.push_back({text(c["name"]), text(c["value"]), text(c["help"])});
    std::cout << table({"COUNTER", "VALUE", "HELP"}, rows);
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
      std::cout << kUsageText;
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
  if (asJson) {
    json out = r;
    if (!inv.writeFile.empty()) out.erase("content");
    std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    if (inv.request.cmd == "policy.test") return r["changed"].empty() ? kOk : kDifferences;
    if (inv.request.cmd == "policy.diff") {
      return r["diff"]["settings"].empty() && r["diff"]["services"].empty() ? kOk : kDifferences;
    }
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
