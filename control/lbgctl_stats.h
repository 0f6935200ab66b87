#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace lbg::control::cli {

// `lbgctl stats` as text: the counters of no section in one table, then one heading and table per
// section the daemon names (e.g. `ddos`), so an operator reads the guard's counters together.
std::string renderStats(const nlohmann::json& result);

}  // namespace lbg::control::cli
