#pragma once

#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "policy/base/result.h"

namespace lbg::control {

// An Error at a yaml-cpp node's position (yaml-cpp marks are 0-based; ours are 1-based).
inline Error yamlError(std::string_view file, const YAML::Node& node, std::string message) {
  const YAML::Mark m = node.Mark();
  if (m.is_null()) return Error{std::move(message), std::string(file)};
  return Error{std::move(message), std::string(file), m.line + 1, m.column + 1};
}

inline Error yamlError(std::string_view file, const YAML::Exception& e) {
  if (e.mark.is_null()) return Error{e.msg, std::string(file)};
  return Error{e.msg, std::string(file), e.mark.line + 1, e.mark.column + 1};
}

}  // namespace lbg::control
