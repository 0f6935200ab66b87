#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "policy/base/result.h"

namespace lbg::dataplane {

// A listening endpoint of the gateway's configuration: "HOST:PORT", "[V6]:PORT" or a bare "PORT"
// (host left empty). Parsed once when the configuration is loaded, so that no later code cuts
// the text again.
struct ListenAddress {
  std::string host;  // without brackets; empty: not given
  uint16_t port = 0;

  // The error message says what is wrong with `text`; the caller adds the position.
  static Result<ListenAddress> parse(std::string_view text);
  std::string toString() const;
};

}  // namespace lbg::dataplane
