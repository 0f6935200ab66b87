#pragma once

#include <string>
#include <string_view>

namespace lbg::sanitizer {

// Lower-case hex SHA-256 (OpenSSL EVP). "" only if OpenSSL itself fails.
std::string sha256Hex(std::string_view bytes);

}  // namespace lbg::sanitizer
