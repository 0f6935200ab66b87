#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lbg::icap {

// ASCII case-insensitive equality; header names and ICAP tokens are ASCII.
bool equalsIgnoreCase(std::string_view a, std::string_view b);

// RFC 9110 token characters (header names, methods, extension names).
bool isTokenChar(char c);
bool isToken(std::string_view s);

// Strips SP/HTAB at both ends.
std::string_view trimWhitespace(std::string_view s);

struct HeaderField {
  std::string name;
  std::string value;
};

// An ordered list of header fields that keeps duplicates and the original spelling of names, so a
// message we pass on is changed only where we mean to change it.
class HeaderList {
 public:
  void add(std::string name, std::string value);
  // The first field with this name (case-insensitive), or nullptr.
  const std::string* get(std::string_view name) const;
  size_t count(std::string_view name) const;
  // Removes every field with this name; returns how many were removed.
  size_t remove(std::string_view name);
  // Replaces every field with this name by one field (appended where the first one was).
  void set(std::string_view name, std::string value);
  // True if some comma-separated element of some field with this name equals `element`.
  bool hasListElement(std::string_view name, std::string_view element) const;

  const std::vector<HeaderField>& fields() const { return fields_; }
  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }

  // "Name: value\r\n" for each field (no terminating empty line).
  void serialize(std::string& out) const;

 private:
  std::vector<HeaderField> fields_;
};

// Parses header field lines from `block` (the bytes after the start line, each line ending in
// CRLF, the block ending with the empty line). Strict on purpose: obsolete line folding, bare LF,
// whitespace before the colon, control characters and non-token names are rejected, because a
// proxy and this service reading one header two ways is how smuggling starts.
// Returns an empty string on success, else a message.
std::string parseHeaderLines(std::string_view block, size_t maxHeaders, HeaderList& out);

}  // namespace lbg::icap
