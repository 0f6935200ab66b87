#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/model.h"

namespace lbg::control {

struct ExpiringService {
  std::string name;
  std::string ismapId;
  std::string expires;  // YYYY-MM-DD, last valid day
  int daysLeft = 0;     // 0 = expires today
};

// Services whose ISMAP registration ends within `days` days of `today` (inclusive), soonest
// first. The guideline allows only ISMAP-listed clouds; a lapse turns the policy invalid, so
// administrators are warned ahead (`lbgctl service expiring`, daily log warning).
std::vector<ExpiringService> expiringServices(const policy::PolicyDoc& doc,
                                              std::chrono::sys_days today, int days);

std::optional<std::chrono::sys_days> parseIsoDate(std::string_view yyyyMmDd);

// The host's local calendar date (Japan: ISMAP dates are JST dates) at `t`.
std::chrono::sys_days localDate(std::chrono::system_clock::time_point t);

}  // namespace lbg::control
