#pragma once

// Integer fields of the JSON in log files, read safely. nlohmann's get<integer>() casts a value
// stored as a float (what a literal too large for 64 bits parses as, or `1e9`) with a conversion
// that is undefined out of range; the segments, indexes and manifests an auditor hands lbg-audit
// are untrusted, so their integer fields go through here (log_record_fuzz found the cast).

#include <cstdint>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

namespace lbg::telemetry::logfmt {

// The value when it is a JSON integer that T holds; nullopt when it is anything else (a float, a
// string, out of T's range).
template <typename T>
std::optional<T> jsonInteger(const nlohmann::json& v) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > uint64_t(std::numeric_limits<T>::max())) return std::nullopt;
    return T(u);
  }
  if (v.is_number_integer()) {
    const int64_t s = v.get<int64_t>();
    if (s < 0 && (!std::numeric_limits<T>::is_signed || s < int64_t(std::numeric_limits<T>::min()))) {
      return std::nullopt;
    }
    if (s > 0 && uint64_t(s) > uint64_t(std::numeric_limits<T>::max())) return std::nullopt;
    return T(s);
  }
  return std::nullopt;
}

// The field `key` of `object` as jsonInteger; nullopt also when it is missing.
template <typename T>
std::optional<T> jsonInteger(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() ? std::nullopt : jsonInteger<T>(*it);
}

}  // namespace lbg::telemetry::logfmt
