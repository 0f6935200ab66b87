#pragma once

// Transforms of the XML inside kept OOXML parts: whatever in the markup can still act once the
// dangerous parts are gone (DDE and include fields, references to dropped relationships, macro
// names, external formulas, program-launching action settings, mail-merge data sources).

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "sanitizer/common/removed.h"

namespace lbg::sanitizer::ooxml {

// Whether a Word field instruction (e.g. " PAGE \* MERGEFORMAT") is on the allow-list. DDE,
// DDEAUTO, INCLUDETEXT, INCLUDEPICTURE, LINK, IMPORT, MACROBUTTON, QUOTE, ... are not.
bool fieldInstructionAllowed(std::string_view instruction);

// Word: fields not on the allow-list lose their code and keep their last displayed result as
// plain text (w:fldSimple unwrapped; w:fldChar/w:instrText of complex fields removed).
void neutralizeWordFields(pugi::xml_document& doc, const std::string& location,
                          std::vector<RemovedItem>& removed);

// Word settings: attached template, mail-merge data source, document-variable-free.
void neutralizeWordSettings(pugi::xml_document& doc, const std::string& location,
                            std::vector<RemovedItem>& removed);

// Every attribute in the relationships namespace whose id is not in `keptIds` (the relationship
// was dropped, or never existed): the referencing element goes, or only the attribute where the
// element carries visible content (w:hyperlink keeps its text, a:blip loses r:link).
void removeDanglingReferences(pugi::xml_document& doc, const std::set<std::string>& keptIds,
                              const std::string& location, std::vector<RemovedItem>& removed);

// SpreadsheetML workbook: Auto_Open/Auto_Close style names and names pointing at removed sheets or
// external workbooks. `removedSheets` are the names of sheets whose part was dropped.
void neutralizeWorkbook(pugi::xml_document& doc, const std::set<std::string>& keptSheetIds,
                        const std::string& location, std::vector<RemovedItem>& removed);

// SpreadsheetML sheet: formulas referring to external workbooks ([n]) or DDE (app|topic!item)
// are removed; the cached value stays as a constant.
void neutralizeSheetFormulas(pugi::xml_document& doc, const std::string& location,
                             std::vector<RemovedItem>& removed);

// Formula text that reaches outside the workbook (external reference or DDE).
bool formulaIsExternal(std::string_view formula);

// PresentationML / DrawingML: hlinkClick / hlinkHover actions that run programs, macros or OLE
// verbs are removed.
void neutralizeActions(pugi::xml_document& doc, const std::string& location,
                       std::vector<RemovedItem>& removed);

// VML: attributes pointing outside the package (o:href, src with a URL or UNC path).
void neutralizeVml(pugi::xml_document& doc, const std::string& location,
                   std::vector<RemovedItem>& removed);

}  // namespace lbg::sanitizer::ooxml
