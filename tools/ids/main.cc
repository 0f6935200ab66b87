// lbg-ids-check: loads Suricata rule files as the gateway would and prints the load report
// (loaded share, rejected rules grouped by keyword; with --show KEYWORD, where each one is), then
// compiles them into the engine as the gateway would.
#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>

#include "dataplane/ids/engine.h"
#include "policy/ids/rule_set.h"

namespace po = boost::program_options;
using namespace lbg::ids;

int main(int argc, char** argv) {
  std::vector<std::string> files, show;
  std::string classification, homeNet;
  bool noEngine = false;
  po::options_description opts(
      "lbg-ids-check RULEFILES... — load report of Suricata rules\noptions");
  opts.add_options()("help,h", "this text")(
      "classification,c", po::value(&classification),
      "classification.config (default: the one beside the first rule file, if any)")(
      "home-net", po::value(&homeNet), "$HOME_NET (default: the RFC 1918 ranges)")(
      "no-engine", po::bool_switch(&noEngine),
      "only parse; do not compile the Hyperscan databases")(
      "show", po::value(&show)->composing(),
      "list the rejected rules of this keyword (repeatable; 'all')")(
      "rules", po::value(&files)->composing(), "rule files");
  po::positional_options_description pos;
  pos.add("rules", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(opts).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "lbg-ids-check: " << e.what() << "\n" << opts;
    return 2;
  }
  if (vm.count("help") || files.empty()) {
    std::cout << opts;
    return vm.count("help") ? 0 : 2;
  }
  RuleSetBuilder builder(homeNet.empty() ? Variables::defaults() : Variables::defaults(homeNet));
  if (classification.empty()) {
    auto beside = std::filesystem::path(files.front()).parent_path() / "classification.config";
    if (std::filesystem::exists(beside)) classification = beside;
  }
  if (!classification.empty()) builder.addClassificationFile(classification);
  for (auto& f : files) builder.addRuleFile(f);
  auto set = std::move(builder).build();
  const LoadReport& report = set->report();
  std::cout << report.format();
  // The engine's own rejections (a pcre PCRE2 refuses) complete the picture.
  std::vector<Rejection> rejections = report.rejections;
  int rc = report.fileErrors.empty() ? 0 : 1;
  if (!noEngine) {
    auto engine = Engine::create(set);
    if (!engine.ok()) {
      std::cout << "engine: " << engine.error().message << "\n";
      rc = 1;
    } else {
      const EngineReport& er = engine.value()->report();
      std::cout << "engine: " << er.rules << " rules compiled, " << er.rejections.size()
                << " rejected by the engine\n";
      rejections.insert(rejections.end(), er.rejections.begin(), er.rejections.end());
    }
  }
  for (auto& r : rejections) {
    for (auto& k : show)
      if (k == "all" || k == r.keyword) {
        std::cout << r.file << ":" << r.line << ":" << r.column << ": " << r.keyword << ": "
                  << r.message << "\n";
        break;
      }
  }
  return rc;
}
