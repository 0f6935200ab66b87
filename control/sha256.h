#pragma once

#include <string>
#include <string_view>

namespace lbg::control {

// Lower-case hex SHA-256 (OpenSSL EVP). Versions, backups and argument digests in the admin log
// are identified by it.
std::string sha256Hex(std::string_view data);

// Lower-case hex HMAC-SHA-256 (backups are sealed with the store's key).
std::string hmacSha256Hex(std::string_view key, std::string_view data);

}  // namespace lbg::control
