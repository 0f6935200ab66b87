#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "dataplane/telemetry/log/ed25519_key.h"
#include "dataplane/telemetry/log/record_fields.h"
#include "policy/base/result.h"

// Selective reads of the log: segments whose signed seal puts them outside the time range, or
// whose signed index says a wanted value is absent, are never opened. An index that does not
// match its seal is not trusted: that segment is scanned in full.
namespace lbg::audit {

struct QueryFilter {
  int64_t fromNs = std::numeric_limits<int64_t>::min();
  int64_t toNs = std::numeric_limits<int64_t>::max();
  std::string eventType, srcIp, destIp, service, action, sni, reason, measure;
  std::string anyIp;  // src or dest
  uint64_t limit = 0;  // 0 = no limit

  bool matches(const telemetry::logfmt::RecordFields& r) const;
};

struct QueryStats {
  uint64_t segments = 0, skippedByTime = 0, skippedByIndex = 0, scanned = 0;
  uint64_t untrustedIndexes = 0, records = 0, matched = 0, unreadable = 0;
};

// Calls `onRecord` for each matching record in log order (raw line and its fields); returning
// false stops. Errors are a directory that cannot be read.
Result<QueryStats> runQuery(
    const std::string& dir, const telemetry::logfmt::VerifyKey& key, const QueryFilter& filter,
    const std::function<bool(std::string_view, const telemetry::logfmt::RecordFields&)>& onRecord);

}  // namespace lbg::audit
