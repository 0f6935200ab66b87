#pragma once

// The appliance CA that lbg-proxy signs its intercepted leaf certificates with (issue 10 item 3):
// created, shown and rotated by `lbgctl ca init|show|rotate` (control/handlers/ca.cc).
//
// Layout of the CA directory (DispatcherConfig::caDir, default the store directory's sibling
// `ca/`): each CA is a generation directory `g-<fingerprint prefix>/` (0755) holding `ca.key`
// (ECDSA P-256, PKCS#8 PEM; 0640 group lbg-proxy, else 0600), `ca.pem` (0644) and, after a
// rotation, `ca.prev.pem` (0644), the certificate it replaced, which the PCs keep trusting during
// the transition. `current` is a symlink to the generation in use, and `ca.key`, `ca.pem`,
// `ca.prev.pem` are symlinks `current/...`, the names readers use. A rotation writes and syncs the
// whole new generation, then switches `current` with one rename(2): the key and its certificate
// are replaced together, and a crash at any point leaves the old pair or the new one, never a key
// from one and a certificate from the other. The other generations (the old key) are then removed.
// A directory from before generations (plain files) is converted by the next rotation, one
// rename at a time, each step keeping one pair.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "policy/base/result.h"

namespace lbg::control {

struct CaOptions {
  std::string dir;
  // Subject organisation, e.g. the municipality: the certificate is "CN=<org> lbg appliance CA,
  // O=<org>", which is what the PCs' certificate stores display.
  std::string organization = "lbg";
  uint32_t validDays = 5 * 365;
  // The group that may read the key (lbg-proxy runs in it); when it does not exist the key is
  // 0600 and owned by the gateway's user only (CaInfo::keyGroup empty).
  std::string keyGroup = "lbg-proxy";
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  // Tests: called after each durable step of a write ("key written", "certificate written",
  // "previous written", "switched", "linked"), where a crash test stops the process.
  std::function<void(const char* step)> afterStep;
};

struct CaCertInfo {
  std::string path;
  std::string subject;      // RFC 2253
  std::string sha256;       // fingerprint of the DER, "AB:CD:..." as certutil and browsers show
  std::string notBefore;    // RFC 3339, seconds
  std::string notAfter;
  std::string pem;
};

struct CaInfo {
  CaCertInfo cert;
  std::optional<CaCertInfo> previous;  // ca.prev.pem after a rotation
  std::string keyPath;
  int keyMode = 0;
  std::string keyGroup;  // empty: no such group, key is 0600
  bool keyMatches = true;  // the key file holds the certificate's private key
};

// Paths inside a CA directory.
std::string caCertPath(const std::string& dir);
std::string caKeyPath(const std::string& dir);
std::string caPrevCertPath(const std::string& dir);

// A new key and self-signed certificate (basicConstraints CA:TRUE pathlen 0 critical, keyUsage
// keyCertSign cRLSign critical, subject and authority key identifiers). Refused, with `exists`
// set, when a certificate or a key is there already.
Result<CaInfo> caInit(const CaOptions& o, bool* exists = nullptr);
// A new CA replacing the current one, which is kept as ca.prev.pem (an older ca.prev.pem is
// dropped: PCs trust at most the current and the previous). `missing` set if there is no CA.
Result<CaInfo> caRotate(const CaOptions& o, bool* missing = nullptr);
// What `ca show` prints; `missing` set if there is no CA.
Result<CaInfo> caShow(const std::string& dir, bool* missing = nullptr);

// PEM certificate to DER (lbgctl's `ca show --der FILE`), error if it is not one certificate.
Result<std::string> certPemToDer(const std::string& pem);

}  // namespace lbg::control
