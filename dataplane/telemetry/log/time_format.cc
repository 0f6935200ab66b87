#include "dataplane/telemetry/log/time_format.h"

#include <cstdio>

namespace lbg::telemetry::logfmt {

int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

namespace {

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

unsigned daysInMonth(int y, int m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

std::optional<int> parseUtcOffset(std::string_view s) {
  if (s == "Z" || s == "z") return 0;
  int hh, mm;
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || !digits(s, 1, 2, hh) ||
      !digits(s, 4, 2, mm) || hh > 23 || mm > 59)
    return std::nullopt;
  int v = hh * 60 + mm;
  return s[0] == '-' ? -v : v;
}

std::string formatUtcOffset(int off) {
  if (off == 0) return "Z";
  char buf[16];
  int a = (off < 0 ? -off : off) % (24 * 60);
  std::snprintf(buf, sizeof(buf), "%c%02d:%02d", off < 0 ? '-' : '+', a / 60, a % 60);
  return buf;
}

std::optional<int64_t> parseRfc3339(std::string_view s) {
  int y, mo, d, h = 0, mi = 0, se = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || unsigned(d) > daysInMonth(y, mo)) return std::nullopt;
  int64_t frac = 0;
  int offset = 0;
  if (s.size() > 10) {
    if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h) || s.size() < 19 ||
        s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
      return std::nullopt;
    if (h > 23 || mi > 59 || se > 60) return std::nullopt;  // 60: a leap second, counted as :59+1
    size_t pos = 19;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      size_t start = pos;
      int64_t scale = 100000000;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (pos - start < 9) {
          frac += (s[pos] - '0') * scale;
          scale /= 10;
        }
        ++pos;
      }
      if (pos == start) return std::nullopt;
    }
    auto off = parseUtcOffset(s.substr(pos));
    if (!off) return std::nullopt;
    offset = *off;
  }
  int64_t days = daysFromCivil(y, unsigned(mo), unsigned(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - int64_t(offset) * 60;
  // Nanoseconds since 1970 fit int64 only for about 1677–2262: a timestamp outside is invalid
  // input, not an overflow.
  int64_t ns;
  if (__builtin_mul_overflow(secs, int64_t(1000000000), &ns) ||
      __builtin_add_overflow(ns, frac, &ns)) {
    return std::nullopt;
  }
  return ns;
}

std::string formatRfc3339(int64_t unixNs, int offsetMinutes, bool micros) {
  int64_t local = unixNs + int64_t(offsetMinutes) * 60 * 1000000000;
  int64_t secs = local >= 0 ? local / 1000000000 : -((-local + 999999999) / 1000000000);
  int64_t ns = local - secs * 1000000000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t sod = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  civilFromDays(days, y, m, d);
  char buf[48];
  if (micros)
    std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02d:%02d:%02d.%06lld", (long long)y, m, d,
                  int(sod / 3600), int(sod / 60 % 60), int(sod % 60), (long long)(ns / 1000));
  else
    std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, m, d,
                  int(sod / 3600), int(sod / 60 % 60), int(sod % 60));
  return std::string(buf) + formatUtcOffset(offsetMinutes);
}

}  // namespace lbg::telemetry::logfmt
