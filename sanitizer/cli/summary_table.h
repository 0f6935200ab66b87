#pragma once

// The end-of-run table of lbg-sanitize: bilingual headers, columns aligned by display width (CJK
// characters take two terminal columns).

#include <string>
#include <vector>

namespace lbg::sanitizer::cli {

// Terminal columns needed for a UTF-8 string (East Asian wide and fullwidth characters count 2).
size_t displayWidth(const std::string& utf8);

// rows[0] is the header row. Every row has the same number of cells.
std::string renderTable(const std::vector<std::vector<std::string>>& rows);

}  // namespace lbg::sanitizer::cli
