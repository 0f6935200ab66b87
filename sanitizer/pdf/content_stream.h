#pragma once

// PDF content streams (ISO 32000-1 §7.8.2, operators in Annex A): a strict tokeniser and a filter
// that re-emits a decoded content stream with only the operators on an allow-list (text, path,
// colour, graphics state, shading, inline images, Do of image and form XObjects, marked content
// whose properties carry no action). Everything else is dropped and counted. The re-emitted stream
// is written token by token from what the tokeniser validated, never copied as a byte range;
// inline images are rebuilt from their decoded pixels (inline_image.h).
//
// Self-contained (no qpdf): the PDF rebuild resolves resource names through the callbacks.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace lbg::sanitizer::pdf {

enum class TokenType : uint8_t {
  Number,
  LiteralString,  // text includes the outer parentheses, escapes as written
  HexString,      // text includes < and >
  Name,           // text includes the leading '/', #xx escapes as written
  ArrayOpen,
  ArrayClose,
  DictOpen,
  DictClose,
  Keyword,          // an operator, or true / false / null
  InlineImageData,  // the bytes between "ID " and the whitespace before "EI"
};

struct Token {
  TokenType type = TokenType::Keyword;
  std::string_view text;  // a view into the tokeniser's input
};

// Splits a decoded content stream into tokens. Comments and whitespace are skipped. After an "ID"
// keyword the next token is the inline image data, which ends at the first whitespace + "EI" +
// (whitespace, delimiter or end). Malformed input (unbalanced string parentheses, bad hex digit,
// unterminated string or inline image, stray ')' '>' '}' '{', a lone '<' ...) stops the tokeniser
// with error() set: callers fail closed rather than guess where the next token starts.
class ContentTokenizer {
 public:
  explicit ContentTokenizer(std::string_view data) : data_(data) {}

  // False at the end of the input or on an error (then error() is non-empty).
  bool next(Token* token);
  const std::string& error() const { return error_; }

 private:
  bool fail(const char* why);
  bool readLiteralString(Token* token);
  bool readHexString(Token* token);
  bool readInlineImageData(Token* token);

  std::string_view data_;
  size_t pos_ = 0;
  bool afterId_ = false;
  std::string error_;
};

// A name token's value with #xx escapes decoded, without the leading '/' ("Im#201" -> "Im 1").
// False when an escape is malformed.
bool decodeName(std::string_view token, std::string* name);

// What the filter may ask about the resources of the stream it filters.
struct ContentResources {
  // True when /XObject <name> is an image or a form XObject (PostScript and missing ones are not).
  std::function<bool(const std::string& name)> xobjectAllowed;
  // True when /Properties <name> exists and holds no action (/A, /AA, /JS, ...).
  std::function<bool(const std::string& name)> propertiesAllowed;
};

struct ContentFilterResult {
  bool ok = false;
  std::string error;    // when !ok: what the tokeniser or the structure check found
  std::string output;   // the re-emitted stream, one operation per line
  // What was dropped, by kind: "content-operator" (unknown or disallowed operator),
  // "content-operands" (wrong operand count or types, or operands without an operator),
  // "content-xobject" (Do of a missing or non image/form XObject), "marked-content-action"
  // (marked-content properties with an action; the marker stays without its properties),
  // "inline-image" (an inline image that could not be rebuilt: inline_image.h).
  std::map<std::string, uint32_t> dropped;
};

// True when `op` is on the allow-list (the operand checks still apply).
bool isAllowedOperator(std::string_view op);

// Filters one decoded content stream. Limits: nesting of arrays/dictionaries, operands per
// operation; exceeding them is an error.
ContentFilterResult filterContentStream(std::string_view content, const ContentResources& resources);

}  // namespace lbg::sanitizer::pdf
