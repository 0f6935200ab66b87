// Text-only mode for OOXML: run on the already rebuilt package, so the extractor never sees a part
// the allow-list rejected.

#include <map>

#include "sanitizer/common/xml_util.h"
#include "sanitizer/ooxml/ooxml_package.h"
#include "sanitizer/ooxml/ooxml_rules.h"
#include "sanitizer/ooxml/ooxml_sanitizer.h"

namespace lbg::sanitizer::ooxml {
namespace {

using xml::localName;

// Paragraph-aware text of WordprocessingML or DrawingML: text runs, tabs, breaks; one line per
// paragraph.
void paragraphText(pugi::xml_node root, std::string_view paragraph, std::string_view run, std::string* out) {
  xml::forEachElement(root, [&](pugi::xml_node n) {
    std::string_view local = localName(n.name());
    if (local == run) {
      *out += n.text().get();
    } else if (local == "tab") {
      *out += '\t';
    } else if (local == "br" || local == "cr") {
      *out += '\n';
    } else if (local == paragraph && n.previous_sibling()) {
      *out += '\n';
    }
  });
  *out += '\n';
}

bool loadPart(Package& pkg, const std::string& name, pugi::xml_document* doc, std::string* reason) {
  std::string raw;
  if (!pkg.read(name, &raw, reason)) return false;
  if (!xml::parse(raw, doc)) {
    *reason = "parse-error";
    return false;
  }
  return true;
}

}  // namespace

bool extractText(std::string_view bytes, const FormatLimits& limits, std::string* text, std::string* reason) {
  text->clear();
  auto pkg = Package::open(bytes, limits, reason);
  if (!pkg) return false;
  std::vector<Relationship> rootRels;
  if (!pkg->relationships("/", &rootRels, reason)) return false;
  std::string main;
  for (const auto& rel : rootRels) {
    if (relTypeShort(rel.type) == "officeDocument") main = resolveTarget("/", rel.target);
  }
  if (main.empty()) {
    *reason = "parse-error";
    return false;
  }
  const MainPartRule* rule = mainPartRule(pkg->contentType(main));
  if (rule == nullptr) {
    *reason = "parse-error";
    return false;
  }
  std::vector<Relationship> mainRels;
  if (!pkg->relationships(main, &mainRels, reason)) return false;
  std::map<std::string, std::string> target;  // rel id -> part
  for (const auto& rel : mainRels) {
    if (!rel.external) target[rel.id] = resolveTarget(main, rel.target);
  }
  pugi::xml_document doc;
  if (!loadPart(*pkg, main, &doc, reason)) return false;
  std::string_view kind = rule->outputType;
  if (kind.substr(0, 2) == "do") {
    paragraphText(doc, "p", "t", text);
    return true;
  }
  auto refId = [](pugi::xml_node n) -> std::string {
    for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute()) {
      if (localName(a.name()) == "id" && !xml::prefixOf(a.name()).empty()) return a.value();
    }
    return "";
  };
  if (kind.substr(0, 2) == "xl") {
    std::vector<std::string> shared;
    for (const auto& rel : mainRels) {
      if (relTypeShort(rel.type) != "sharedStrings") continue;
      pugi::xml_document sst;
      if (!loadPart(*pkg, resolveTarget(main, rel.target), &sst, reason)) return false;
      for (pugi::xml_node si : sst.document_element().children()) {
        if (localName(si.name()) != "si") continue;
        std::string s;
        xml::forEachElement(si, [&](pugi::xml_node n) {
          if (localName(n.name()) == "t" && localName(n.parent().name()) != "rPh") s += n.text().get();
        });
        shared.push_back(std::move(s));
      }
    }
    xml::forEachElement(doc, [&](pugi::xml_node sheet) {
      if (localName(sheet.name()) != "sheet") return;
      auto it = target.find(refId(sheet));
      if (it == target.end() || !pkg->has(it->second)) return;
      pugi::xml_document ws;
      std::string why;
      if (!loadPart(*pkg, it->second, &ws, &why)) return;
      *text += "# ";
      *text += sheet.attribute("name").as_string();
      *text += '\n';
      xml::forEachElement(ws, [&](pugi::xml_node row) {
        if (localName(row.name()) != "row") return;
        bool first = true;
        for (pugi::xml_node c : row.children()) {
          if (localName(c.name()) != "c") continue;
          if (!first) *text += '\t';
          first = false;
          std::string_view t = c.attribute("t").as_string();
          std::string value;
          for (pugi::xml_node v : c.children()) {
            if (localName(v.name()) == "v") value = v.text().get();
            if (localName(v.name()) == "is") value = xml::textOf(v);
          }
          if (t == "s") {
            size_t idx = static_cast<size_t>(std::strtoul(value.c_str(), nullptr, 10));
            value = idx < shared.size() ? shared[idx] : "";
          }
          *text += value;
        }
        *text += '\n';
      });
    });
    return true;
  }
  // PresentationML: slides in presentation order.
  xml::forEachElement(doc, [&](pugi::xml_node sldId) {
    if (localName(sldId.name()) != "sldId") return;
    auto it = target.find(refId(sldId));
    if (it == target.end() || !pkg->has(it->second)) return;
    pugi::xml_document slide;
    std::string why;
    if (!loadPart(*pkg, it->second, &slide, &why)) return;
    paragraphText(slide, "p", "t", text);
  });
  return true;
}

}  // namespace lbg::sanitizer::ooxml
