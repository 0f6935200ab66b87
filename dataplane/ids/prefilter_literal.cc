#include "dataplane/ids/prefilter_literal.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace lbg::ids {
namespace {

// Words and markup that fill ordinary web pages, scripts and JSON (lower case): a literal ending
// in one of them is confirmed at every occurrence. Generic on purpose (English function and
// common words, HTML tags and attributes, JavaScript keywords and DOM names), not taken from any
// one capture.
constexpr std::string_view kCommonWords[] = {
    // English
    "the", "and", "for", "you", "your", "with", "this", "that", "from", "are", "was", "not", "have",
    "has", "will", "can", "all", "our", "more", "here", "please", "click", "view", "information",
    "service", "services", "update", "updates", "data", "page", "link", "links", "account", "login",
    "email", "mail", "password", "home", "news", "search", "contact", "document", "documents",
    "download", "file", "files", "message", "notice", "online", "secure", "security", "support",
    "help", "name", "item", "items", "list", "content", "error", "version",
    // HTML
    "<html>", "</html>", "<head>", "</head>", "<body>", "</body>", "<title>", "</title>", "<div>",
    "</div>", "<span>", "</span>", "<p>", "</p>", "<a>", "</a>", "<li>", "</li>", "<ul>", "</ul>",
    "<td>", "</td>", "<tr>", "</tr>", "<table>", "</table>", "<form>", "</form>", "<input>",
    "<script>", "</script>", "<style>", "</style>", "<meta>", "<link>", "<img>", "<br>", "<br/>",
    "<button>", "</button>", "<label>", "</label>", "<option>", "</option>", "<strong>",
    "</strong>", "<font>", "</font>", "class=\"", "href=\"", "src=\"", "type=\"", "name=\"",
    "value=\"", "id=\"", "style=\"", "method=\"", "action=\"", "content=\"", "&nbsp;", "&amp;",
    "&quot;",
    // JavaScript and DOM
    "function", "return", "var", "let", "const", "new", "true", "false", "null", "undefined",
    "typeof", "window", "document", "location", "length", "object", "string", "array", "value",
    "style", "element", "script", "width", "height", "display", "href", "src", "text", "http",
    "https", "www", "com", "html", "json", "type", "class", "index", "event", "onload", "onclick",
    "submit", "button", "charset", "utf-8", "jquery", "ajax"};

struct Tails {
  std::string padded;  // every word as " word ", separated by a byte no tail holds
  Tails() {
    for (std::string_view w : kCommonWords) {
      padded += ' ';
      padded += w;
      padded += " \x01";
    }
  }
};

const Tails& tails() {
  static const Tails t;
  return t;
}

}  // namespace

bool PrefilterLiteral::commonTail(std::string_view tail) {
  std::string lower(tail);
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  // A tail with a space inside cannot be part of one padded word unless at its edge: " the" and
  // "the " are found, "e th" is not.
  return tails().padded.find(lower) != std::string::npos;
}

std::string_view PrefilterLiteral::choose(std::string_view literal) {
  if (literal.size() < kMinLength || !commonTail(literal.substr(literal.size() - kTail)))
    return literal;
  for (size_t end = literal.size() - 1; end >= std::max(kMinLength, kTail); --end)
    if (!commonTail(literal.substr(end - kTail, kTail))) return literal.substr(0, end);
  return literal;
}

}  // namespace lbg::ids
