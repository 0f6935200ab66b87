#include "dataplane/proxy/client_hello_sniff.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>

#include <string>

namespace lbg::proxy {
namespace {

// The bytes a real OpenSSL client sends first, with `sni` as server name (none when empty).
std::string clientHello(const char* sni, int maxVersion = TLS1_3_VERSION) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), maxVersion);
  SslPtr ssl(SSL_new(ctx.get()));
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl.get(), in, out);
  if (sni[0]) SSL_set_tlsext_host_name(ssl.get(), sni);
  SSL_set_connect_state(ssl.get());
  SSL_do_handshake(ssl.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(out, &data);
  return std::string(data, size_t(n));
}

TEST(ClientHelloSniff, NamesTheServerLowerCased) {
  ClientHelloSniffer s;
  std::string name;
  EXPECT_EQ(s.sniff(clientHello("Login.MicrosoftOnline.com"), name), HelloStatus::Sni);
  EXPECT_EQ(name, "login.microsoftonline.com");
}

TEST(ClientHelloSniff, IncompleteUntilTheWholeHelloArrived) {
  ClientHelloSniffer s;
  const std::string hello = clientHello("login.microsoftonline.com");
  std::string name;
  for (size_t cut : {size_t(0), size_t(1), size_t(5), hello.size() / 2, hello.size() - 1}) {
    EXPECT_EQ(s.sniff(std::string_view(hello).substr(0, cut), name), HelloStatus::Incomplete) << cut;
  }
  EXPECT_EQ(s.sniff(hello, name), HelloStatus::Sni);
}

TEST(ClientHelloSniff, HelloSplitAcrossRecords) {
  // The same handshake message in two TLS records (allowed; some middleboxes do it on purpose).
  const std::string hello = clientHello("login.microsoftonline.com");
  const std::string body = hello.substr(5);
  const size_t half = body.size() / 2;
  auto record = [&](std::string_view frag) {
    std::string r = hello.substr(0, 3);
    r += char(frag.size() >> 8);
    r += char(frag.size() & 0xff);
    r += frag;
    return r;
  };
  ClientHelloSniffer s;
  std::string name;
  const std::string split = record(std::string_view(body).substr(0, half)) +
                            record(std::string_view(body).substr(half));
  EXPECT_EQ(s.sniff(split, name), HelloStatus::Sni);
  EXPECT_EQ(name, "login.microsoftonline.com");
}

TEST(ClientHelloSniff, WithoutNameOrNotTls) {
  ClientHelloSniffer s;
  std::string name;
  EXPECT_EQ(s.sniff(clientHello(""), name), HelloStatus::NoSni);
  EXPECT_EQ(s.sniff("GET / HTTP/1.1\r\nHost: login.microsoftonline.com\r\n\r\n", name),
            HelloStatus::NotTls);
  EXPECT_EQ(s.sniff(std::string(64, '\0'), name), HelloStatus::NotTls);
}

TEST(ClientHelloSniff, RefusesNamesNoDnsNameHas) {
  ClientHelloSniffer s;
  std::string name;
  EXPECT_EQ(s.sniff(clientHello("login.microsoftonline.com,evil.example"), name), HelloStatus::BadSni);
  EXPECT_EQ(s.sniff(clientHello("*.microsoftonline.com"), name), HelloStatus::BadSni);
}

TEST(ClientHelloSniff, RefusesTlsBelow12) {
  ClientHelloSniffer s;
  std::string name;
  EXPECT_EQ(s.sniff(clientHello("login.microsoftonline.com", TLS1_1_VERSION), name), HelloStatus::NotTls);
}

}  // namespace
}  // namespace lbg::proxy
