#pragma once

#include <string_view>

#include "control/service_draft.h"
#include "policy/base/result.h"

namespace lbg::control {

// Imports an LGWAN-ASP service list from CSV (RFC 4180: commas, "quoted" fields with "" inside,
// CRLF or LF, UTF-8 with or without BOM). The first line names the columns, in any order:
//
//   name,fqdn,cidr,ports,description
//   jlis-portal,portal.lgwan.example.jp,,tcp/443,J-LIS portal
//   "e-tax-asp","a.asp.example.jp b.asp.example.jp","10.20.0.0/16",tcp/443;tcp/8443,"電子申請"
//
// `name` and `ports` are required columns; `fqdn`, `cidr`, `description` optional. Lists inside
// a cell are separated by spaces or ';'. Every service gets kind lgwan-asp. Errors give the line
// and column of the offending field; an unknown column is an error (a typo must not silently drop
// data).
Result<ImportResult> importAspCsv(std::string_view csvText, std::string_view fileName);

}  // namespace lbg::control
