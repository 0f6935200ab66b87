#pragma once

#include <functional>
#include <string>
#include <vector>

#include "dataplane/proxy/ossl.h"

namespace lbg::proxy::test {

struct KeyCert {
  PkeyPtr key;
  X509Ptr cert;
};

// A self-signed CA (ECDSA P-256).
KeyCert makeCa(const std::string& cn);
// A server certificate signed by `ca`, valid from now+notBeforeSec to now+notAfterSec, with DNS
// SANs `sans` (written as given, hostile values included).
KeyCert makeLeaf(const KeyCert& ca, const std::string& cn, const std::vector<std::string>& sans,
                 long notBeforeSec = -3600, long notAfterSec = 86400 * 90);
// Writes `cert` as PEM to a fresh file under the test's temporary directory; returns its path.
std::string writePem(X509* cert, const std::string& name);

// Runs a handshake in memory between a client SSL and a server presenting `server` (its context
// further set up by `configure`, e.g. to staple OCSP); returns whether the client completed it.
bool handshake(SSL* client, const KeyCert& server,
               const std::function<void(SSL_CTX*)>& configure = {});

}  // namespace lbg::proxy::test
