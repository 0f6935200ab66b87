#include "dataplane/cert/ledger.h"

#include <algorithm>
#include <strings.h>

namespace lbg::cert {

std::string ledgerId(const CacheKey& key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < 8; ++i) {
    out.push_back(kHex[key[i] >> 4]);
    out.push_back(kHex[key[i] & 15]);
  }
  return out;
}

bool LedgerFilter::matches(const LedgerRow& row) const {
  if (all) return true;
  if (!ids.empty()) {
    const std::string id = ledgerId(row.key);
    const bool any = std::any_of(ids.begin(), ids.end(), [&id](const std::string& p) {
      return p.size() >= 4 && id.compare(0, p.size(), p) == 0;
    });
    if (!any) return false;
  }
  if (!host.empty() &&
      (host.size() != row.host.size() || strncasecmp(host.data(), row.host.data(), host.size()) != 0)) {
    return false;
  }
  if (server && *server != row.server) return false;
  return true;
}

void CertLedger::record(LedgerRow row) {
  std::lock_guard lock(mu_);
  auto it = rows_.find(row.key);
  if (it != rows_.end()) {
    it->second = std::move(row);
    return;
  }
  if (rows_.size() >= capacity_) {
    // The oldest verdict goes (the verifier thread pays a scan only when the ledger is full).
    auto oldest = std::min_element(rows_.begin(), rows_.end(), [](const auto& a, const auto& b) {
      return a.second.checkedAt < b.second.checkedAt;
    });
    rows_.erase(oldest);
    ++displaced_;
  }
  rows_.emplace(row.key, std::move(row));
}

std::vector<LedgerRow> CertLedger::list(const LedgerFilter& filter, size_t limit) const {
  std::vector<LedgerRow> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, row] : rows_) {
      if (filter.matches(row)) out.push_back(row);
    }
  }
  std::sort(out.begin(), out.end(), [](const LedgerRow& a, const LedgerRow& b) {
    return a.checkedAt != b.checkedAt ? a.checkedAt > b.checkedAt : a.key < b.key;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

std::vector<CacheKey> CertLedger::remove(const LedgerFilter& filter) {
  std::vector<CacheKey> keys;
  if (!filter.selects()) return keys;
  std::lock_guard lock(mu_);
  for (auto it = rows_.begin(); it != rows_.end();) {
    if (filter.matches(it->second)) {
      keys.push_back(it->first);
      it = rows_.erase(it);
    } else {
      ++it;
    }
  }
  return keys;
}

size_t CertLedger::size() const {
  std::lock_guard lock(mu_);
  return rows_.size();
}

uint64_t CertLedger::displaced() const {
  std::lock_guard lock(mu_);
  return displaced_;
}

}  // namespace lbg::cert
