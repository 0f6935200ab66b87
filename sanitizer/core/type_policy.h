#pragma once

// Which detected types are rebuilt and which are blocked by default. Only types with a rebuilder
// are allowed by default; executables, scripts, shortcuts, disk images, HTA, OneNote, Ichitaro,
// legacy binary Office and RTF without a converter, and anything unknown are blocked.

#include <map>
#include <string>

namespace lbg::sanitizer {

enum class TypeAction { Rebuild, Block, PassThrough };

struct TypeDecision {
  TypeAction action = TypeAction::Block;
  std::string reason;  // for Block: "type-blocked:exe", "encrypted", "empty", ...
};

// True for types the engine can rebuild.
bool hasRebuilder(const std::string& type);

// True for legacy Office and RTF (doc, xls, ppt, rtf): rebuilt only through a conversion to OOXML,
// which needs LibreOffice.
bool isLegacyOffice(const std::string& type);

// `overrides` is EngineConfig::allowTypes: false blocks a rebuildable type; true lets a type
// without a rebuilder pass unchanged (an administrator's explicit, logged choice). With
// `canConvertLegacy`, doc/xls/ppt/rtf are rebuilt (converted, then the OOXML rebuild).
TypeDecision decideType(const std::string& type, const std::map<std::string, bool>& overrides,
                        bool canConvertLegacy = false);

// Whether `name` is a type name this engine knows (for validating allowTypes at create()).
bool knownTypeName(const std::string& name);

}  // namespace lbg::sanitizer
