#include "sanitizer/ooxml/ooxml_sanitizer.h"

#include <deque>
#include <map>
#include <set>

#include "sanitizer/common/scratch_buffer.h"
#include "sanitizer/common/xml_util.h"
#include "sanitizer/ooxml/ooxml_content.h"
#include "sanitizer/ooxml/ooxml_package.h"
#include "sanitizer/ooxml/ooxml_rules.h"

namespace lbg::sanitizer::ooxml {
namespace {

constexpr std::string_view kRelNs = "http://schemas.openxmlformats.org/package/2006/relationships";
constexpr std::string_view kTypesNs = "http://schemas.openxmlformats.org/package/2006/content-types";

std::string location(const std::string& part) { return part.size() > 1 ? part.substr(1) : part; }

std::string externalKind(std::string_view shortType) {
  if (shortType == "hyperlink") return "external-hyperlink";
  if (shortType == "attachedTemplate") return "attached-template";
  if (shortType == "oleObject") return "external-ole-link";
  if (shortType == "image") return "external-image";
  if (shortType == "frame") return "external-frame";
  if (shortType == "externalLinkPath") return "external-link";
  return "external-relationship";
}

struct KeptPart {
  std::string contentType;           // as written to the new package
  std::vector<Relationship> rels;    // kept relationships of this part
};

std::string writeRels(const std::vector<Relationship>& rels) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  decl.append_attribute("standalone") = "yes";
  auto root = doc.append_child("Relationships");
  root.append_attribute("xmlns") = std::string(kRelNs).c_str();
  for (const auto& rel : rels) {
    auto node = root.append_child("Relationship");
    node.append_attribute("Id") = rel.id.c_str();
    node.append_attribute("Type") = rel.type.c_str();
    node.append_attribute("Target") = rel.target.c_str();
  }
  return xml::serialize(doc);
}

std::string writeContentTypes(const std::map<std::string, KeptPart>& parts) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  decl.append_attribute("standalone") = "yes";
  auto root = doc.append_child("Types");
  root.append_attribute("xmlns") = std::string(kTypesNs).c_str();
  auto rels = root.append_child("Default");
  rels.append_attribute("Extension") = "rels";
  rels.append_attribute("ContentType") = "application/vnd.openxmlformats-package.relationships+xml";
  for (const auto& [name, part] : parts) {
    auto node = root.append_child("Override");
    node.append_attribute("PartName") = name.c_str();
    node.append_attribute("ContentType") = part.contentType.c_str();
  }
  return xml::serialize(doc);
}

bool isWordPart(std::string_view ct) { return ct.find("wordprocessingml") != std::string_view::npos; }
bool isSheetPart(std::string_view ct) {
  return ct.find("spreadsheetml.worksheet") != std::string_view::npos ||
         ct.find("spreadsheetml.chartsheet") != std::string_view::npos;
}
bool isWorkbookPart(std::string_view ct) {
  return ct.find("spreadsheetml.sheet.main") != std::string_view::npos ||
         ct.find("spreadsheetml.template.main") != std::string_view::npos;
}
bool isDrawingPart(std::string_view ct) {
  return ct.find("presentationml") != std::string_view::npos || ct.find("drawing") != std::string_view::npos;
}

}  // namespace

FormatResult sanitize(std::string_view bytes, const FormatLimits& limits, const ImageRebuilder& images) {
  std::string reason;
  auto pkg = Package::open(bytes, limits, &reason);
  if (!pkg) return FormatResult::fail(reason);
  FormatResult result;

  std::map<std::string, KeptPart> kept;  // by part name as referenced (canonical case of the archive)
  std::set<std::string> visited;          // lower-case part names
  std::deque<std::string> queue;
  std::string mainPart;
  const MainPartRule* mainRule = nullptr;
  std::map<std::string, std::vector<Relationship>> relsOf;  // kept rels per source ("/" = root)

  auto visit = [&](const std::string& source) -> bool {
    std::vector<Relationship> rels;
    if (!pkg->relationships(source, &rels, &reason)) return false;
    std::vector<Relationship>& keep = relsOf[source];
    for (auto& rel : rels) {
      std::string shortType = relTypeShort(rel.type);
      if (rel.external) {
        addRemoved(result.removed, externalKind(shortType), location(source));
        continue;
      }
      std::string target = resolveTarget(source, rel.target);
      if (target.empty() || !pkg->has(target)) {
        addRemoved(result.removed, "dangling-relationship", location(source));
        continue;
      }
      if (!relTypeAllowed(shortType)) {
        addRemoved(result.removed, removedKindForRel(shortType), location(target));
        continue;
      }
      std::string ct = pkg->contentType(target);
      std::string outCt = ct;
      if (shortType == "officeDocument") {
        const MainPartRule* rule = mainPartRule(ct);
        if (source != "/" || rule == nullptr || !mainPart.empty()) {
          addRemoved(result.removed, "unknown-part", location(target));
          continue;
        }
        if (!rule->blockReason.empty()) {
          reason = std::string(rule->blockReason);
          return false;
        }
        mainRule = rule;
        mainPart = target;
        outCt = std::string(rule->outputMainType);
      } else if (!contentTypeAllowed(ct)) {
        std::string kind = ct.find("vbaProject") != std::string::npos ? "vbaProject"
                           : ct.find("activeX") != std::string::npos   ? "activex"
                           : ct.find("oleObject") != std::string::npos ? "ole-object"
                           : ct.find("macrosheet") != std::string::npos ? "macrosheet"
                           : ct.rfind("image/", 0) == 0                 ? "image-unsupported-format"
                                                                        : "disallowed-content-type";
        addRemoved(result.removed, kind, location(target));
        continue;
      }
      rel.target = rel.target;  // kept as written: relative targets stay valid in the same layout
      keep.push_back(rel);
      if (visited.insert(toLower(target)).second) {
        kept[target] = KeptPart{outCt, {}};
        queue.push_back(target);
      }
    }
    return true;
  };

  if (!visit("/")) return FormatResult::fail(reason);
  if (mainRule == nullptr) return FormatResult::fail("parse-error");
  while (!queue.empty()) {
    if (limits.expired()) return FormatResult::fail("limit:timeout");
    std::string part = queue.front();
    queue.pop_front();
    // Images have no relationships worth following; XML parts do.
    if (!isImageContentType(kept[part].contentType) && !visit(part)) return FormatResult::fail(reason);
  }

  // Parts nobody reaches through an allowed relationship are not copied; name the notable ones
  // (vbaData.xml hangs off vbaProject.bin, which was already refused).
  for (const std::string& part : pkg->partNames()) {
    std::string lower = toLower(part);
    if (visited.count(lower) || lower == "/[content_types].xml") continue;
    if (lower.size() > 5 && lower.substr(lower.size() - 5) == ".rels") continue;
    bool reported = false;
    for (const auto& item : result.removed) reported = reported || toLower("/" + item.location) == lower;
    if (reported) continue;
    std::string kind = lower.find("vbadata") != std::string::npos      ? "vbaData"
                       : lower.find("vbaproject") != std::string::npos ? "vbaProject"
                       : lower.find("activex") != std::string::npos    ? "activex"
                       : lower.find("embeddings") != std::string::npos ? "ole-object"
                       : lower.find("macrosheets") != std::string::npos ? "macrosheet"
                                                                        : "unreferenced-part";
    addRemoved(result.removed, kind, location(part));
  }

  // Images first: one that cannot be rebuilt is dropped together with the references to it.
  std::map<std::string, std::string> contents;
  std::set<std::string> droppedImages;
  for (auto& [name, part] : kept) {
    if (!isImageContentType(part.contentType)) continue;
    std::string raw, rebuilt, ct = part.contentType;
    if (!pkg->read(name, &raw, &reason)) return FormatResult::fail(reason);
    if (images && images(raw, &rebuilt, &ct)) {
      contents[name] = std::move(rebuilt);
      part.contentType = ct;
    } else {
      addRemoved(result.removed, "image-not-rebuildable", location(name));
      droppedImages.insert(toLower(name));
    }
  }
  if (!droppedImages.empty()) {
    for (auto it = kept.begin(); it != kept.end();) {
      it = droppedImages.count(toLower(it->first)) ? kept.erase(it) : std::next(it);
    }
    for (auto& [source, rels] : relsOf) {
      std::vector<Relationship> still;
      for (auto& rel : rels) {
        if (!droppedImages.count(toLower(resolveTarget(source, rel.target)))) still.push_back(rel);
      }
      rels = std::move(still);
    }
  }

  // XML parts: parse, neutralise, serialise, and straight into the new package (compressed as
  // added), so each part's buffers go back to the pool before the next part: a 40 MB
  // document.xml costs no fresh pages and no second copy.
  ZipWriter writer;
  writer.add("[Content_Types].xml", writeContentTypes(kept));
  writer.add("_rels/.rels", writeRels(relsOf["/"]));
  for (auto& [name, part] : kept) {
    if (isImageContentType(part.contentType)) {
      writer.add(name.substr(1), contents[name]);
      contents.erase(name);
    } else {
      if (limits.expired()) return FormatResult::fail("limit:timeout");
      ScratchBuffer raw;
      if (!pkg->read(name, &raw, &reason)) return FormatResult::fail(reason);
      pugi::xml_document doc;
      size_t rawSize = raw.size();
      if (!xml::parseInPlace(raw.data(), raw.size(), &doc)) return FormatResult::fail("parse-error");
      std::set<std::string> keptIds;
      for (const auto& rel : relsOf[name]) keptIds.insert(rel.id);
      const std::string& ct = part.contentType;
      std::string loc = location(name);
      if (isWordPart(ct)) {
        neutralizeWordFields(doc, loc, result.removed);
        if (ct.find("settings") != std::string::npos) neutralizeWordSettings(doc, loc, result.removed);
      }
      if (isWorkbookPart(ct)) neutralizeWorkbook(doc, keptIds, loc, result.removed);
      if (isSheetPart(ct)) neutralizeSheetFormulas(doc, loc, result.removed);
      if (isDrawingPart(ct) || isWordPart(ct) || isSheetPart(ct)) neutralizeActions(doc, loc, result.removed);
      if (ct.find("vmlDrawing") != std::string::npos) neutralizeVml(doc, loc, result.removed);
      removeDanglingReferences(doc, keptIds, loc, result.removed);
      if (isWorkbookPart(ct)) {
        // A workbook whose every sheet was a macro sheet has nothing left to show.
        bool anySheet = false;
        xml::forEachElement(doc, [&](pugi::xml_node n) { anySheet = anySheet || xml::localName(n.name()) == "sheet"; });
        if (!anySheet) return FormatResult::fail("no-content-left");
      }
      ScratchBuffer xmlOut = ScratchBuffer::take(rawSize + rawSize / 8 + 256);
      xml::serialize(doc, &xmlOut);
      writer.add(name.substr(1), xmlOut.view());
    }
    const auto& rels = relsOf[name];
    if (!rels.empty()) writer.add(relsPartFor(name).substr(1), writeRels(rels));
  }
  if (!writer.finish(&result.output, &reason)) return FormatResult::fail(reason);
  result.ok = true;
  result.outputType = std::string(mainRule->outputType);
  return result;
}

}  // namespace lbg::sanitizer::ooxml
