#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// RFC 3339 timestamps of the log. Records are stamped in UTC ("...Z"); reports show local time
// with its offset, so the offset is an explicit argument and never the host's TZ setting.
namespace lbg::telemetry::logfmt {

// Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)" into Unix nanoseconds. A date alone
// ("YYYY-MM-DD") is midnight UTC. nullopt on anything else, including impossible dates.
std::optional<int64_t> parseRfc3339(std::string_view text);

// "2026-11-23T12:00:00.123456Z" (offsetMinutes == 0) or "2026-11-23T21:00:00.123456+09:00".
std::string formatRfc3339(int64_t unixNs, int offsetMinutes = 0, bool micros = true);

// "+09:00" / "-05:30" / "Z" → minutes east of UTC.
std::optional<int> parseUtcOffset(std::string_view text);
std::string formatUtcOffset(int offsetMinutes);

// Days since 1970-01-01 of a civil date, and back (proleptic Gregorian; H. Hinnant's algorithm).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d);
void civilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d);

}  // namespace lbg::telemetry::logfmt
