#include "control/service_draft.h"

namespace lbg::control {

using nlohmann::json;

YAML::Node ServiceDraft::toYaml() const {
  YAML::Node n(YAML::NodeType::Map);
  n["name"] = name;
  n["kind"] = kind;
  if (!ismapId.empty() || !ismapExpires.empty()) {
    YAML::Node i(YAML::NodeType::Map);
    i["id"] = ismapId;
    i["expires"] = ismapExpires;
    n["ismap"] = i;
  }
  const auto list = [&](const char* key, const std::vector<std::string>& v) {
    if (v.empty()) return;
    YAML::Node s(YAML::NodeType::Sequence);
    for (const auto& x : v) s.push_back(x);
    n[key] = s;
  };
  list("fqdn", fqdns);
  list("cidr", cidrs);
  list("ports", ports);
  if (intercept) n["intercept"] = true;
  if (sanitize) n["sanitize"] = true;
  if (!description.empty()) n["description"] = description;
  return n;
}

json ServiceDraft::toJson() const {
  json j = {{"name", name},
            {"kind", kind},
            {"fqdn", fqdns},
            {"cidr", cidrs},
            {"ports", ports},
            {"intercept", intercept},
            {"sanitize", sanitize},
            {"description", description}};
  if (!ismapId.empty() || !ismapExpires.empty())
    j["ismap"] = {{"id", ismapId}, {"expires", ismapExpires}};
  return j;
}

Result<ServiceDraft> ServiceDraft::fromJson(const json& args) {
  if (!args.is_object()) return Error{"service must be an object"};
  ServiceDraft d;
  for (auto it = args.begin(); it != args.end(); ++it) {
    const std::string& k = it.key();
    const json& v = *it;
    const auto str = [&](std::string& out) -> Result<Ok> {
      if (!v.is_string()) return Error{"\"" + k + "\" must be a string"};
      out = v.get<std::string>();
      return Ok{};
    };
    const auto list = [&](std::vector<std::string>& out) -> Result<Ok> {
      if (!v.is_array()) return Error{"\"" + k + "\" must be a list of strings"};
      for (const auto& x : v) {
        if (!x.is_string()) return Error{"\"" + k + "\" must be a list of strings"};
        out.push_back(x.get<std::string>());
      }
      return Ok{};
    };
    Result<Ok> r = Ok{};
    if (k == "name") {
      r = str(d.name);
    } else if (k == "kind") {
      r = str(d.kind);
    } else if (k == "ismap_id") {
      r = str(d.ismapId);
    } else if (k == "ismap_expires") {
      r = str(d.ismapExpires);
    } else if (k == "fqdn") {
      r = list(d.fqdns);
    } else if (k == "cidr") {
      r = list(d.cidrs);
    } else if (k == "ports") {
      r = list(d.ports);
    } else if (k == "description") {
      r = str(d.description);
    } else if (k == "intercept" || k == "sanitize") {
      if (!v.is_boolean()) return Error{"\"" + k + "\" must be true or false"};
      (k == "intercept" ? d.intercept : d.sanitize) = v.get<bool>();
    } else {
      return Error{"unknown service field \"" + k + "\""};
    }
    if (!r) return r.error();
  }
  if (d.name.empty()) return Error{"a service needs a name"};
  if (d.kind.empty()) d.kind = "cloud";
  return d;
}

}  // namespace lbg::control
