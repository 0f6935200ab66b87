// libFuzzer target: ClientHello parser on arbitrary streams, plus the server-flight parser, the
// QUIC Initial check and the QUIC ClientHello reader on the same bytes (taken as a server stream
// and as a datagram). Checks the parser's contracts, not just the absence of crashes:
// a Done is reproducible, its name is a valid host name, and every proper prefix of a stream that
// parses to Done gives NeedMore at a few sampled cut points.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <strings.h>

#include "dataplane/inspect/hostname.h"
#include "dataplane/inspect/quic/client_hello.h"
#include "dataplane/inspect/quic/initial.h"
#include "dataplane/inspect/tls/client_hello.h"
#include "dataplane/inspect/tls/hello_tail.h"
#include "dataplane/inspect/tls/server_flight.h"

using lbg::inspect::Status;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)lbg::inspect::looksLikeQuicInitial({data, size});
  lbg::inspect::QuicClientHello q;
  const Status qs = lbg::inspect::parseQuicClientHello({data, size}, q);
  if (qs == Status::Done && q.tls.hasSni &&
      !lbg::inspect::isHostname(reinterpret_cast<const uint8_t*>(q.tls.sni), q.tls.sniLen, false)) {
    std::abort();
  }

  static uint8_t scratch[8192];
  static uint8_t chain[16384];
  lbg::inspect::TlsServerHello sh;
  if (lbg::inspect::parseServerFlight({data, size}, sh, scratch, chain) == Status::Done) {
    if (sh.chainCopied && (!sh.chainComplete || sh.chainLength > sizeof(chain))) std::abort();
    if (sh.chainComplete && (!sh.hasCertificate || sh.chainLength > size)) std::abort();
    // The list starts with the first certificate's length.
    if (sh.chainCopied && (sh.chainLength < 3 + sh.certLength ||
                           (uint32_t(chain[0]) << 16 | uint32_t(chain[1]) << 8 | chain[2]) !=
                               sh.certLength)) {
      std::abort();
    }
    if (sh.certContiguous && uint64_t(sh.certOffset) + sh.certLength > size) std::abort();
    if (sh.certInScratch && sh.certLength > sizeof(scratch)) std::abort();
    if ((sh.certContiguous || sh.certInScratch) && !sh.hasCertificate) std::abort();
  }

  lbg::inspect::TlsClientHello h;
  const Status st = lbg::inspect::parseClientHello({data, size}, h);
  if (st != Status::Done) {
    if (st == Status::Invalid && h.reason == lbg::inspect::TlsReason::None) std::abort();
    if (st != Status::Invalid && st != Status::NeedMore) std::abort();
    if (h.hasSni) std::abort();  // no half-filled results with an Invalid
    return 0;
  }
  if (h.reason != lbg::inspect::TlsReason::None || h.alpnCount > 4) std::abort();
  if (h.hasSni &&
      !lbg::inspect::isHostname(reinterpret_cast<const uint8_t*>(h.sni), h.sniLen, false)) {
    std::abort();
  }
  lbg::inspect::TlsClientHello again;
  if (lbg::inspect::parseClientHello({data, size}, again) != Status::Done ||
      std::memcmp(&h, &again, sizeof(h)) != 0) {
    std::abort();
  }
  // Cut points: a proper prefix of a complete hello never completes (though it may already be
  // refused: checks run as bytes arrive, and the full stream passed all of them).
  for (size_t cut : {size_t(0), size / 3, size / 2, size - 1}) {
    if (cut >= size) continue;
    lbg::inspect::TlsClientHello p;
    if (lbg::inspect::parseClientHello({data, cut}, p) == Status::Done) {
      // Only allowed if the hello ended before `cut` (trailing records after it are ignored).
      if (size_t(h.helloLength) + 9 > cut) std::abort();
    }
  }
  // What follows the hello: a second hello reported as another name must really differ.
  lbg::inspect::TlsClientHello second;
  if (lbg::inspect::checkHelloTail({data, size}, h, second) == lbg::inspect::HelloTail::OtherName &&
      second.hasSni == h.hasSni && second.sniLen == h.sniLen &&
      strncasecmp(second.sni, h.sni, h.sniLen) == 0) {
    std::abort();
  }
  return 0;
}
