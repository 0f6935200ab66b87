#pragma once

#include <span>
#include <string_view>

#include "dataplane/cert/chain_check.h"
#include "dataplane/cert/verdict_cache.h"
#include "policy/base/ip_addr.h"

namespace lbg::cert {

// SHA-256 of (certificate list, 0, SNI, 0, pins[, OCSP rule, stapled response]): the verdict
// depends on all of them, and a cryptographic hash keeps a forged chain from sharing a good
// chain's entry. The staple is part of the key (unless the rule is `off`), so a server that starts
// stapling "revoked" is judged again at once instead of riding its chain's cached "good". Runs on
// the worker once per new TLS ≤ 1.2 flow: no allocation.
CacheKey cacheKey(std::span<const uint8_t> certList, std::string_view sni,
                  std::span<const SpkiPin> pins, OcspMode ocsp = OcspMode::Off,
                  std::span<const uint8_t> staple = {});

// The probe's (prober.h): SHA-256 of ("probe", server address, port, OCSP rule, SNI, pins). The
// verdict is the server's at that address: another address naming the same SNI is probed on its
// own.
CacheKey probeKey(const IpAddr& server, uint16_t port, std::string_view sni,
                  std::span<const SpkiPin> pins, OcspMode ocsp);

}  // namespace lbg::cert
