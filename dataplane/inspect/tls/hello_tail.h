#pragma once

// What a client sent after its first ClientHello and before the server said anything (the bytes
// held with the hello until the verdict). A real client sends nothing there but a
// change_cipher_spec (TLS 1.3 middlebox compatibility) and 0-RTT application data; a second
// handshake record is an attempt to make the server read another hello than the one judged
// (classes "second ClientHello in the same segment").
//   Clean        no handshake record after the hello (complete non-handshake records skipped;
//                the walk stops at the first incomplete one)
//   OtherName    a complete second ClientHello naming another server (or none): `second` filled
//   Extra        any other handshake record, a second hello naming the same server included, or
//                one not complete yet
// Hot path: no allocation; at most one more parseClientHello().

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/inspect/tls/client_hello.h"

namespace lbg::inspect {

enum class HelloTail : uint8_t { Clean, OtherName, Extra };

// `stream` starts with the ClientHello `first` was parsed from (parseClientHello() gave Done):
// the offset just past the records that carry it (the parser refuses bytes after the hello in
// its last record).
size_t helloRecordsEnd(std::span<const uint8_t> stream, const TlsClientHello& first);

// `stream` starts with the ClientHello `first` was parsed from (parseClientHello() gave Done).
HelloTail checkHelloTail(std::span<const uint8_t> stream, const TlsClientHello& first,
                         TlsClientHello& second);

}  // namespace lbg::inspect
