#pragma once

// pugixml used safely on untrusted XML: no DTD processing (pugixml never expands entities beyond
// the five predefined ones, so no XXE or billion laughs), whitespace kept where Office needs it,
// output always UTF-8 with a matching declaration. Tree walks here are iterative: a deeply nested
// document cannot exhaust the stack.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "sanitizer/common/scratch_buffer.h"

namespace lbg::sanitizer::xml {

// Parses into `doc`; false on malformed XML. DOCTYPE nodes are dropped.
bool parse(std::string_view bytes, pugi::xml_document* doc);
// The same, parsing inside `bytes` (no copy of a multi-megabyte part); `bytes` is modified and must
// outlive `doc`.
bool parseInPlace(std::string& bytes, pugi::xml_document* doc);
bool parseInPlace(char* bytes, size_t size, pugi::xml_document* doc);

// Serialises as UTF-8 without reformatting; the declaration (if any) says UTF-8.
// `sizeHint`: the expected output size (the input part's size), reserved up front.
std::string serialize(pugi::xml_document& doc, size_t sizeHint = 0);
// The same, appended to `out` (a pooled buffer: no fresh pages for a multi-megabyte part).
void serialize(pugi::xml_document& doc, ScratchBuffer* out);

// "w:instrText" -> "instrText".
std::string_view localName(std::string_view qualified);
std::string_view prefixOf(std::string_view qualified);

// The namespace URI bound to `prefix` at `node` ("" prefix: the default namespace).
std::string_view namespaceUri(pugi::xml_node node, std::string_view prefix);

// Visits every element in document order, iteratively. The visitor may not remove the node it is
// given (collect and remove afterwards).
// A template (not std::function): it runs over every element of multi-megabyte parts several times
// per file, and the visitor is inlined.
template <typename Visit>
void forEachElement(pugi::xml_node root, Visit&& visit) {
  pugi::xml_node node = root.first_child();
  while (node) {
    if (node.type() == pugi::node_element) visit(node);
    if (node.first_child()) {
      node = node.first_child();
      continue;
    }
    while (node && node != root && !node.next_sibling()) node = node.parent();
    if (!node || node == root) break;
    node = node.next_sibling();
  }
}

// Removes every node in `targets` (nodes inside another target are skipped), then removes
// ancestors left without element children whose local name is in `collapsible` (e.g. an empty
// <oleObjects>). An mc:Choice / mc:Fallback left empty takes its whole mc:AlternateContent with
// it: keeping the other branch would resurrect what was removed from this one. Safe for
// overlapping targets: nothing is touched after it is freed.
void removeAll(pugi::xml_document& doc, std::vector<pugi::xml_node> targets,
               std::initializer_list<std::string_view> collapsible);

// Moves the children of `node` in front of it and removes it (keeps text, drops the wrapper).
void unwrap(pugi::xml_node node);

// Concatenated text of all PCDATA/CDATA below `node`.
std::string textOf(pugi::xml_node node);

}  // namespace lbg::sanitizer::xml
