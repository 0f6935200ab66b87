#pragma once

#include <map>
#include <string>
#include <vector>

#include "policy/base/result.h"

// The α′ measure catalogue (alpha-prime-measures.yaml), read with yaml-cpp. A copy is embedded at
// build time; --measures FILE reads another (a newer guideline revision) at run time.
namespace lbg::audit {

struct Measure {
  std::string id, ja, en, where;
  std::map<std::string, std::string> level;  // case → M / R / -
};

struct MeasureCatalogue {
  std::vector<Measure> measures;
  const Measure* find(const std::string& id) const;
};

Result<MeasureCatalogue> parseMeasures(const std::string& yamlText, const std::string& origin);
Result<MeasureCatalogue> loadMeasures(const std::string& path);  // empty path: the embedded copy
const char* embeddedMeasuresYaml();

}  // namespace lbg::audit
