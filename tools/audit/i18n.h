#pragma once

#include <string>

// Report texts in Japanese (default) and English. Keys are the English phrase ids below.
namespace lbg::audit {

const char* tr(const std::string& lang, const char* key);

}  // namespace lbg::audit
