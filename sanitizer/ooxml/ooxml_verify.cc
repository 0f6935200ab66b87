// The second check: the rebuilt package is opened again as untrusted input and scanned for every
// construct the rebuild removes. Any finding blocks the file (the rebuild missed something).

#include <set>

#include "sanitizer/common/scratch_buffer.h"
#include "sanitizer/common/xml_util.h"
#include "sanitizer/ooxml/ooxml_content.h"
#include "sanitizer/ooxml/ooxml_package.h"
#include "sanitizer/ooxml/ooxml_rules.h"
#include "sanitizer/ooxml/ooxml_sanitizer.h"

namespace lbg::sanitizer::ooxml {
namespace {

bool containsCaseless(std::string_view hay, std::string_view needle) {
  return toLower(hay).find(toLower(needle)) != std::string::npos;
}

bool safeAction(std::string_view action) {
  return action.empty() || action.rfind("ppaction://hlinkshowjump", 0) == 0 ||
         action.rfind("ppaction://hlinksldjump", 0) == 0 || action == "ppaction://noaction" ||
         action.rfind("ppaction://customshow", 0) == 0;
}

// One walk over a rebuilt XML part that looks for anything the rebuild should have taken out.
// Written apart from the rebuild's passes (ooxml_content.cc), sharing only the allow-lists
// (field names, external formulas, relationship namespaces), so a bug in a pass is not repeated
// here; and a single walk, because on a 40 MB document.xml every walk over the tree costs about
// as much as the parse (each element's name is a cache miss in the part's buffer).
// "" when clean, else what was found.
std::string scanPart(pugi::xml_document& doc, const std::set<std::string>& ids, bool settings, bool vml) {
  struct Field {
    std::string code;
    bool inCode = true;
  };
  std::vector<Field> fields;
  std::string finding;
  pugi::xml_node root = doc;
  pugi::xml_node node = root.first_child();
  while (node && finding.empty()) {
    if (node.type() == pugi::node_element) {
      std::string_view local = xml::localName(node.name());
      if (local == "fldSimple") {
        std::string_view instr = node.attribute("w:instr").as_string();
        if (!fieldInstructionAllowed(instr) || containsCaseless(instr, "dde")) finding = "field-code";
      } else if (local == "fldData" || local == "ddeLink" || local == "oleLink") {
        finding = std::string(local);
      } else if (local == "fldChar") {
        std::string_view type = node.attribute("w:fldCharType").as_string();
        if (type == "begin") {
          fields.push_back(Field{});
        } else if (type == "separate" && !fields.empty()) {
          fields.back().inCode = false;
        } else if (type == "end" && !fields.empty()) {
          if (!fieldInstructionAllowed(fields.back().code)) finding = "field-code";
          fields.pop_back();
        } else {
          finding = "field-marker";
        }
      } else if (local == "instrText" || local == "delInstrText") {
        std::string_view text = node.text().get();
        // The code of the innermost field still reading its code; code outside any field is
        // what a reader may run without a field to judge.
        Field* owner = nullptr;
        for (auto it = fields.rbegin(); it != fields.rend() && owner == nullptr; ++it) {
          if (it->inCode) owner = &*it;
        }
        if (owner == nullptr || containsCaseless(text, "dde")) {
          finding = "field-code";
        } else {
          owner->code += text;
        }
      } else if (local == "f") {
        if (formulaIsExternal(node.text().get())) finding = "external-formula";
      } else if (local == "hlinkClick" || local == "hlinkHover" || local == "hlinkMouseOver") {
        if (!safeAction(node.attribute("action").as_string())) finding = "action-setting";
      } else if (settings && (local == "mailMerge" || local == "attachedTemplate" || local == "docVars")) {
        finding = "settings-" + std::string(local);
      }
      for (pugi::xml_attribute a = node.first_attribute(); a && finding.empty(); a = a.next_attribute()) {
        std::string_view name = a.name();
        std::string_view prefix = xml::prefixOf(name);
        if (vml) {
          std::string_view attrLocal = xml::localName(name);
          std::string_view v = a.value();
          if ((attrLocal == "href" || attrLocal == "src" || attrLocal == "althref") &&
              (v.find(':') != std::string_view::npos || v.find("\\\\") != std::string_view::npos ||
               v.find("//") != std::string_view::npos)) {
            finding = "external-reference";
          }
        }
        if (prefix.empty() || prefix == "xmlns") continue;
        if (isRelationshipNamespace(xml::namespaceUri(node, prefix)) && ids.count(a.value()) == 0) {
          finding = "relationship-reference";
        }
      }
    }
    if (node.first_child()) {
      node = node.first_child();
      continue;
    }
    while (node && node != root && !node.next_sibling()) node = node.parent();
    if (!node || node == root) break;
    node = node.next_sibling();
  }
  if (finding.empty() && !fields.empty()) finding = "field-code";  // a field never closed
  return finding;
}

}  // namespace

std::string verify(std::string_view bytes, const FormatLimits& limits) {
  std::string reason;
  auto pkg = Package::open(bytes, limits, &reason);
  if (!pkg) return "verify:" + reason;
  for (const std::string& part : pkg->partNames()) {
    std::string lower = toLower(part);
    for (std::string_view bad : {"vbaproject", "vbadata", "/macrosheets/", "/activex/", "/embeddings/",
                                 "oleobject", "customui", "/externallinks/", "/connections"}) {
      if (lower.find(bad) != std::string::npos) return "verify:forbidden-part";
    }
    if (part == "/[Content_Types].xml") continue;
    bool isRels = lower.size() > 5 && lower.substr(lower.size() - 5) == ".rels";
    std::string ct = pkg->contentType(part);
    if (!isRels && !contentTypeAllowed(ct)) {
      const MainPartRule* rule = mainPartRule(ct);
      if (rule == nullptr || !rule->blockReason.empty() || rule->type != rule->outputType) {
        return "verify:content-type";
      }
    }
    if (isRels) {
      continue;
    }
    std::vector<Relationship> rels;
    if (!pkg->relationships(part, &rels, &reason)) return "verify:" + reason;
    std::set<std::string> ids;
    for (const auto& rel : rels) {
      if (rel.external) return "verify:external-relationship";
      std::string shortType = relTypeShort(rel.type);
      if (!relTypeAllowed(shortType)) return "verify:relationship-type";
      ids.insert(rel.id);
    }
    if (isImageContentType(ct)) continue;
    ScratchBuffer raw;
    if (!pkg->read(part, &raw, &reason)) return "verify:" + reason;
    pugi::xml_document doc;
    if (!xml::parseInPlace(raw.data(), raw.size(), &doc)) return "verify:parse-error";
    std::string finding = scanPart(doc, ids, ct.find("settings") != std::string::npos,
                                   ct.find("vmlDrawing") != std::string::npos);
    if (!finding.empty()) return "verify:" + finding;
  }
  std::vector<Relationship> rootRels;
  if (!pkg->relationships("/", &rootRels, &reason)) return "verify:" + reason;
  for (const auto& rel : rootRels) {
    if (rel.external || !relTypeAllowed(relTypeShort(rel.type))) return "verify:relationship-type";
  }
  return "";
}

}  // namespace lbg::sanitizer::ooxml
