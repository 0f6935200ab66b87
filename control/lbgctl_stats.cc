#include "control/lbgctl_stats.h"

#include "control/lbgctl_format.h"

namespace lbg::control::cli {

namespace {

std::string text(const nlohmann::json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }

std::vector<std::vector<std::string>> rowsOf(const nlohmann::json& counters, const std::string& section) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : counters) {
    if (c.value("section", std::string()) != section) continue;
    rows.push_back({text(c["name"]), text(c["value"]), text(c["help"])});
  }
  return rows;
}

}  // namespace

std::string renderStats(const nlohmann::json& result) {
  const nlohmann::json& counters = result.contains("counters") ? result["counters"] : nlohmann::json::array();
  std::string out = table({"COUNTER", "VALUE", "HELP"}, rowsOf(counters, ""));
  if (!result.contains("sections") || !result["sections"].is_array()) return out;
  for (const auto& s : result["sections"]) {
    const std::string id = s.value("id", std::string());
    if (id.empty()) continue;
    out += "\n[" + id + "] " + s.value("title", std::string()) + "\n";
    out += table({"COUNTER", "VALUE", "HELP"}, rowsOf(counters, id));
  }
  return out;
}

}  // namespace lbg::control::cli
