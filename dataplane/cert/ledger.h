#pragma once

// The certificate ledger: one row per verdict the verifier thread produced (a passive check of a
// TLS ≤ 1.2 certificate list, or a probe's), for `lbgctl certs` — which destination proved which
// name, with which certificate, when, and until when the verdict is reused. The workers' caches
// hold only keys and verdicts (verdict_cache.h); this is where an operator reads them and picks
// what to flush (cache_flush.h).
//
// Written by the verifier thread, read by the service thread: a mutex (neither is a worker).
// Bounded: a full ledger replaces its oldest row, counted. A verdict whose row was replaced is
// still in a worker's cache until it expires or `lbgctl certs flush --all`.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/cert/cert_summary.h"
#include "dataplane/cert/chain_check.h"
#include "dataplane/cert/verdict_cache.h"
#include "policy/base/ip_addr.h"

namespace lbg::cert {

struct LedgerRow {
  CacheKey key{};
  bool probe = false;  // the appliance's own connection (TLS 1.3), else the client's flight
  IpAddr server;
  uint16_t port = 0;
  std::string host;  // the SNI the destination had to prove
  CertSummary cert;  // empty when no certificate was read (timeout, refused connection)
  Refusal verdict = Refusal::None;
  int64_t checkedAt = 0;  // Unix seconds
  int64_t expiresAt = 0;  // when the caches forget the verdict
};

// The row's id as `lbgctl certs` shows it: the key's first 8 bytes in hex.
std::string ledgerId(const CacheKey& key);

// Which rows: any of `ids` (prefixes of ledgerId, at least 4 hex digits), the SNI (ASCII
// case-insensitive), the server address. Empty selectors and !all: every row for list(), none
// for remove().
struct LedgerFilter {
  std::vector<std::string> ids;
  std::string host;
  std::optional<IpAddr> server;
  bool all = false;
  bool selects() const { return all || !ids.empty() || !host.empty() || server.has_value(); }
  bool matches(const LedgerRow& row) const;
};

class CertLedger {
 public:
  explicit CertLedger(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Verifier thread: the row of `row.key` (replaced if there).
  void record(LedgerRow row);
  // Service thread: the rows `filter` matches, newest first, at most `limit`.
  std::vector<LedgerRow> list(const LedgerFilter& filter, size_t limit) const;
  // Service thread: removes the rows `filter` selects and returns their keys (to flush).
  std::vector<CacheKey> remove(const LedgerFilter& filter);
  size_t size() const;
  uint64_t displaced() const;

 private:
  mutable std::mutex mu_;
  std::map<CacheKey, LedgerRow> rows_;
  size_t capacity_;
  uint64_t displaced_ = 0;
};

}  // namespace lbg::cert
