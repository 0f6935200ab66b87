#include "sanitizer/ooxml/ooxml_content.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "sanitizer/common/xml_util.h"
#include "sanitizer/ooxml/ooxml_rules.h"

namespace lbg::sanitizer::ooxml {
namespace {

using xml::localName;

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Fields that compute from the document itself or format text. Anything that reads files, URLs,
// other programs (DDE), runs macros, prompts the user or builds another field's code (QUOTE, the
// usual DDE obfuscation) is left out.
const std::set<std::string>& allowedFields() {
  static const std::set<std::string> kAllowed = {
      "PAGE", "NUMPAGES", "SECTIONPAGES", "SECTION", "DATE", "TIME", "CREATEDATE", "SAVEDATE",
      "PRINTDATE", "EDITTIME", "TOC", "TOA", "TC", "TA", "INDEX", "XE", "RD", "REF", "PAGEREF",
      "NOTEREF", "STYLEREF", "SEQ", "AUTHOR", "TITLE", "SUBJECT", "KEYWORDS", "COMMENTS",
      "LASTSAVEDBY", "NUMWORDS", "NUMCHARS", "REVNUM", "TEMPLATE", "FILENAME", "FILESIZE",
      "DOCPROPERTY", "USERNAME", "USERINITIALS", "USERADDRESS", "INFO", "SYMBOL", "EQ",
      "ADVANCE", "FORMTEXT", "FORMCHECKBOX", "FORMDROPDOWN", "LISTNUM", "AUTONUM", "AUTONUMLGL",
      "AUTONUMOUT", "BIBLIOGRAPHY", "CITATION", "MERGEFIELD", "MERGEREC", "MERGESEQ", "NEXT",
      "NEXTIF", "SKIPIF", "SET", "IF", "COMPARE", "=", "BARCODE", "DISPLAYBARCODE", "GREETINGLINE",
      "ADDRESSBLOCK", "BIDIOUTLINE"};
  return kAllowed;
}

bool hasElementChild(pugi::xml_node node) {
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element) return true;
  }
  return false;
}

}  // namespace

bool fieldInstructionAllowed(std::string_view instruction) {
  size_t i = 0;
  while (i < instruction.size() && std::isspace(static_cast<unsigned char>(instruction[i]))) ++i;
  size_t start = i;
  if (i < instruction.size() && instruction[i] == '=') return true;  // formula field
  while (i < instruction.size() && !std::isspace(static_cast<unsigned char>(instruction[i])) &&
         instruction[i] != '\\' && instruction[i] != '"') {
    ++i;
  }
  if (i == start) return false;  // empty code, or code built by a nested field
  return allowedFields().count(upper(instruction.substr(start, i - start))) != 0;
}

void neutralizeWordFields(pugi::xml_document& doc, const std::string& location,
                          std::vector<RemovedItem>& removed) {
  struct OpenField {
    std::vector<pugi::xml_node> nodes;  // fldChar begin/separate/end and instrText of this field
    std::string code;
    bool inCode = true;
  };
  std::vector<OpenField> stack;
  std::vector<pugi::xml_node> toRemove;
  std::vector<pugi::xml_node> toUnwrap;
  auto closeField = [&](OpenField field) {
    if (!fieldInstructionAllowed(field.code)) {
      addRemoved(removed, upper(field.code).find("DDE") != std::string::npos ? "dde-field" : "field-code",
                 location);
      toRemove.insert(toRemove.end(), field.nodes.begin(), field.nodes.end());
    } else if (!stack.empty() && stack.back().inCode) {
      // Nested in another field's code: it lives and dies with the outer field.
      auto& outer = stack.back().nodes;
      outer.insert(outer.end(), field.nodes.begin(), field.nodes.end());
    }
  };
  xml::forEachElement(doc, [&](pugi::xml_node node) {
    std::string_view local = localName(node.name());
    if (local == "fldSimple") {
      if (!fieldInstructionAllowed(node.attribute("w:instr").as_string())) {
        std::string code = upper(node.attribute("w:instr").as_string());
        addRemoved(removed, code.find("DDE") != std::string::npos ? "dde-field" : "field-code", location);
        toUnwrap.push_back(node);
      }
    } else if (local == "fldData") {
      toRemove.push_back(node);
    } else if (local == "fldChar") {
      std::string_view type = node.attribute("w:fldCharType").as_string();
      if (type == "begin") {
        stack.push_back(OpenField{});
        stack.back().nodes.push_back(node);
      } else if (type == "separate" && !stack.empty()) {
        stack.back().inCode = false;
        stack.back().nodes.push_back(node);
      } else if (type == "end" && !stack.empty()) {
        OpenField field = std::move(stack.back());
        stack.pop_back();
        field.nodes.push_back(node);
        closeField(std::move(field));
      } else {
        toRemove.push_back(node);  // unbalanced marker: meaningless, and ambiguous to readers
      }
    } else if (local == "instrText" || local == "delInstrText") {
      if (!stack.empty()) {
        // The code of the innermost field still reading its code.
        for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
          if (it->inCode) {
            it->code += node.text().get();
            it->nodes.push_back(node);
            return;
          }
        }
      }
      toRemove.push_back(node);
    }
  });
  // Fields never closed: readers differ on what they mean, so the code goes.
  while (!stack.empty()) {
    OpenField field = std::move(stack.back());
    stack.pop_back();
    addRemoved(removed, "field-code", location);
    toRemove.insert(toRemove.end(), field.nodes.begin(), field.nodes.end());
  }
  for (pugi::xml_node node : toUnwrap) xml::unwrap(node);
  xml::removeAll(doc, std::move(toRemove), {});
}

void neutralizeWordSettings(pugi::xml_document& doc, const std::string& location,
                            std::vector<RemovedItem>& removed) {
  std::vector<pugi::xml_node> drop;
  xml::forEachElement(doc, [&](pugi::xml_node node) {
    std::string_view local = localName(node.name());
    if (local == "mailMerge") {
      addRemoved(removed, "mail-merge", location);
      drop.push_back(node);
    } else if (local == "attachedTemplate") {
      addRemoved(removed, "attached-template", location);
      drop.push_back(node);
    } else if (local == "docVars") {
      // Document variables are storage for macros; without macros they only carry payloads.
      addRemoved(removed, "document-variables", location);
      drop.push_back(node);
    }
  });
  xml::removeAll(doc, std::move(drop), {});
}

void removeDanglingReferences(pugi::xml_document& doc, const std::set<std::string>& keptIds,
                              const std::string& location, std::vector<RemovedItem>& removed) {
  struct Hit {
    pugi::xml_node node;
    std::string attribute;
  };
  std::vector<Hit> hits;
  xml::forEachElement(doc, [&](pugi::xml_node node) {
    for (pugi::xml_attribute a = node.first_attribute(); a; a = a.next_attribute()) {
      std::string_view name = a.name();
      std::string_view prefix = xml::prefixOf(name);
      if (prefix.empty() || prefix == "xmlns") continue;
      if (!isRelationshipNamespace(xml::namespaceUri(node, prefix))) continue;
      if (keptIds.count(a.value()) != 0) continue;
      hits.push_back(Hit{node, std::string(name)});
    }
  });
  std::vector<pugi::xml_node> elementsToRemove;
  for (Hit& hit : hits) {
    std::string_view local = localName(hit.node.name());
    std::string_view attrLocal = localName(hit.attribute);
    bool keepElement = attrLocal == "link" || attrLocal == "href" ||
                       (local == "hyperlink" && hasElementChild(hit.node) &&
                        xml::prefixOf(hit.node.name()) == "w");
    addRemoved(removed, "relationship-reference", location);
    if (keepElement) {
      hit.node.remove_attribute(hit.attribute.c_str());
      continue;
    }
    // A PresentationML OLE object or control sits in a graphic frame: remove the whole frame.
    pugi::xml_node target = hit.node;
    if (local == "oleObj" || local == "control") {
      for (pugi::xml_node p = hit.node.parent(); p; p = p.parent()) {
        if (localName(p.name()) == "graphicFrame") {
          target = p;
          break;
        }
      }
    }
    elementsToRemove.push_back(target);
  }
  xml::removeAll(doc, std::move(elementsToRemove),
                 {"oleObjects", "controls", "hyperlinks", "externalReferences", "object"});
}

void neutralizeWorkbook(pugi::xml_document& doc, const std::set<std::string>& keptSheetIds,
                        const std::string& location, std::vector<RemovedItem>& removed) {
  pugi::xml_node workbook = doc.document_element();
  std::set<std::string> removedSheets;
  std::map<int, int> indexMap;  // old sheet index -> new index
  int oldIndex = 0, newIndex = 0;
  for (pugi::xml_node sheets : workbook.children()) {
    if (localName(sheets.name()) != "sheets") continue;
    for (pugi::xml_node sheet : sheets.children()) {
      if (sheet.type() != pugi::node_element) continue;
      bool kept = false;
      for (pugi::xml_attribute a = sheet.first_attribute(); a; a = a.next_attribute()) {
        if (localName(a.name()) == "id" && xml::prefixOf(a.name()) != "" &&
            keptSheetIds.count(a.value())) {
          kept = true;
        }
      }
      if (kept) {
        indexMap[oldIndex] = newIndex++;
      } else {
        removedSheets.insert(sheet.attribute("name").as_string());
      }
      ++oldIndex;
    }
  }
  std::vector<pugi::xml_node> drop;
  xml::forEachElement(workbook, [&](pugi::xml_node node) {
    std::string_view local = localName(node.name());
    if (local == "definedName") {
      std::string name = upper(node.attribute("name").as_string());
      std::string value = node.text().get();
      bool autoName = name.find("AUTO_OPEN") != std::string::npos ||
                      name.find("AUTO_CLOSE") != std::string::npos ||
                      name.find("AUTO_ACTIVATE") != std::string::npos ||
                      name.find("AUTO_DEACTIVATE") != std::string::npos;
      bool toRemovedSheet = false;
      for (const auto& sheetName : removedSheets) {
        if (value.find(sheetName + "!") != std::string::npos ||
            value.find("'" + sheetName + "'!") != std::string::npos) {
          toRemovedSheet = true;
        }
      }
      pugi::xml_attribute local_id = node.attribute("localSheetId");
      bool badScope = false;
      if (local_id) {
        auto it = indexMap.find(local_id.as_int(-1));
        if (it == indexMap.end()) {
          badScope = true;
        } else {
          local_id.set_value(it->second);
        }
      }
      if (autoName) {
        addRemoved(removed, "auto-open-name", location);
        drop.push_back(node);
      } else if (toRemovedSheet || badScope || formulaIsExternal(value)) {
        addRemoved(removed, "defined-name", location);
        drop.push_back(node);
      }
    } else if (local == "workbookView") {
      for (const char* attr : {"activeTab", "firstSheet"}) {
        pugi::xml_attribute a = node.attribute(attr);
        if (a && (newIndex == 0 || a.as_int() >= newIndex)) a.set_value(0);
      }
    }
  });
  xml::removeAll(doc, std::move(drop), {"definedNames"});
}

bool formulaIsExternal(std::string_view f) {
  // [n] outside string literals is an external workbook index; '|' outside literals is DDE
  // (app|topic!item). Quoted sheet names ('...') and strings ("...") are skipped.
  char quote = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    char c = f[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '|') {
      return true;
    } else if (c == '[' && i + 1 < f.size() && std::isdigit(static_cast<unsigned char>(f[i + 1]))) {
      return true;
    }
  }
  // A quoted external path like '[book.xlsx]Sheet'! or 'C:\path\[book]Sheet'! sits inside quotes.
  return f.find("]") != std::string_view::npos && f.find("'") != std::string_view::npos &&
         f.find("!") != std::string_view::npos && f.find("[") != std::string_view::npos;
}

void neutralizeSheetFormulas(pugi::xml_document& doc, const std::string& location,
                             std::vector<RemovedItem>& removed) {
  std::vector<pugi::xml_node> drop;
  xml::forEachElement(doc, [&](pugi::xml_node node) {
    if (localName(node.name()) == "f" && formulaIsExternal(node.text().get())) {
      bool dde = std::string_view(node.text().get()).find('|') != std::string_view::npos;
      addRemoved(removed, dde ? "dde-formula" : "external-formula", location);
      drop.push_back(node);
    }
  });
  xml::removeAll(doc, std::move(drop), {});
}

void neutralizeActions(pugi::xml_document& doc, const std::string& location,
                       std::vector<RemovedItem>& removed) {
  std::vector<pugi::xml_node> drop;
  xml::forEachElement(doc, [&](pugi::xml_node node) {
    std::string_view local = localName(node.name());
    if (local != "hlinkClick" && local != "hlinkHover" && local != "hlinkMouseOver") return;
    std::string_view action = node.attribute("action").as_string();
    if (action.empty()) return;
    // Jumps within the presentation are fine; programs, macros, OLE verbs and other
    // presentations are not.
    bool safe = action.rfind("ppaction://hlinkshowjump", 0) == 0 ||
                action.rfind("ppaction://hlinksldjump", 0) == 0 || action == "ppaction://noaction" ||
                action.rfind("ppaction://customshow", 0) == 0;
    if (!safe) {
      addRemoved(removed, "action-setting", location);
      drop.push_back(node);
    }
  });
  xml::removeAll(doc, std::move(drop), {});
}

void neutralizeVml(pugi::xml_document& doc, const std::string& location,
                   std::vector<RemovedItem>& removed) {
  struct Hit {
    pugi::xml_node node;
    std::string attribute;
  };
  std::vector<Hit> hits;
  xml::forEachElement(doc, [&](pugi::xml_node node) {
    for (pugi::xml_attribute a = node.first_attribute(); a; a = a.next_attribute()) {
      std::string_view local = localName(a.name());
      if (local != "href" && local != "src" && local != "althref") continue;
      std::string_view v = a.value();
      if (v.find(':') != std::string_view::npos || v.find("\\\\") != std::string_view::npos ||
          v.find("//") != std::string_view::npos) {
        hits.push_back(Hit{node, a.name()});
      }
    }
  });
  for (Hit& hit : hits) {
    addRemoved(removed, "external-reference", location);
    hit.node.remove_attribute(hit.attribute.c_str());
  }
}

}  // namespace lbg::sanitizer::ooxml
