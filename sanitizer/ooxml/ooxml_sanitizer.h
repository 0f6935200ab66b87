#pragma once

// OOXML (Word, Excel, PowerPoint 2007+) rebuild: a new package is written from an allow-list of
// parts reached through allowed relationships; macros, ActiveX, OLE, external relationships,
// custom UI, DDE and other active markup are dropped and named in the result.

#include <functional>
#include <string>
#include <string_view>

#include "sanitizer/common/format_result.h"

namespace lbg::sanitizer::ooxml {

// Rebuilds an image part; false drops the image. `contentType` in: the declared type; out: the
// type of the rebuilt bytes.
using ImageRebuilder =
    std::function<bool(std::string_view bytes, std::string* out, std::string* contentType)>;

// `bytes` is the ZIP package. Images are dropped when `images` is empty.
FormatResult sanitize(std::string_view bytes, const FormatLimits& limits, const ImageRebuilder& images);

// The second check on a rebuilt package: "" when clean, else a reason ("verify:vbaProject", ...).
// Independent of the rebuild's bookkeeping: it reads the output as an untrusted package again.
std::string verify(std::string_view bytes, const FormatLimits& limits);

// Plain UTF-8 text of a (rebuilt) package: Word paragraphs, Excel cells (tab separated rows),
// PowerPoint slide text in slide order. false + reason on failure.
bool extractText(std::string_view bytes, const FormatLimits& limits, std::string* text, std::string* reason);

}  // namespace lbg::sanitizer::ooxml
