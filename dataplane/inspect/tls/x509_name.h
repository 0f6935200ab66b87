#pragma once

// The subject or issuer of a DER X.509 certificate as text, the way Suricata 7 shows them in its
// tls.cert_subject / tls.cert_issuer buffers (the x509-parser crate's X509Name display): RDNs in
// certificate order joined by ", ", the attributes of one RDN by " + ", each `ABBREV=value` with
// the usual abbreviations (C, ST, L, O, OU, CN, DC, emailAddress, ...) or the dotted OID.
// String values (UTF8, Printable, IA5, T61, Visible, Numeric, BMP as UTF-8) are copied as they
// are; any other value type is written as `#` and the hex of its DER content.
//
// Untrusted input (a server's certificate, read on the worker for the IDS): a DER walker with
// bounds on every length, no allocation, no OpenSSL. The text is cut at `cap` (a truncated name
// still carries its first RDNs, which is what rules name).

#include <cstddef>
#include <cstdint>
#include <span>

namespace lbg::inspect {

enum class X509NameField : uint8_t { Subject, Issuer };

// Writes the name into out[0, cap) and returns its length; 0 when the certificate cannot be read
// that far (malformed DER) or the name is empty.
size_t x509NameText(std::span<const uint8_t> cert, X509NameField which, char* out, size_t cap);

}  // namespace lbg::inspect
