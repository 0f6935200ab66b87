#pragma once

#include <string>
#include <vector>

namespace lbg::control::cli {

// Plain-text table with a header row; columns padded by display width (CJK counts as two
// columns, so Japanese descriptions line up in a terminal).
std::string table(const std::vector<std::string>& headers,
                  const std::vector<std::vector<std::string>>& rows);

size_t displayWidth(const std::string& utf8);

}  // namespace lbg::control::cli
