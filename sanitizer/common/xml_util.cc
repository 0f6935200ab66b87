#include "sanitizer/common/xml_util.h"

#include <set>
#include <sstream>
#include <vector>

namespace lbg::sanitizer::xml {

namespace {
constexpr unsigned kParseFlags = pugi::parse_default | pugi::parse_declaration | pugi::parse_ws_pcdata;
}  // namespace

bool parse(std::string_view bytes, pugi::xml_document* doc) {
  pugi::xml_parse_result result = doc->load_buffer(bytes.data(), bytes.size(), kParseFlags, pugi::encoding_auto);
  if (!result) return false;
  if (!doc->document_element()) return false;
  return true;
}

bool parseInPlace(std::string& bytes, pugi::xml_document* doc) { return parseInPlace(bytes.data(), bytes.size(), doc); }

bool parseInPlace(char* bytes, size_t size, pugi::xml_document* doc) {
  pugi::xml_parse_result result = doc->load_buffer_inplace(bytes, size, kParseFlags, pugi::encoding_auto);
  if (!result) return false;
  if (!doc->document_element()) return false;
  return true;
}

namespace {
// pugixml hands output over in chunks; appending to a string reserved at about the input size
// avoids std::ostringstream's growth copies (a visible cost on multi-megabyte parts).
struct StringWriter : pugi::xml_writer {
  std::string out;
  void write(const void* data, size_t size) override { out.append(static_cast<const char*>(data), size); }
};
struct ScratchWriter : pugi::xml_writer {
  ScratchBuffer* out;
  explicit ScratchWriter(ScratchBuffer* o) : out(o) {}
  void write(const void* data, size_t size) override { out->append(static_cast<const char*>(data), size); }
};

// The input may have declared UTF-16; pugixml converted it and writes UTF-8.
void declareUtf8(pugi::xml_document& doc) {
  for (pugi::xml_node node = doc.first_child(); node; node = node.next_sibling()) {
    if (node.type() == pugi::node_declaration) {
      node.remove_attribute("encoding");
      pugi::xml_attribute version = node.attribute("version");
      if (!version) version = node.prepend_attribute("version");
      version.set_value("1.0");
      pugi::xml_attribute encoding = node.insert_attribute_after("encoding", version);
      encoding.set_value("UTF-8");
      break;
    }
  }
}
}  // namespace

std::string serialize(pugi::xml_document& doc, size_t sizeHint) {
  declareUtf8(doc);
  StringWriter writer;
  writer.out.reserve(sizeHint + sizeHint / 8 + 256);
  doc.save(writer, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  return std::move(writer.out);
}

void serialize(pugi::xml_document& doc, ScratchBuffer* out) {
  declareUtf8(doc);
  ScratchWriter writer(out);
  doc.save(writer, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
}

std::string_view localName(std::string_view qualified) {
  size_t colon = qualified.find(':');
  return colon == std::string_view::npos ? qualified : qualified.substr(colon + 1);
}

std::string_view prefixOf(std::string_view qualified) {
  size_t colon = qualified.find(':');
  return colon == std::string_view::npos ? std::string_view() : qualified.substr(0, colon);
}

std::string_view namespaceUri(pugi::xml_node node, std::string_view prefix) {
  std::string attr = prefix.empty() ? std::string("xmlns") : "xmlns:" + std::string(prefix);
  for (pugi::xml_node n = node; n && n.type() == pugi::node_element; n = n.parent()) {
    if (pugi::xml_attribute a = n.attribute(attr.c_str())) return a.value();
  }
  return {};
}


namespace {
bool hasElementChild(pugi::xml_node node) {
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element) return true;
  }
  return false;
}
}  // namespace

namespace {

// Removes the outermost nodes whose pointer is in `marked`, found by walking the live tree (never by
// dereferencing a handle an earlier removal may have freed). Returns the parents that lost a child.
std::set<pugi::xml_node_struct*> removeMarked(pugi::xml_document& doc, const std::set<pugi::xml_node_struct*>& marked) {
  std::vector<pugi::xml_node> outermost;
  pugi::xml_node node = doc.first_child();
  while (node) {
    if (marked.count(node.internal_object())) {
      outermost.push_back(node);
    } else if (node.first_child()) {
      node = node.first_child();
      continue;
    }
    while (node && !node.next_sibling()) node = node.parent();
    if (!node) break;
    node = node.next_sibling();
  }
  std::set<pugi::xml_node_struct*> touched;
  for (auto n : outermost) {
    pugi::xml_node parent = n.parent();
    touched.insert(parent.internal_object());
    parent.remove_child(n);
  }
  return touched;
}

}  // namespace

void removeAll(pugi::xml_document& doc, std::vector<pugi::xml_node> targets,
               std::initializer_list<std::string_view> collapsible) {
  std::set<pugi::xml_node_struct*> marked;
  for (auto n : targets) marked.insert(n.internal_object());
  // Each round removes what the previous round emptied; the number of rounds is bounded by the
  // nesting of collapsible containers, not by the number of nodes. No nodes are created here, so a
  // stale pointer in `touched` can never alias a live node.
  while (!marked.empty()) {
    std::set<pugi::xml_node_struct*> touched = removeMarked(doc, marked);
    marked.clear();
    pugi::xml_node node = doc.first_child();
    while (node) {
      if (node.type() == pugi::node_element && touched.count(node.internal_object()) && !hasElementChild(node)) {
        std::string_view local = localName(node.name());
        if ((local == "Choice" || local == "Fallback") && localName(node.parent().name()) == "AlternateContent") {
          marked.insert(node.parent().internal_object());
        } else {
          for (std::string_view c : collapsible) {
            if (c == local) marked.insert(node.internal_object());
          }
        }
      }
      if (node.first_child()) {
        node = node.first_child();
        continue;
      }
      while (node && !node.next_sibling()) node = node.parent();
      if (!node) break;
      node = node.next_sibling();
    }
  }
}

void unwrap(pugi::xml_node node) {
  pugi::xml_node parent = node.parent();
  if (!parent) return;
  while (pugi::xml_node child = node.first_child()) {
    parent.insert_move_before(child, node);
  }
  parent.remove_child(node);
}

std::string textOf(pugi::xml_node node) {
  std::string out;
  pugi::xml_node n = node.first_child();
  while (n) {
    if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) out += n.value();
    if (n.first_child()) {
      n = n.first_child();
      continue;
    }
    while (n && n != node && !n.next_sibling()) n = n.parent();
    if (!n || n == node) break;
    n = n.next_sibling();
  }
  return out;
}

}  // namespace lbg::sanitizer::xml
