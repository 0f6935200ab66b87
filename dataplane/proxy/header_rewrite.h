#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "dataplane/proxy/http_head.h"

namespace lbg::proxy {

// Writes the request head to forward upstream: the request line, every field of `head` except
// those named (case-insensitively) in `set`, then each of `set` once with its configured value.
// Every copy the client sent of a tenant header (any case, duplicated, folded, empty) is dropped,
// so the vendor sees exactly the configured value and a client cannot smuggle its own. Folded
// values of the kept fields are unfolded (CR and LF become spaces). `out` is cleared first.
// Returns false when the rewritten head would exceed HttpHead's bounds (kMaxFields, kMaxBytes):
// the proxy then refuses the request, so that it never forwards a head it would refuse itself.
[[nodiscard]] bool rewriteRequestHead(const HttpHead& head, std::span<const std::pair<std::string, std::string>> set,
                        std::string& out);
// The same, and the fields named in `drop` are removed without a replacement (a sanitized
// service's `Range` and `If-Range`: the sanitizer needs the whole file, never a part of it).
[[nodiscard]] bool rewriteRequestHead(const HttpHead& head, std::span<const std::pair<std::string, std::string>> set,
                        std::span<const std::string> drop, std::string& out);

}  // namespace lbg::proxy
