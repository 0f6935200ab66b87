#include "dataplane/proxy/client_hello_sniff.h"

#include <openssl/bio.h>
#include <openssl/err.h>

#include <cctype>

#include "dataplane/proxy/connect_target.h"

namespace lbg::proxy {

namespace {

struct SniffResult {
  bool called = false;
  HelloStatus status = HelloStatus::NotTls;
  std::string name;
};

// Records the server name and aborts the handshake: the sniffing SSL never answers anyone.
int onHello(SSL* ssl, int* alert, void*) {
  auto* r = static_cast<SniffResult*>(SSL_get_app_data(ssl));
  r->called = true;
  *alert = SSL_AD_HANDSHAKE_FAILURE;
  const unsigned char* ext = nullptr;
  size_t len = 0;
  // The callback runs before version negotiation: a client offering nothing above TLS 1.1
  // (legacy_version below 1.2, no supported_versions) would otherwise be spliced.
  if (SSL_client_hello_get0_legacy_version(ssl) < TLS1_2_VERSION &&
      !SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_supported_versions, &ext, &len)) {
    r->status = HelloStatus::NotTls;
    return 0;
  }
  if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len)) {
    r->status = HelloStatus::NoSni;
    return 0;
  }
  // server_name_list: u16 length, u8 type (0 = host_name), u16 length, name.
  if (len < 5 || ext[2] != 0) {
    r->status = HelloStatus::BadSni;
    return 0;
  }
  const size_t nlen = (size_t(ext[3]) << 8) | ext[4];
  if (5 + nlen > len) {
    r->status = HelloStatus::BadSni;
    return 0;
  }
  const std::string_view sni(reinterpret_cast<const char*>(ext + 5), nlen);
  if (!validServerName(sni)) {
    r->status = HelloStatus::BadSni;
    return 0;
  }
  r->name.assign(sni);
  for (char& ch : r->name) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  r->status = HelloStatus::Sni;
  return 0;
}

}  // namespace

const char* toString(HelloStatus s) {
  switch (s) {
    case HelloStatus::Incomplete: return "incomplete";
    case HelloStatus::Sni: return "sni";
    case HelloStatus::NoSni: return "no-sni";
    case HelloStatus::BadSni: return "bad-name";
    case HelloStatus::NotTls: return "unsupported-protocol";
  }
  return "?";
}

ClientHelloSniffer::ClientHelloSniffer() : ctx_(SSL_CTX_new(TLS_server_method())) {
  SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION);
  SSL_CTX_set_client_hello_cb(ctx_.get(), onHello, nullptr);
}

HelloStatus ClientHelloSniffer::sniff(std::string_view bytes, std::string& name) {
  SniffResult r;
  SslPtr ssl(SSL_new(ctx_.get()));
  BIO* in = BIO_new(BIO_s_mem());   // empty: WANT_READ, not EOF, when the bytes run out
  BIO* out = BIO_new(BIO_s_mem());  // the alert the aborted handshake writes goes nowhere
  BIO_write(in, bytes.data(), int(bytes.size()));
  SSL_set_bio(ssl.get(), in, out);
  SSL_set_app_data(ssl.get(), &r);
  SSL_set_accept_state(ssl.get());
  const int rc = SSL_do_handshake(ssl.get());
  const int err = SSL_get_error(ssl.get(), rc);
  ERR_clear_error();
  if (r.called) {
    if (r.status == HelloStatus::Sni) name = std::move(r.name);
    return r.status;
  }
  return err == SSL_ERROR_WANT_READ ? HelloStatus::Incomplete : HelloStatus::NotTls;
}

}  // namespace lbg::proxy
