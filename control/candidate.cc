#include "control/candidate.h"

#include <algorithm>

#include "control/yaml_util.h"
#include "policy/parser.h"

namespace lbg::control {

namespace {

constexpr const char* kCandidateFile = "candidate";

Result<YAML::Node> loadNode(const std::string& yaml) {
  try {
    YAML::Node root = YAML::Load(yaml);
    if (!root.IsMap()) return Error{"candidate policy is not a map", kCandidateFile};
    return root;
  } catch (const YAML::Exception& e) {
    return yamlError(kCandidateFile, e);
  }
}

std::string emit(const YAML::Node& root) {
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

// Index of the service called `name` in the `services` sequence, or -1.
int findService(const YAML::Node& services, const std::string& name) {
  if (!services || !services.IsSequence()) return -1;
  for (size_t i = 0; i < services.size(); ++i) {
    const YAML::Node n = services[i]["name"];
    if (n && n.IsScalar() && n.Scalar() == name) return static_cast<int>(i);
  }
  return -1;
}

Result<Candidate> finish(const YAML::Node& root, std::chrono::sys_days today) {
  return validateCandidate(emit(root), kCandidateFile, today);
}

void editList(YAML::Node service, const char* key, const std::vector<std::string>& add,
              const std::vector<std::string>& remove, std::vector<std::string>& missing) {
  std::vector<std::string> items;
  if (YAML::Node cur = service[key]; cur && cur.IsSequence()) {
    for (const auto& x : cur) items.push_back(x.Scalar());
  }
  for (const auto& r : remove) {
    auto it = std::find(items.begin(), items.end(), r);
    if (it == items.end()) {
      missing.push_back(std::string(key) + " " + r);
    } else {
      items.erase(it);
    }
  }
  for (const auto& a : add) {
    if (std::find(items.begin(), items.end(), a) == items.end()) items.push_back(a);
  }
  if (items.empty()) {
    service.remove(key);
    return;
  }
  YAML::Node seq(YAML::NodeType::Sequence);
  for (const auto& x : items) seq.push_back(x);
  service[key] = seq;
}

Result<Ok> validateDraftAlone(const ServiceDraft& d, std::chrono::sys_days today) {
  YAML::Node root = YAML::Load(emptyPolicyYaml());
  root["services"].push_back(d.toYaml());
  auto r = policy::parsePolicyText(emit(root), "draft", today);
  if (r.ok()) return Ok{};
  // "services[0].cidr[1]: host bits set" → "asp.csv:7: service foo: cidr[1]: host bits set"
  std::string msg = r.error().message;
  if (msg.rfind("services[0].", 0) == 0) msg = msg.substr(12);
  return Error{"service " + d.name + ": " + msg, d.originFile, d.originLine,
               d.originLine > 0 ? 1 : 0};
}

}  // namespace

Result<Candidate> setIdsRules(const std::string& yaml, const std::vector<std::string>& rules,
                              std::chrono::sys_days today) {
  auto root = loadNode(yaml);
  if (!root) return root.error();
  YAML::Node list(YAML::NodeType::Sequence);
  for (const auto& r : rules) list.push_back(r);
  YAML::Node ids = (*root)["ids"];
  if (!ids || !ids.IsMap()) {
    (*root)["ids"] = YAML::Node(YAML::NodeType::Map);
    ids = (*root)["ids"];
  }
  ids["rules"] = list;
  return finish(*root, today);
}

std::string emptyPolicyYaml() {
  // Default deny with no services: the safest start. `inside` must name the real segment before
  // the first commit is useful; 10.0.0.0/8 is a placeholder that validates.
  return "version: 1\nsegment:\n  inside: [10.0.0.0/8]\ndefaults:\n  deny: reset\nservices: []\n";
}

Result<Candidate> validateCandidate(const std::string& yaml, const std::string& fileName,
                                    std::chrono::sys_days today) {
  auto doc = policy::parsePolicyText(yaml, fileName, today);
  if (!doc) return doc.error();
  Candidate c{std::move(*doc), std::string()};
  c.yaml = policy::toYaml(c.doc);
  return c;
}

Result<ServiceEdit> ServiceEdit::fromJson(const nlohmann::json& args) {
  ServiceEdit e;
  for (auto it = args.begin(); it != args.end(); ++it) {
    const std::string& k = it.key();
    const auto list = [&](std::vector<std::string>& out) -> Result<Ok> {
      if (!it->is_array()) return Error{"\"" + k + "\" must be a list of strings"};
      for (const auto& x : *it) {
        if (!x.is_string()) return Error{"\"" + k + "\" must be a list of strings"};
        out.push_back(x.get<std::string>());
      }
      return Ok{};
    };
    const auto str = [&](std::optional<std::string>& out) -> Result<Ok> {
      if (!it->is_string()) return Error{"\"" + k + "\" must be a string"};
      out = it->get<std::string>();
      return Ok{};
    };
    Result<Ok> r = Ok{};
    if (k == "name") {
      continue;
    } else if (k == "add_fqdn") {
      r = list(e.addFqdns);
    } else if (k == "remove_fqdn") {
      r = list(e.removeFqdns);
    } else if (k == "add_cidr") {
      r = list(e.addCidrs);
    } else if (k == "remove_cidr") {
      r = list(e.removeCidrs);
    } else if (k == "add_ports") {
      r = list(e.addPorts);
    } else if (k == "remove_ports") {
      r = list(e.removePorts);
    } else if (k == "kind") {
      r = str(e.kind);
    } else if (k == "description") {
      r = str(e.description);
    } else if (k == "ismap_id") {
      r = str(e.ismapId);
    } else if (k == "ismap_expires") {
      r = str(e.ismapExpires);
    } else if (k == "intercept" || k == "sanitize") {
      if (!it->is_boolean()) return Error{"\"" + k + "\" must be true or false"};
      (k == "intercept" ? e.intercept : e.sanitize) = it->get<bool>();
    } else {
      return Error{"unknown edit \"" + k + "\""};
    }
    if (!r) return r.error();
  }
  return e;
}

Result<Candidate> addService(const std::string& yaml, const ServiceDraft& draft,
                             std::chrono::sys_days today) {
  auto root = loadNode(yaml);
  if (!root) return root.error();
  YAML::Node services = (*root)["services"];
  if (findService(services, draft.name) >= 0)
    return Error{"service \"" + draft.name + "\" already exists"};
  if (!services || !services.IsSequence()) {
    (*root)["services"] = YAML::Node(YAML::NodeType::Sequence);
    services = (*root)["services"];
  }
  services.push_back(draft.toYaml());
  return finish(*root, today);
}

Result<Candidate> editService(const std::string& yaml, const std::string& name,
                              const ServiceEdit& edit, std::chrono::sys_days today) {
  auto root = loadNode(yaml);
  if (!root) return root.error();
  YAML::Node services = (*root)["services"];
  const int i = findService(services, name);
  if (i < 0) return Error{"no service \"" + name + "\""};
  YAML::Node s = services[static_cast<size_t>(i)];
  std::vector<std::string> missing;
  editList(s, "fqdn", edit.addFqdns, edit.removeFqdns, missing);
  editList(s, "cidr", edit.addCidrs, edit.removeCidrs, missing);
  editList(s, "ports", edit.addPorts, edit.removePorts, missing);
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return Error{"service \"" + name + "\" has no " + list};
  }
  if (edit.kind) s["kind"] = *edit.kind;
  if (edit.description) {
    if (edit.description->empty()) {
      s.remove("description");
    } else {
      s["description"] = *edit.description;
    }
  }
  if (edit.ismapId) s["ismap"]["id"] = *edit.ismapId;
  if (edit.ismapExpires) s["ismap"]["expires"] = *edit.ismapExpires;
  if (edit.intercept) s["intercept"] = *edit.intercept;
  if (edit.sanitize) s["sanitize"] = *edit.sanitize;
  return finish(*root, today);
}

Result<Candidate> removeService(const std::string& yaml, const std::string& name,
                                std::chrono::sys_days today) {
  auto root = loadNode(yaml);
  if (!root) return root.error();
  YAML::Node services = (*root)["services"];
  const int i = findService(services, name);
  if (i < 0) return Error{"no service \"" + name + "\""};
  services.remove(static_cast<size_t>(i));
  return finish(*root, today);
}

Result<Candidate> mergeImported(const std::string& yaml, const ImportResult& imported,
                                const std::string& replacePrefix, std::chrono::sys_days today) {
  for (const auto& d : imported.services) {
    if (auto v = validateDraftAlone(d, today); !v) return v.error();
  }
  auto root = loadNode(yaml);
  if (!root) return root.error();
  YAML::Node old = (*root)["services"];
  YAML::Node merged(YAML::NodeType::Sequence);
  const auto isImported = [&](const std::string& n) {
    return std::any_of(imported.services.begin(), imported.services.end(),
                       [&](const ServiceDraft& d) { return d.name == n; });
  };
  // Keep unrelated services in place, replace same-named ones where they stand, append new ones.
  std::vector<std::string> placed;
  if (old && old.IsSequence()) {
    for (const auto& s : old) {
      const std::string n = s["name"] ? s["name"].Scalar() : std::string();
      if (isImported(n)) {
        for (const auto& d : imported.services) {
          if (d.name == n) merged.push_back(d.toYaml());
        }
        placed.push_back(n);
      } else if (replacePrefix.empty() || n.rfind(replacePrefix, 0) != 0) {
        merged.push_back(s);
      }
    }
  }
  for (const auto& d : imported.services) {
    if (std::find(placed.begin(), placed.end(), d.name) == placed.end())
      merged.push_back(d.toYaml());
  }
  (*root)["services"] = merged;
  return finish(*root, today);
}

}  // namespace lbg::control
