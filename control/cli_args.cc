#include "control/cli_args.h"

#include <utility>

#include "control/atomic_file.h"

namespace lbg::control {

namespace {

using nlohmann::json;

constexpr size_t kMaxInputFile = 64u << 20;

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

}  // namespace

std::string CliInvocation::text(const std::string& name, const std::string& fallback) const {
  auto it = options.find(name);
  return it == options.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> CliInvocation::list(const std::string& name) const {
  auto it = options.find(name);
  return it == options.end() ? std::vector<std::string>{} : it->second;
}

uint64_t CliInvocation::number(const std::string& name, uint64_t fallback) const {
  const std::string t = text(name);
  return t.empty() ? fallback : std::stoull(t);  // checked as unsigned by the option parser
}

namespace cli {

void noArgs(CliInvocation&) {}

void serviceList(CliInvocation& inv) {
  if (inv.has("running")) inv.request.args["policy"] = "running";
}

void serviceShow(CliInvocation& inv) {
  inv.request.args["name"] = nameArg(inv.positional, 0, "service name");
  if (inv.has("running")) inv.request.args["policy"] = "running";
}

void serviceRemove(CliInvocation& inv) {
  inv.request.args["name"] = nameArg(inv.positional, 0, "service name");
}

void serviceAdd(CliInvocation& inv) {
  json& a = inv.request.args;
  a["name"] = nameArg(inv.positional, 0, "service name");
  a["kind"] = inv.text("kind", "cloud");
  if (inv.has("fqdn")) a["fqdn"] = inv.list("fqdn");
  if (inv.has("cidr")) a["cidr"] = inv.list("cidr");
  a["ports"] = inv.list("port");
  if (!inv.text("ismap-id").empty()) a["ismap_id"] = inv.text("ismap-id");
  if (!inv.text("ismap-expires").empty()) a["ismap_expires"] = inv.text("ismap-expires");
  if (!inv.text("description").empty()) a["description"] = inv.text("description");
  for (const char* flag : {"intercept", "sanitize"}) {
    if (inv.has(flag)) a[flag] = inv.text(flag) == "true";
  }
}

void serviceEdit(CliInvocation& inv) {
  json& a = inv.request.args;
  a["name"] = nameArg(inv.positional, 0, "service name");
  for (auto [key, option] :
       {std::pair{"add_fqdn", "add-fqdn"}, std::pair{"remove_fqdn", "remove-fqdn"},
        std::pair{"add_cidr", "add-cidr"}, std::pair{"remove_cidr", "remove-cidr"},
        std::pair{"add_ports", "add-port"}, std::pair{"remove_ports", "remove-port"}}) {
    if (inv.has(option)) a[key] = inv.list(option);
  }
  if (inv.has("kind")) a["kind"] = inv.text("kind");
  if (inv.has("description")) a["description"] = inv.text("description");
  if (inv.has("ismap-id")) a["ismap_id"] = inv.text("ismap-id");
  if (inv.has("ismap-expires")) a["ismap_expires"] = inv.text("ismap-expires");
  for (const char* flag : {"intercept", "sanitize"}) {
    if (!inv.has(flag)) continue;
    const std::string v = inv.text(flag);
    if (v != "true" && v != "false") {
      throw UsageError{std::string("--") + flag + " takes true or false"};
    }
    a[flag] = v == "true";
  }
  if (a.size() == 1) throw UsageError{"nothing to change"};
}

void importM365(CliInvocation& inv) {
  json& a = inv.request.args;
  const std::string& file = nameArg(inv.positional, 0, "endpoint list file");
  a["content"] = readInput(file);
  a["file"] = file;
  a["areas"] = splitComma(inv.text("areas"));
  a["categories"] = splitComma(inv.text("categories"));
  a["required_only"] = inv.has("required-only");
  if (!inv.text("ismap-id").empty()) a["ismap_id"] = inv.text("ismap-id");
  if (!inv.text("ismap-expires").empty()) a["ismap_expires"] = inv.text("ismap-expires");
}

void fileContent(CliInvocation& inv) {
  const std::string& file = nameArg(inv.positional, 0, "file");
  inv.request.args["content"] = readInput(file);
  inv.request.args["file"] = file;
}

void serviceExpiring(CliInvocation& inv) {
  inv.request.args["days"] = inv.number("days", 30);
}

void policyTest(CliInvocation& inv) {
  inv.passFile = inv.text("pcap");
  if (inv.passFile.empty()) throw UsageError{"policy test needs --pcap CAPTURE"};
}

void idsLoad(CliInvocation& inv) {
  if (inv.positional.empty()) throw UsageError{"ids load needs at least one rule file"};
  json files = json::array();
  for (const auto& f : inv.positional) files.push_back({{"name", f}, {"content", readInput(f)}});
  inv.request.args["files"] = files;
}

void idsTest(CliInvocation& inv) {
  inv.passFile = inv.text("pcap");
  if (inv.passFile.empty()) throw UsageError{"ids test needs --pcap CAPTURE"};
  if (inv.has("candidate")) inv.request.args["candidate"] = true;
}

void policyCommit(CliInvocation& inv) {
  const std::string message = inv.text("message");
  if (message.empty()) throw UsageError{"policy commit needs -m MESSAGE"};
  inv.request.args["message"] = message;
}

void version(CliInvocation& inv) {
  inv.request.args["version"] = versionArg(inv.positional, 0);
}

void policyReject(CliInvocation& inv) {
  inv.request.args["version"] = versionArg(inv.positional, 0);
  inv.request.args["reason"] = inv.text("reason");
}

void policyRollback(CliInvocation& inv) {
  inv.request.args["version"] = versionArg(inv.positional, 0);
  if (!inv.text("message").empty()) inv.request.args["message"] = inv.text("message");
}

void flows(CliInvocation& inv) {
  json& a = inv.request.args;
  a["limit"] = inv.number("limit", 100);
  for (const auto& f : inv.list("filter")) {
    const auto eq = f.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError{"--filter takes FIELD=VALUE, e.g. policy.service=m365"};
    a["filter"][f.substr(0, eq)] = f.substr(eq + 1);
  }
}

void idsStats(CliInvocation& inv) { inv.request.args["limit"] = inv.number("limit", 20); }

void certs(CliInvocation& inv) {
  if (inv.has("limit")) inv.request.args["limit"] = inv.number("limit", 100);
  if (!inv.positional.empty()) inv.request.args["ids"] = inv.positional;
  if (inv.has("name")) inv.request.args["name"] = inv.text("name");
  if (inv.has("address")) inv.request.args["address"] = inv.text("address");
  if (inv.has("all")) inv.request.args["all"] = true;
}

void backup(CliInvocation& inv) {
  inv.writeFile = nameArg(inv.positional, 0, "backup file");
  inv.force = inv.has("force");
}

void restore(CliInvocation& inv) {
  inv.request.args["content"] = readInput(nameArg(inv.positional, 0, "backup file"));
}

void caNew(CliInvocation& inv) {
  if (inv.has("organization")) inv.request.args["organization"] = inv.text("organization");
  if (inv.has("days")) inv.request.args["days"] = inv.number("days", 0);
}

void caShow(CliInvocation& inv) {
  // The certificate travels as PEM; lbgctl writes the DER file with the caller's rights.
  if (inv.has("der")) {
    inv.writeFile = inv.text("der");
    if (inv.writeFile.empty()) throw UsageError{"--der needs FILE"};
    if (inv.has("pem")) throw UsageError{"--pem and --der exclude each other"};
  }
  inv.force = inv.has("force");
}

}  // namespace cli
}  // namespace lbg::control
