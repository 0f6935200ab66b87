#include "tools/audit/measures.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace lbg::audit {

const Measure* MeasureCatalogue::find(const std::string& id) const {
  for (const auto& m : measures)
    if (m.id == id) return &m;
  return nullptr;
}

Result<MeasureCatalogue> parseMeasures(const std::string& text, const std::string& origin) {
  MeasureCatalogue cat;
  try {
    YAML::Node root = YAML::Load(text);
    YAML::Node list = root["measures"];
    if (!list || !list.IsSequence()) return Error{"no 'measures' list", origin};
    for (const auto& n : list) {
      Measure m;
      if (!n["id"]) return Error{"measure without id", origin, n.Mark().line + 1, n.Mark().column + 1};
      m.id = n["id"].as<std::string>();
      m.ja = n["ja"] ? n["ja"].as<std::string>() : m.id;
      m.en = n["en"] ? n["en"].as<std::string>() : m.id;
      m.where = n["where"] ? n["where"].as<std::string>() : "";
      if (n["level"] && n["level"].IsMap())
        for (const auto& kv : n["level"]) m.level[kv.first.as<std::string>()] = kv.second.as<std::string>();
      cat.measures.push_back(std::move(m));
    }
  } catch (const YAML::Exception& e) {
    return Error{e.msg, origin, e.mark.line + 1, e.mark.column + 1};
  }
  return cat;
}

Result<MeasureCatalogue> loadMeasures(const std::string& path) {
  if (path.empty()) return parseMeasures(embeddedMeasuresYaml(), "(embedded alpha-prime-measures.yaml)");
  std::ifstream in(path);
  if (!in) return Error{"cannot open measure catalogue", path};
  std::ostringstream ss;
  ss << in.rdbuf();
  return parseMeasures(ss.str(), path);
}

}  // namespace lbg::audit
