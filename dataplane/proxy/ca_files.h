#pragma once

#include <string>

#include "dataplane/proxy/ossl.h"
#include "policy/base/result.h"

namespace lbg::proxy {

// The appliance CA lbg-proxy mints with, as read from its two files (`--ca-cert`, `--ca-key`; on
// an appliance the links `lbgctl ca init|rotate` keeps in /var/lib/lbg/ca, control/appliance_ca.h).
struct CaPair {
  X509Ptr cert;
  PkeyPtr key;
};

// Reads both files (at most 64 KiB each) and checks that the key is the certificate's: a pair
// that does not match is refused, never used. A rotation replaces the pair with one rename, but
// two files are two opens: one may see the old generation and the other the new one, or find an
// old generation just removed; so a mismatch or a missing file is read again (three attempts)
// before it is an error. The error says which file and why.
Result<CaPair> loadCaPair(const std::string& certPath, const std::string& keyPath);

// What the two paths lead to now (after links: device, inode, size, modification time), to
// notice a rotation without reading the key: a different value means the files changed.
std::string caFilesIdentity(const std::string& certPath, const std::string& keyPath);

}  // namespace lbg::proxy
