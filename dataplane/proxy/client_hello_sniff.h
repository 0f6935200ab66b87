#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "dataplane/proxy/ossl.h"

namespace lbg::proxy {

// What the first bytes of a transparently redirected connection say before anything is consumed:
// the transparent listener peeks (MSG_PEEK) at the client's bytes and lets OpenSSL parse them, so
// the ClientHello is parsed by the same code that later terminates the handshake and no byte is
// lost for a splice. OpenSSL reads the ClientHello across records; the callback sees it whole.
enum class HelloStatus : uint8_t {
  Incomplete,  // not a whole ClientHello yet: peek again when more bytes arrive
  Sni,         // a ClientHello with a server name (a valid DNS name, see `validServerName`)
  NoSni,       // a ClientHello without server_name
  BadSni,      // a server_name that no DNS name has (comma, space, NUL, ...)
  NotTls,      // anything else (plain HTTP, garbage, SSLv2, a TLS version below 1.2)
};
// The log reason of a refusal (the gateway's words where they exist: no-sni, unsupported-protocol).
const char* toString(HelloStatus s);

class ClientHelloSniffer {
 public:
  ClientHelloSniffer();
  // Parses `bytes` (everything the client sent so far); on Sni, `name` is the lower-cased SNI.
  HelloStatus sniff(std::string_view bytes, std::string& name);

 private:
  SslCtxPtr ctx_;
};

}  // namespace lbg::proxy
