#pragma once

#include "dataplane/cert/chain_check.h"
#include "dataplane/telemetry/log/vocabulary.h"

namespace lbg::dataplane {

// The logged reason of a certificate refusal (passive check and probe alike).
inline telemetry::Reason reasonOf(cert::Refusal r) {
  using telemetry::Reason;
  switch (r) {
    case cert::Refusal::None:
      return Reason::None;
    case cert::Refusal::Untrusted:
      return Reason::CertUntrusted;
    case cert::Refusal::Name:
      return Reason::CertName;
    case cert::Refusal::Expired:
      return Reason::CertExpired;
    case cert::Refusal::PinMismatch:
      return Reason::PinMismatch;
    case cert::Refusal::WeakKey:
      return Reason::CertWeakKey;
    case cert::Refusal::ProbeTimeout:
      return Reason::CertProbeTimeout;
    case cert::Refusal::ProbeFailed:
      return Reason::CertProbeFailed;
    case cert::Refusal::Revoked:
      return Reason::CertRevoked;
    case cert::Refusal::OcspMissing:
      return Reason::OcspMissing;
    case cert::Refusal::OcspInvalid:
      return Reason::OcspInvalid;
  }
  return Reason::CertUntrusted;
}

}  // namespace lbg::dataplane
