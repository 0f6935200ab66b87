#include "control/lbgctl_parse.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <set>

namespace po = boost::program_options;

namespace lbg::control::cli {

namespace {

// "policy.commit" → {"policy", "commit"}; "status" → {"status"}.
std::vector<std::string> wordsOf(std::string_view name) {
  const auto dot = name.find('.');
  if (dot == std::string_view::npos) return {std::string(name)};
  return {std::string(name.substr(0, dot)), std::string(name.substr(dot + 1))};
}

// Every option of the table, registered once: an option of another command is then reported as
// not applying to this one rather than as unknown.
void addAllOptions(po::options_description& o) {
  std::set<std::string_view> seen;
  for (const auto& c : commandTable()) {
    for (const auto& opt : c.options) {
      if (!seen.insert(opt.name).second) continue;
      std::string spec(opt.name);
      if (opt.shortName) spec += std::string(",") + opt.shortName;
      switch (opt.type) {
        case OptionType::Flag:
          o.add_options()(spec.c_str(), "");
          break;
        case OptionType::Text: {
          auto* v = po::value<std::string>();
          if (!opt.implicitValue.empty()) v->implicit_value(std::string(opt.implicitValue));
          o.add_options()(spec.c_str(), v, "");
          break;
        }
        case OptionType::TextList:
          o.add_options()(spec.c_str(), po::value<std::vector<std::string>>(), "");
          break;
        case OptionType::Uint:
          o.add_options()(spec.c_str(), po::value<uint64_t>(), "");
          break;
      }
    }
  }
}

const OptionSpec* optionOf(const CommandInfo& c, std::string_view name) {
  for (const auto& o : c.options) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

}  // namespace

CliInvocation parseCommand(const std::vector<std::string>& words) {
  if (words.empty()) throw UsageError{"missing command"};
  std::string cmd = words[0];
  std::vector<std::string> rest(words.begin() + 1, words.end());
  // A noun with verbs ("service", "policy") takes the next word as its verb, unless the noun is a
  // command of its own ("certs", "ids") and the next word is not one of its verbs: then it is an
  // option or argument of the noun's command (`certs --name H`, `certs ID`).
  bool noun = false;
  for (const auto& c : commandTable()) noun |= c.name.starts_with(cmd + ".");
  if (noun && !rest.empty() &&
      (findCommand(cmd) == nullptr || findCommand(cmd + "." + rest[0]) != nullptr)) {
    cmd += "." + rest[0];
    rest.erase(rest.begin());
  }
  const CommandInfo* info = findCommand(cmd);
  if (!info) throw UsageError{"unknown command: " + cmd};

  po::options_description o;
  o.add_options()("positional", po::value<std::vector<std::string>>(), "");
  addAllOptions(o);
  po::positional_options_description p;
  p.add("positional", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(rest).options(o).positional(p).run(), vm);
  po::notify(vm);

  CliInvocation inv;
  inv.cmd = cmd;
  inv.request.cmd = cmd;
  if (vm.count("positional")) inv.positional = vm["positional"].as<std::vector<std::string>>();
  // Options that do not belong to the command are refused, so a typo is not silently ignored.
  for (const auto& [key, value] : vm) {
    if (key == "positional") continue;
    const OptionSpec* spec = optionOf(*info, key);
    if (!spec) throw UsageError{"option --" + key + " does not apply to " + cmd};
    auto& values = inv.options[key];
    switch (spec->type) {
      case OptionType::Flag:
        values.emplace_back();
        break;
      case OptionType::Text:
        values.push_back(value.as<std::string>());
        break;
      case OptionType::TextList:
        values = value.as<std::vector<std::string>>();
        break;
      case OptionType::Uint:
        values.push_back(std::to_string(value.as<uint64_t>()));
        break;
    }
  }
  if (inv.positional.size() > info->maxPositional)
    throw UsageError{"unexpected argument: " + inv.positional[info->maxPositional]};
  info->build(inv);
  return inv;
}

std::string usageText() {
  std::string out = "usage: lbgctl [--socket PATH] [--json] COMMAND ...\n\n";
  for (const auto& c : commandTable()) {
    std::string line = " ";
    for (const auto& w : wordsOf(c.name)) line += " " + w;
    const size_t indent = line.size() + 1;
    if (!c.synopsis.empty()) line += " " + std::string(c.synopsis);
    for (const auto& o : c.options) {
      std::string opt = "[";
      opt += o.shortName ? std::string("-") + o.shortName : "--" + std::string(o.name);
      if (o.type != OptionType::Flag) opt += " " + std::string(o.metavar);
      if (o.type == OptionType::TextList) opt += " ...";
      opt += "]";
      // Wrapped under the first option, as a reader scans a long synopsis.
      const size_t lastLine = line.rfind('\n') == std::string::npos ? 0 : line.rfind('\n') + 1;
      if (line.size() - lastLine + 1 + opt.size() > 96)
        line += "\n" + std::string(indent, ' ');
      else
        line += " ";
      line += opt;
    }
    out += line + "\n      " + std::string(c.summary) + "\n";
  }
  out += R"(
Exit codes / 終了コード: 0 ok; 1 server error; 2 usage; 3 cannot connect; 4 forbidden (権限なし);
  5 invalid (検証エラー); 6 not found; 7 conflict; 8 dataplane unavailable (変更なし);
  10 differences found (policy diff/test) or services expiring.

Roles / ロール: admin edits and commits, approver approves, operator watches, auditor reads history.
)";
  return out;
}

std::vector<std::string> completions(const std::vector<std::string>& words) {
  std::vector<std::string> out;
  const auto addUnique = [&](const std::string& w) {
    if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(w);
  };
  // Skip option values: the last word being an option that takes a value asks for that value.
  std::vector<std::string> cmdWords;
  for (const auto& w : words) {
    if (w.empty() || w[0] != '-') cmdWords.push_back(w);
  }
  if (cmdWords.empty()) {
    for (const auto& c : commandTable()) addUnique(wordsOf(c.name)[0]);
    return out;
  }
  std::string name = cmdWords[0];
  const CommandInfo* info = findCommand(name);
  if (!info) {
    if (cmdWords.size() == 1) {
      for (const auto& c : commandTable()) {
        const auto w = wordsOf(c.name);
        if (w.size() == 2 && w[0] == name) addUnique(w[1]);
      }
      return out;
    }
    info = findCommand(name + "." + cmdWords[1]);
  }
  if (!info) return out;
  if (!words.empty() && words.back().size() > 1 && words.back()[0] == '-') {
    const std::string& last = words.back();
    for (const auto& o : info->options) {
      const bool match = last == "--" + std::string(o.name) ||
                         (o.shortName && last == std::string("-") + o.shortName);
      if (!match || o.type == OptionType::Flag) continue;
      const std::string_view how = o.complete;
      if (how.starts_with("words:")) {
        std::string list(how.substr(6));
        size_t start = 0;
        while (start < list.size()) {
          const size_t sp = std::min(list.find(' ', start), list.size());
          out.push_back(list.substr(start, sp - start));
          start = sp + 1;
        }
      } else if (how.starts_with("files:")) {
        out.emplace_back(how);
      }
      return out;
    }
  }
  for (const auto& o : info->options)
    out.push_back(o.shortName ? std::string("-") + o.shortName : "--" + std::string(o.name));
  if (!info->positionalComplete.empty()) out.emplace_back(info->positionalComplete);
  return out;
}

}  // namespace lbg::control::cli
