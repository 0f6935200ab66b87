// `lbgctl certs`: the runtime's side (control_api.h) — the verifier's ledger as rows, and the
// flush of every certificate-verdict cache (dataplane/cert/cache_flush.h).

#include "dataplane/cert/ledger.h"
#include "dataplane/cert/verifier.h"
#include "dataplane/core/cert_reason.h"
#include "dataplane/core/runtime.h"

namespace lbg::dataplane {

namespace {

cert::LedgerFilter filterOf(const ControlApi::CertSelector& s) {
  cert::LedgerFilter f;
  f.ids = s.ids;
  f.host = s.host;
  f.server = s.server;
  f.all = s.all;
  return f;
}

}  // namespace

std::vector<ControlApi::CertRow> GatewayRuntime::certs(const CertSelector& selector,
                                                       size_t limit) const {
  std::vector<CertRow> out;
  if (!verifier_) return out;
  for (const cert::LedgerRow& r : verifier_->ledger().list(filterOf(selector), limit)) {
    CertRow row;
    row.id = cert::ledgerId(r.key);
    row.probe = r.probe;
    row.server = r.server.toString();
    row.port = r.port;
    row.host = r.host;
    row.subject = r.cert.subject;
    row.issuer = r.cert.issuer;
    row.notAfter = r.cert.notAfter;
    row.checkedAt = r.checkedAt;
    row.expiresAt = r.expiresAt;
    row.verdict = r.verdict == cert::Refusal::None ? "verified"
                                                   : std::string(telemetry::reasonInfo(reasonOf(r.verdict)).name);
    out.push_back(std::move(row));
  }
  return out;
}

Result<size_t> GatewayRuntime::flushCerts(const CertSelector& selector) {
  if (!verifier_) return size_t{0};
  const std::vector<cert::CacheKey> keys = verifier_->ledger().remove(filterOf(selector));
  if (!selector.all && keys.empty()) return size_t{0};
  // Workers apply it on their next loop iteration; a standby's workers loop too.
  if (!verifier_->flush(keys, selector.all, std::chrono::milliseconds(2000))) {
    return Error{"a worker or the verifier did not acknowledge the flush in time"};
  }
  return keys.size();
}

}  // namespace lbg::dataplane
