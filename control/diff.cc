#include "control/diff.h"

#include <algorithm>
#include <map>

namespace lbg::control {

namespace {

using nlohmann::json;
using policy::ServiceSpec;

std::vector<std::string> fqdnsOf(const ServiceSpec& s) {
  return s.fqdns;
}
std::vector<std::string> cidrsOf(const ServiceSpec& s) {
  std::vector<std::string> out;
  for (const auto& p : s.cidrs) out.push_back(p.toString());
  return out;
}
std::vector<std::string> portsOf(const ServiceSpec& s) {
  std::vector<std::string> out;
  for (const auto& p : s.ports) out.push_back(policy::toString(p));
  return out;
}
std::string ismapOf(const ServiceSpec& s) {
  return s.ismap ? s.ismap->id + " until " + s.ismap->expires : "-";
}
std::string prefixes(const std::vector<policy::Prefix>& v) {
  std::string out;
  for (const auto& p : v) out += (out.empty() ? "" : ", ") + p.toString();
  return out;
}

// Items of `b` not in `a`, in `b`'s order.
std::vector<std::string> minus(const std::vector<std::string>& b,
                               const std::vector<std::string>& a) {
  std::vector<std::string> out;
  for (const auto& x : b) {
    if (std::find(a.begin(), a.end(), x) == a.end()) out.push_back(x);
  }
  return out;
}

void setting(std::vector<PolicyDiff::Setting>& out, std::string key, std::string from,
             std::string to) {
  if (from != to) out.push_back({std::move(key), std::move(from), std::move(to)});
}

std::string appsOf(const ServiceSpec& s) {
  std::string out;
  for (const auto& a : s.apps) out += (out.empty() ? "" : ", ") + a;
  return out;
}

// "entra-v1 (Restrict-Access-To-Tenants: a, Restrict-Access-Context: b)": which tenants users
// may sign in to is an access decision, so the values are shown, not only the profile.
std::string tenantOf(const ServiceSpec& s) {
  if (!s.tenant) return "";
  std::string out = s.tenant->profile + " (";
  for (size_t i = 0; i < s.tenant->headers.size(); ++i) {
    out += (i ? ", " : "") + s.tenant->headers[i].first + ": " + s.tenant->headers[i].second;
  }
  return out + ")";
}

std::string pinsOf(const ServiceSpec& s) {
  std::string out;
  for (const auto& p : s.pins) out += (out.empty() ? "" : ", ") + p;
  return out;
}

// "check: enforce, ocsp: prefer": the destination certificate check and its revocation rule.
std::string certificateOf(const ServiceSpec& s) {
  return std::string("check: ") + policy::toString(s.certCheck) +
         ", ocsp: " + policy::toString(s.ocsp);
}

PolicyDiff::ServiceChange whole(const ServiceSpec& s, const char* change) {
  PolicyDiff::ServiceChange c{s.name, change, {}, {}, {}};
  auto& side = std::string(change) == "added" ? c.added : c.removed;
  for (auto [key, items] : {std::pair{"fqdn", fqdnsOf(s)}, std::pair{"cidr", cidrsOf(s)},
                            std::pair{"ports", portsOf(s)}}) {
    if (!items.empty()) side.emplace_back(key, items);
  }
  c.fields.push_back({"kind", "", policy::toString(s.kind)});
  if (s.ismap) c.fields.push_back({"ismap", "", ismapOf(s)});
  if (!s.apps.empty()) c.fields.push_back({"apps", "", appsOf(s)});
  if (s.intercept) c.fields.push_back({"intercept", "", "true"});
  if (s.tenant) c.fields.push_back({"tenant", "", tenantOf(s)});
  if (s.sanitize) c.fields.push_back({"sanitize", "", "true"});
  if (!s.pins.empty()) c.fields.push_back({"pins", "", pinsOf(s)});
  if (s.certCheck != policy::CertCheck::Enforce || s.ocsp != policy::OcspCheck::Prefer) {
    c.fields.push_back({"certificate", "", certificateOf(s)});
  }
  return c;
}

}  // namespace

PolicyDiff diffPolicies(const policy::PolicyDoc& a, const policy::PolicyDoc& b) {
  PolicyDiff d;
  setting(d.settings, "approval", a.approvalRequired ? "required" : "none",
          b.approvalRequired ? "required" : "none");
  setting(d.settings, "segment.inside", prefixes(a.inside), prefixes(b.inside));
  setting(d.settings, "defaults.deny", policy::toString(a.denyAction),
          policy::toString(b.denyAction));
  setting(d.settings, "defaults.quic", policy::toString(a.quic), policy::toString(b.quic));
  setting(d.settings, "defaults.ech", policy::toString(a.ech), policy::toString(b.ech));
  setting(d.settings, "defaults.sni_dns", policy::toString(a.sniDns), policy::toString(b.sniDns));
  setting(d.settings, "defaults.reload", policy::toString(a.reload), policy::toString(b.reload));
  // Which resolvers may write bindings is an access decision: approvers must see it change.
  auto resolvers = [](const policy::PolicyDoc& doc) {
    return doc.dnsResolvers ? prefixes(*doc.dnsResolvers)
                            : std::string("(infrastructure services on port 53)");
  };
  setting(d.settings, "dns.resolvers", resolvers(a), resolvers(b));
  setting(d.settings, "dns.queries", policy::toString(a.dnsQueries), policy::toString(b.dnsQueries));
  // The IDS stage's settings; its rules are compared by diffIdsRules() (control/ids_rules.h).
  setting(d.settings, "ids", a.ids ? "on" : "off", b.ids ? "on" : "off");
  if (a.ids && b.ids) {
    setting(d.settings, "ids.mode", policy::toString(a.ids->mode), policy::toString(b.ids->mode));
    setting(d.settings, "ids.on_fault", policy::toString(a.ids->onFault),
            policy::toString(b.ids->onFault));
  }

  std::map<std::string, const ServiceSpec*> before;
  for (const auto& s : a.services) before[s.name] = &s;
  std::map<std::string, const ServiceSpec*> after;
  for (const auto& s : b.services) after[s.name] = &s;
  for (const auto& s : a.services) {
    if (!after.count(s.name)) d.services.push_back(whole(s, "removed"));
  }
  for (const auto& s : b.services) {
    auto it = before.find(s.name);
    if (it == before.end()) {
      d.services.push_back(whole(s, "added"));
      continue;
    }
    const ServiceSpec& o = *it->second;
    if (o == s) continue;
    PolicyDiff::ServiceChange c{s.name, "changed", {}, {}, {}};
    for (auto [key, x, y] :
         {std::tuple{"fqdn", fqdnsOf(o), fqdnsOf(s)}, std::tuple{"cidr", cidrsOf(o), cidrsOf(s)},
          std::tuple{"ports", portsOf(o), portsOf(s)}}) {
      if (auto add = minus(y, x); !add.empty()) c.added.emplace_back(key, add);
      if (auto rem = minus(x, y); !rem.empty()) c.removed.emplace_back(key, rem);
    }
    setting(c.fields, "kind", policy::toString(o.kind), policy::toString(s.kind));
    setting(c.fields, "ismap", ismapOf(o), ismapOf(s));
    setting(c.fields, "apps", appsOf(o), appsOf(s));
    setting(c.fields, "intercept", o.intercept ? "true" : "false", s.intercept ? "true" : "false");
    setting(c.fields, "tenant", tenantOf(o), tenantOf(s));
    setting(c.fields, "sanitize", o.sanitize ? "true" : "false", s.sanitize ? "true" : "false");
    setting(c.fields, "pins", pinsOf(o), pinsOf(s));
    setting(c.fields, "certificate", certificateOf(o), certificateOf(s));
    setting(c.fields, "description", o.description, s.description);
    // Only the order of list items changed: matching takes the most specific rule, so that is
    // not a change in what passes; but it is still a change of text, so show it as such.
    if (c.added.empty() && c.removed.empty() && c.fields.empty())
      c.fields.push_back({"order", "", "reordered"});
    d.services.push_back(std::move(c));
  }
  return d;
}

json PolicyDiff::toJson() const {
  json j = {{"settings", json::array()}, {"services", json::array()}};
  for (const auto& s : settings)
    j["settings"].push_back({{"key", s.key}, {"from", s.from}, {"to", s.to}});
  for (const auto& c : services) {
    json sc = {{"name", c.name},
               {"change", c.change},
               {"added", json::object()},
               {"removed", json::object()},
               {"fields", json::array()}};
    for (const auto& [k, v] : c.added) sc["added"][k] = v;
    for (const auto& [k, v] : c.removed) sc["removed"][k] = v;
    for (const auto& f : c.fields)
      sc["fields"].push_back({{"key", f.key}, {"from", f.from}, {"to", f.to}});
    j["services"].push_back(sc);
  }
  if (!ids.empty()) {
    const auto files = [](const std::vector<IdsRules::File>& v) {
      json a = json::array();
      for (const auto& f : v) {
        json o = {{"path", f.path}, {"name", f.name}, {"sha256", f.sha256}, {"rules", f.rules}};
        if (!f.error.empty()) o["error"] = f.error;
        a.push_back(o);
      }
      return a;
    };
    j["ids"] = {{"files_added", files(ids.added)},
                {"files_removed", files(ids.removed)},
                {"rules_from", ids.rulesFrom},
                {"rules_to", ids.rulesTo},
                {"sids_added", ids.sidsAdded},
                {"sids_removed", ids.sidsRemoved},
                {"sids_revised", ids.sidsRevised},
                {"sids_added_total", ids.sidsAddedTotal},
                {"sids_removed_total", ids.sidsRemovedTotal},
                {"sids_revised_total", ids.sidsRevisedTotal}};
  }
  return j;
}

std::string PolicyDiff::toText() const {
  std::string out;
  for (const auto& s : settings) out += "~ " + s.key + ": " + s.from + " -> " + s.to + "\n";
  if (!ids.empty()) {
    out += "~ ids.rules: " + std::to_string(ids.rulesFrom) + " -> " + std::to_string(ids.rulesTo) +
           " rules\n";
    const auto file = [&](char mark, const IdsRules::File& f) {
      out += std::string("    ") + mark + " file " + f.name +
             (f.sha256.empty() ? ""
                               : " (sha256 " + f.sha256.substr(0, 12) + ", " +
                                     std::to_string(f.rules) + " rules)") +
             (f.error.empty() ? "" : " [" + f.error + "]") + "\n";
    };
    for (const auto& f : ids.removed) file('-', f);
    for (const auto& f : ids.added) file('+', f);
    const auto sids = [&](const char* what, const std::vector<std::string>& v, size_t total) {
      if (total == 0) return;
      out += "    " + std::string(what) + " " + std::to_string(total) + ":";
      for (const auto& x : v) out += " " + x;
      if (total > v.size()) out += " ...";
      out += "\n";
    };
    sids("+ sids", ids.sidsAdded, ids.sidsAddedTotal);
    sids("- sids", ids.sidsRemoved, ids.sidsRemovedTotal);
    sids("~ sids (new rev)", ids.sidsRevised, ids.sidsRevisedTotal);
  }
  for (const auto& c : services) {
    const char mark = c.change == "added" ? '+' : c.change == "removed" ? '-' : '~';
    out += std::string(1, mark) + " service " + c.name + "\n";
    for (const auto& f : c.fields) {
      out += "    " + f.key + ": " + (f.from.empty() ? f.to : f.from + " -> " + f.to) + "\n";
    }
    for (const auto& [k, v] : c.added) {
      for (const auto& x : v) out += "    + " + k + " " + x + "\n";
    }
    for (const auto& [k, v] : c.removed) {
      for (const auto& x : v) out += "    - " + k + " " + x + "\n";
    }
  }
  if (out.empty()) out = "no changes\n";
  return out;
}

}  // namespace lbg::control
