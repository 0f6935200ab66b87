#include "sanitizer/ooxml/ooxml_rules.h"

#include <pugixml.hpp>

#include <array>
#include <set>

namespace lbg::sanitizer::ooxml {
namespace {

constexpr std::string_view kDocx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml";
constexpr std::string_view kDotx = "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml";
constexpr std::string_view kXlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml";
constexpr std::string_view kXltx = "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml";
constexpr std::string_view kPptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml";
constexpr std::string_view kPotx = "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml";
constexpr std::string_view kPpsx = "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml";

struct MainEntry {
  std::string_view contentType;
  MainPartRule rule;
};

const std::array<MainEntry, 17> kMainParts = {{
    {kDocx, {"docx", "docx", kDocx, ""}},
    {"application/vnd.ms-word.document.macroEnabled.main+xml", {"docm", "docx", kDocx, ""}},
    {kDotx, {"dotx", "dotx", kDotx, ""}},
    {"application/vnd.ms-word.template.macroEnabledTemplate.main+xml", {"dotm", "dotx", kDotx, ""}},
    {kXlsx, {"xlsx", "xlsx", kXlsx, ""}},
    {"application/vnd.ms-excel.sheet.macroEnabled.main+xml", {"xlsm", "xlsx", kXlsx, ""}},
    {kXltx, {"xltx", "xltx", kXltx, ""}},
    {"application/vnd.ms-excel.template.macroEnabled.main+xml", {"xltm", "xltx", kXltx, ""}},
    // An add-in exists to carry code; without it nothing is left worth delivering.
    {"application/vnd.ms-excel.addin.macroEnabled.main+xml", {"xlam", "", "", "type-blocked:addin"}},
    // BIFF12 records, not XML: our rebuild works on XML parts only.
    {"application/vnd.ms-excel.sheet.binary.macroEnabled.main", {"xlsb", "", "", "type-blocked:xlsb"}},
    {kPptx, {"pptx", "pptx", kPptx, ""}},
    {"application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml", {"pptm", "pptx", kPptx, ""}},
    {kPotx, {"potx", "potx", kPotx, ""}},
    {"application/vnd.ms-powerpoint.template.macroEnabled.main+xml", {"potm", "potx", kPotx, ""}},
    {kPpsx, {"ppsx", "ppsx", kPpsx, ""}},
    {"application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml", {"ppsm", "ppsx", kPpsx, ""}},
    {"application/vnd.ms-powerpoint.addin.macroEnabled.main+xml", {"ppam", "", "", "type-blocked:addin"}},
}};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

struct Prefix {
  std::string_view uri;
  std::string_view shortPrefix;
};
const std::array<Prefix, 10> kRelPrefixes = {{
    {"http://schemas.openxmlformats.org/officeDocument/2006/relationships/", ""},
    {"http://purl.oclc.org/ooxml/officeDocument/relationships/", ""},
    {"http://schemas.openxmlformats.org/package/2006/relationships/metadata/", "metadata/"},
    {"http://schemas.openxmlformats.org/package/2006/relationships/digital-signature/", "signature/"},
    {"http://schemas.microsoft.com/office/2006/relationships/", "ms2006/"},
    {"http://schemas.microsoft.com/office/2007/relationships/", "ms2007/"},
    {"http://schemas.microsoft.com/office/2011/relationships/", "ms2011/"},
    {"http://schemas.microsoft.com/office/2016/09/relationships/", "ms2016/"},
    {"http://schemas.microsoft.com/office/2018/08/relationships/", "ms2018/"},
    {"http://schemas.microsoft.com/office/2017/10/relationships/", "ms2017/"},
}};

// Data and layout only: text, styles, numbering, drawings, charts, slides, properties.
const std::set<std::string_view> kAllowedRels = {
    "officeDocument", "metadata/core-properties", "extended-properties", "custom-properties",
    "metadata/thumbnail", "styles", "settings", "webSettings", "fontTable", "theme",
    "themeOverride", "numbering", "footnotes", "endnotes", "comments", "header", "footer", "image",
    "glossaryDocument", "customXml", "customXmlProps", "worksheet", "chartsheet", "sharedStrings",
    "calcChain", "drawing", "chart", "chartUserShapes", "table", "tableSingleCells", "vmlDrawing",
    "pivotTable", "pivotCacheDefinition", "pivotCacheRecords", "slide", "slideLayout",
    "slideMaster", "notesSlide", "notesMaster", "handoutMaster", "presProps", "viewProps",
    "tableStyles", "commentAuthors", "diagramData", "diagramLayout", "diagramQuickStyle",
    "diagramColors", "sheetMetadata", "tags", "ms2007/stylesWithEffects", "ms2007/diagramDrawing",
    "ms2011/people", "ms2011/commentsExtended", "ms2011/chartStyle", "ms2011/chartColorStyle",
    "ms2016/commentsIds", "ms2018/commentsExtensible", "ms2017/threadedComment", "ms2017/person"};

const std::set<std::string_view> kAllowedContentTypes = {
    "application/xml",
    "text/xml",
    "application/vnd.openxmlformats-package.core-properties+xml",
    "application/vnd.openxmlformats-officedocument.extended-properties+xml",
    "application/vnd.openxmlformats-officedocument.custom-properties+xml",
    "application/vnd.openxmlformats-officedocument.customXmlProperties+xml",
    "application/vnd.openxmlformats-officedocument.theme+xml",
    "application/vnd.openxmlformats-officedocument.themeOverride+xml",
    "application/vnd.openxmlformats-officedocument.vmlDrawing",
    "application/vnd.openxmlformats-officedocument.drawing+xml",
    "application/vnd.openxmlformats-officedocument.drawingml.chart+xml",
    "application/vnd.openxmlformats-officedocument.drawingml.chartshapes+xml",
    "application/vnd.openxmlformats-officedocument.drawingml.diagramData+xml",
    "application/vnd.openxmlformats-officedocument.drawingml.diagramLayout+xml",
    "application/vnd.openxmlformats-officedocument.drawingml.diagramStyle+xml",
    "application/vnd.openxmlformats-officedocument.drawingml.diagramColors+xml",
    "application/vnd.ms-office.drawingml.diagramDrawing+xml",
    "application/vnd.ms-office.chartstyle+xml",
    "application/vnd.ms-office.chartcolorstyle+xml",
    "application/vnd.ms-word.stylesWithEffects+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.webSettings+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.endnotes+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.people+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.commentsExtended+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.commentsIds+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.commentsExtensible+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.glossary+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.chartsheet+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.tableSingleCells+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.pivotTable+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.pivotCacheDefinition+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.pivotCacheRecords+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheetMetadata+xml",
    "application/vnd.ms-excel.threadedcomments+xml",
    "application/vnd.ms-excel.person+xml",
    "application/vnd.openxmlformats-officedocument.presentationml.slide+xml",
    "application/vnd.openxmlformats-officedocument.presentationml.slideLayout+xml",
    "application/vnd.openxmlformats-officedocument.presentationml.slideMaster+xml",
    "application/vnd.openxmlformats-officedocument.presentationml.notesSlide+xml",
    "application/vnd.openxmlformats-officedocument.presentationml.notesMaster+xml",
    "application/vnd.openxmlformats-officedocument.presentationml.handoutMaster+xml",
    "application/vnd.openxmlformats-officedocument.presentationml.presProps+xml",
    "application/vnd.openxmlformats-officedocument.presentationml.viewProps+xml",
    "application/vnd.openxmlformats-officedocument.presentationml.tableStyles+xml",
    "application/vnd.openxmlformats-officedocument.presentationml.commentAuthors+xml",
    "application/vnd.openxmlformats-officedocument.presentationml.comments+xml",
    "application/vnd.openxmlformats-officedocument.presentationml.tags+xml",
    // Raster images only, each re-encoded by the image rebuilder. EMF/WMF/TIFF/SVG/JPEG-XR are
    // dropped: we cannot re-encode them, and metafile parsers have a long exploit history.
    "image/png", "image/jpeg", "image/gif",
};

}  // namespace

std::string packageTypeFromContentTypes(std::string_view xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size(), pugi::parse_default)) return "";
  std::string found;
  for (pugi::xml_node node : doc.document_element().children()) {
    std::string_view ct = node.attribute("ContentType").as_string();
    if (const MainPartRule* rule = mainPartRule(ct)) {
      // Two different main parts in one package is an ambiguity an attacker would exploit.
      if (!found.empty() && found != rule->type) return "ooxml-ambiguous";
      found = std::string(rule->type);
    } else if (ct.find("application/vnd.ms-package.xps") == 0 || ct.find("xpsdocument") != std::string_view::npos) {
      if (found.empty()) found = "xps";
    }
  }
  return found;
}

const MainPartRule* mainPartRule(std::string_view contentType) {
  for (const auto& entry : kMainParts) {
    if (iequals(entry.contentType, contentType)) return &entry.rule;
  }
  return nullptr;
}

std::string relTypeShort(std::string_view relType) {
  for (const auto& prefix : kRelPrefixes) {
    if (relType.size() > prefix.uri.size() && relType.substr(0, prefix.uri.size()) == prefix.uri) {
      return std::string(prefix.shortPrefix) + std::string(relType.substr(prefix.uri.size()));
    }
  }
  return "";
}

bool relTypeAllowed(std::string_view shortType) { return kAllowedRels.count(shortType) != 0; }

std::string removedKindForRel(std::string_view s) {
  if (s == "ms2006/vbaProject") return "vbaProject";
  if (s == "ms2006/wordVbaData") return "vbaData";
  if (s == "ms2006/vbaProjectSignature" || s == "ms2006/vbaProjectSignatureAgile") return "vbaProject";
  if (s == "control" || s == "ms2006/activeXControlBinary" || s == "activeXControlBinary") return "activex";
  if (s == "oleObject") return "ole-object";
  if (s == "package") return "embedded-package";
  if (s == "externalLink" || s == "externalLinkPath") return "external-link";
  if (s == "attachedTemplate") return "attached-template";
  if (s == "ms2006/ui/extensibility" || s == "ms2007/ui/extensibility" || s == "ms2006/attachedToolbars") return "customUI";
  if (s == "aFChunk") return "altchunk";
  if (s == "subDocument") return "subdocument";
  if (s == "frame") return "frame";
  if (s == "connections" || s == "queryTable") return "data-connection";
  if (s == "font" || s == "ms2006/font") return "embedded-font";
  if (s == "printerSettings") return "printer-settings";
  if (s == "ms2006/xlMacrosheet" || s == "ms2006/xlIntlMacrosheet" || s == "dialogsheet" || s == "xlMacrosheet" || s == "xlIntlMacrosheet") return "macrosheet";
  if (s == "ms2006/keyMapCustomizations") return "keymap-customizations";
  if (s.substr(0, 10) == "signature/") return "digital-signature";
  if (s == "audio" || s == "video" || s == "ms2007/media" || s == "media") return "media";
  if (s == "hyperlink") return "hyperlink";
  if (s.find("webextension") != std::string_view::npos) return "web-extension";
  return "unknown-part";
}

bool contentTypeAllowed(std::string_view contentType) {
  std::string lower(contentType);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view allowed : kAllowedContentTypes) {
    if (iequals(allowed, lower)) return true;
  }
  return false;
}

bool isImageContentType(std::string_view contentType) {
  return iequals(contentType, "image/png") || iequals(contentType, "image/jpeg") ||
         iequals(contentType, "image/gif");
}

bool isRelationshipNamespace(std::string_view uri) {
  return uri == "http://schemas.openxmlformats.org/officeDocument/2006/relationships" ||
         uri == "http://purl.oclc.org/ooxml/officeDocument/relationships";
}

}  // namespace lbg::sanitizer::ooxml
