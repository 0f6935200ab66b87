// The second check: the rebuilt package is opened again as untrusted input and must pass every
// rule without a single change. Any finding blocks the file (the rebuild missed something).

#include <set>

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
    std::string raw;
    if (!pkg->read(part, &raw, &reason)) return "verify:" + reason;
    pugi::xml_document doc;
    if (!xml::parseInPlace(raw, &doc)) return "verify:parse-error";
    std::vector<RemovedItem> findings;
    neutralizeWordFields(doc, part, findings);
    if (ct.find("settings") != std::string::npos) neutralizeWordSettings(doc, part, findings);
    neutralizeSheetFormulas(doc, part, findings);
    neutralizeActions(doc, part, findings);
    if (ct.find("vmlDrawing") != std::string::npos) neutralizeVml(doc, part, findings);
    removeDanglingReferences(doc, ids, part, findings);
    if (!findings.empty()) return "verify:" + findings.front().kind;
    // Belt and braces: no field code or link left that mentions DDE at all.
    bool dde = false;
    xml::forEachElement(doc, [&](pugi::xml_node n) {
      std::string_view local = xml::localName(n.name());
      if ((local == "instrText" && containsCaseless(n.text().get(), "dde")) ||
          (local == "fldSimple" && containsCaseless(n.attribute("w:instr").as_string(), "dde")) ||
          local == "ddeLink" || local == "oleLink") {
        dde = true;
      }
    });
    if (dde) return "verify:dde";
  }
  std::vector<Relationship> rootRels;
  if (!pkg->relationships("/", &rootRels, &reason)) return "verify:" + reason;
  for (const auto& rel : rootRels) {
    if (rel.external || !relTypeAllowed(relTypeShort(rel.type))) return "verify:relationship-type";
  }
  return "";
}

}  // namespace lbg::sanitizer::ooxml
