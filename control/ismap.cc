#include "control/ismap.h"

#include <algorithm>
#include <ctime>

namespace lbg::control {

std::optional<std::chrono::sys_days> parseIsoDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int parts[3] = {0, 0, 0};
  size_t p = 0;
  for (int k = 0; k < 3; ++k) {
    const size_t len = k == 0 ? 4 : 2;
    for (size_t i = 0; i < len; ++i, ++p) {
      if (s[p] < '0' || s[p] > '9') return std::nullopt;
      parts[k] = parts[k] * 10 + (s[p] - '0');
    }
    ++p;
  }
  const std::chrono::year_month_day ymd{std::chrono::year(parts[0]),
                                        std::chrono::month(unsigned(parts[1])),
                                        std::chrono::day(unsigned(parts[2]))};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd);
}

std::chrono::sys_days localDate(std::chrono::system_clock::time_point t) {
  const time_t secs = std::chrono::system_clock::to_time_t(t);
  struct tm tm {};
  localtime_r(&secs, &tm);
  return std::chrono::sys_days(std::chrono::year_month_day{
      std::chrono::year(tm.tm_year + 1900), std::chrono::month(unsigned(tm.tm_mon + 1)),
      std::chrono::day(unsigned(tm.tm_mday))});
}

std::vector<ExpiringService> expiringServices(const policy::PolicyDoc& doc,
                                              std::chrono::sys_days today, int days) {
  std::vector<ExpiringService> out;
  for (const auto& s : doc.services) {
    if (!s.ismap) continue;
    const auto end = parseIsoDate(s.ismap->expires);
    if (!end) continue;  // the parser validated it; nothing to warn about otherwise
    const int left = static_cast<int>((*end - today).count());
    if (left <= days) out.push_back(ExpiringService{s.name, s.ismap->id, s.ismap->expires, left});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.daysLeft < b.daysLeft; });
  return out;
}

}  // namespace lbg::control
