#include "dataplane/ids/http_uri.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lbg::ids {
namespace {

std::string norm(const std::string& target, bool connect = false) {
  std::vector<uint8_t> out(target.size());
  const size_t n = normaliseHttpUri({reinterpret_cast<const uint8_t*>(target.data()), target.size()},
                                    connect, out);
  return std::string(reinterpret_cast<const char*>(out.data()), n);
}

std::string dots(std::string s) {
  s.resize(removeDotSegments(reinterpret_cast<uint8_t*>(s.data()), s.size()));
  return s;
}

// The evasions of a rule on `/evil.php` (libhtp's IDS personality, Suricata's overrides).
TEST(HttpUri, Evasions) {
  EXPECT_EQ(norm("/%65vil.php"), "/evil.php");
  EXPECT_EQ(norm("/%65%56%69%4C.php"), "/eViL.php");  // case kept (Suricata turns lowercase off)
  EXPECT_EQ(norm("/a/../evil.php"), "/evil.php");
  EXPECT_EQ(norm("//evil.php"), "/evil.php");
  EXPECT_EQ(norm("/./evil.php"), "/evil.php");
  EXPECT_EQ(norm("\\evil.php"), "/evil.php");
  EXPECT_EQ(norm("/x%2f..%2fevil.php"), "/evil.php");   // encoded separators decoded
  EXPECT_EQ(norm("/x%5c..%5cevil.php"), "/evil.php");   // an encoded backslash too
  EXPECT_EQ(norm("/%u0065vil.php"), "/evil.php");       // %u, high byte 0
  EXPECT_EQ(norm("/%uff45vil.php"), "/evil.php");       // %u full-width e (best fit)
  EXPECT_EQ(norm("/%c0%aeevil.php"), "/.evil.php");     // overlong UTF-8 dot
  EXPECT_EQ(norm("/x/%c0%ae%c0%ae/evil.php"), "/evil.php");  // ... then the dots removed
  EXPECT_EQ(norm("/%ef%bd%85vil.php"), "/evil.php");    // UTF-8 full-width e
  EXPECT_EQ(norm("http://h.example/a/../evil.php"), "/evil.php");  // absolute form: the path
}

TEST(HttpUri, PercentDecoding) {
  EXPECT_EQ(norm("/a%zzb"), "/a%zzb");     // invalid: the % kept
  EXPECT_EQ(norm("/a%4"), "/a%4");         // cut: kept
  EXPECT_EQ(norm("/a%"), "/a%");
  EXPECT_EQ(norm("/a%u12"), "/a%u12");     // cut %u: kept, not read as %HH
  EXPECT_EQ(norm("/a%u12zz"), "/a%u12zz"); // bad %u
  EXPECT_EQ(norm("/a%U0041"), "/aA");      // %U as %u
  EXPECT_EQ(norm("/a%u0100"), "/aA");      // best fit of U+0100
  EXPECT_EQ(norm("/a%u4e00"), "/a?");      // no best fit: ?
  EXPECT_EQ(norm("/a%u2215b"), "/a/b");    // division slash
  EXPECT_EQ(norm("/a%00b"), std::string("/a\0b", 4));  // NUL kept
  EXPECT_EQ(norm("/a+b"), "/a+b");         // + is not a space in a path
  EXPECT_EQ(norm("/%2525"), "/%25");       // decoded once
}

TEST(HttpUri, Utf8BestFit) {
  EXPECT_EQ(norm("/caf%c3%a9"), "/caf\xe9");   // U+00E9: itself
  EXPECT_EQ(norm("/caf\xc3\xa9"), "/caf\xe9"); // raw UTF-8 too
  EXPECT_EQ(norm("/\xc4\x80"), "/A");           // U+0100
  EXPECT_EQ(norm("/\xe4\xb8\x80x"), "/?x");      // no best fit
  EXPECT_EQ(norm("/\xf0\x9f\x98\x80x"), "/?x");  // beyond U+FFFF
  EXPECT_EQ(norm("/a\x80x"), "/a?x");            // a lone continuation
  EXPECT_EQ(norm("/a\xffx"), "/a?x");            // never a UTF-8 byte
  EXPECT_EQ(norm("/a\xc3x"), "/a?x");            // bad continuation: ?, x read again
  EXPECT_EQ(norm("/a\xed\xa0\x80x"), "/a???x");  // surrogate: ed, then a0 and 80 as leads
  EXPECT_EQ(norm("/a\xe4\xb8"), "/a");           // cut by the end: dropped (libhtp)
}

TEST(HttpUri, DotSegments) {
  EXPECT_EQ(dots("/a/b/../c"), "/a/c");
  EXPECT_EQ(dots("/a/./b"), "/a/b");
  EXPECT_EQ(dots("../a"), "a");
  EXPECT_EQ(dots("./a"), "a");
  EXPECT_EQ(dots("/../../a"), "/a");
  EXPECT_EQ(dots("."), "");
  EXPECT_EQ(dots(".."), "");
  EXPECT_EQ(dots("/a/.."), "");   // libhtp drops the final "/" (RFC 3986 would give "/")
  EXPECT_EQ(dots("/a/."), "/a");  // likewise ("/a/")
  EXPECT_EQ(dots("/a/..b/c"), "/a/..b/c");
  EXPECT_EQ(dots("/a.b/c."), "/a.b/c.");
}

// Query: %HH decoded (not %u), + kept; fragment: %HH and %u; neither has dots or slashes
// handled. A `?` or `#` ends the path.
TEST(HttpUri, QueryAndFragment) {
  EXPECT_EQ(norm("/a/../b?x=%2e%2e/../%41+1"), "/b?x=../../A+1");
  EXPECT_EQ(norm("/b?x=%u0041"), "/b?x=%u0041");
  EXPECT_EQ(norm("/b?"), "/b?");
  EXPECT_EQ(norm("/b#f%41%u0042//"), "/b#fAB//");
  EXPECT_EQ(norm("/b?q#f"), "/b?q#f");
  EXPECT_EQ(norm("/%3fx"), "/?x");  // an encoded ? decoded into the path
}

TEST(HttpUri, TargetForms) {
  EXPECT_EQ(norm("http://h.example"), "");
  EXPECT_EQ(norm("http://u:p@h.example:8080/x?y"), "/x?y");
  EXPECT_EQ(norm("http:///x"), "/x");    // three slashes: no authority, a path
  EXPECT_EQ(norm("*"), "*");
  EXPECT_EQ(norm("evil.php"), "evil.php");
  EXPECT_EQ(norm("h.example:443", true), "");  // CONNECT: an authority, no path
  EXPECT_EQ(norm(""), "");
}

}  // namespace
}  // namespace lbg::ids
