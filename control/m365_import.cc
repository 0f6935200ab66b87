#include "control/m365_import.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace lbg::control {

namespace {

using nlohmann::json;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Service names are [a-z0-9._-]+; an area such as "Skype" becomes "skype".
std::string nameToken(std::string_view s) {
  std::string out = lower(s);
  for (auto& c : out) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) c = '-';
  }
  return out.empty() ? "unknown" : out;
}

bool selected(const std::vector<std::string>& filter, const std::string& value) {
  if (filter.empty()) return true;
  return std::any_of(filter.begin(), filter.end(),
                     [&](const std::string& f) { return lower(f) == lower(value); });
}

// Byte offset → 1-based line and column, for JSON syntax errors.
Error at(std::string_view text, std::string_view file, size_t offset, std::string message) {
  int line = 1;
  int column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return Error{std::move(message), std::string(file), line, column};
}

bool allDigits(std::string_view s) {
  return !s.empty() && s.size() <= 5 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Result<std::vector<std::string>> m365Ports(std::string_view list, std::string_view proto) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = list.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    const size_t dash = item.find('-');
    const std::string_view lo = item.substr(0, dash);
    const std::string_view hi = dash == std::string_view::npos ? lo : item.substr(dash + 1);
    if (!allDigits(lo) || !allDigits(hi)) return Error{"bad port \"" + std::string(item) + "\""};
    const int l = std::stoi(std::string(lo));
    const int h = std::stoi(std::string(hi));
    if (l < 1 || h > 65535 || l > h) return Error{"bad port range \"" + std::string(item) + "\""};
    out.push_back(std::string(proto) + "/" +
                  (l == h ? std::to_string(l) : std::to_string(l) + "-" + std::to_string(h)));
    start = comma + 1;
  }
  return out;
}

Result<ImportResult> importM365(std::string_view text, std::string_view fileName,
                                const M365Options& options) {
  const std::string file(fileName);
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return at(text, fileName, e.byte > 0 ? e.byte - 1 : 0,
              std::string("not valid JSON: ") + e.what());
  } catch (const std::exception& e) {
    return Error{std::string("not valid JSON: ") + e.what(), file};
  }
  if (!doc.is_array()) {
    return Error{"expected the Microsoft 365 endpoint list: a JSON array of endpoint sets", file, 1,
                 1};
  }
  ImportResult out;
  for (size_t i = 0; i < doc.size(); ++i) {
    const json& e = doc[i];
    const std::string where = "[" + std::to_string(i) + "]";
    const auto fail = [&](const std::string& what) { return Error{where + what, file}; };
    if (!e.is_object()) return fail(": expected an endpoint set object");
    if (!e.contains("id") || !e["id"].is_number_unsigned())
      return fail(".id: expected a positive integer");
    if (!e.contains("serviceArea") || !e["serviceArea"].is_string())
      return fail(".serviceArea: expected a string");
    const uint64_t id = e["id"].get<uint64_t>();
    const std::string area = e["serviceArea"].get<std::string>();
    std::string category = "Default";
    if (e.contains("category")) {
      if (!e["category"].is_string()) return fail(".category: expected a string");
      category = e["category"].get<std::string>();
    }
    bool required = false;
    if (e.contains("required")) {
      if (!e["required"].is_boolean()) return fail(".required: expected true or false");
      required = e["required"].get<bool>();
    }
    std::vector<std::string> urls;
    std::vector<std::string> ips;
    for (const char* key : {"urls", "ips"}) {
      if (!e.contains(key)) continue;
      if (!e[key].is_array()) return fail(std::string(".") + key + ": expected a list of strings");
      for (size_t k = 0; k < e[key].size(); ++k) {
        if (!e[key][k].is_string()) {
          return fail(std::string(".") + key + "[" + std::to_string(k) + "]: expected a string");
        }
        (key[0] == 'u' ? urls : ips).push_back(e[key][k].get<std::string>());
      }
    }
    std::vector<std::string> ports;
    for (const auto& [key, proto] : {std::pair{"tcpPorts", "tcp"}, std::pair{"udpPorts", "udp"}}) {
      if (!e.contains(key)) continue;
      if (!e[key].is_string())
        return fail(std::string(".") + key + ": expected a string like \"80,443\"");
      auto p = m365Ports(e[key].get<std::string>(), proto);
      if (!p) return fail(std::string(".") + key + ": " + p.error().message);
      ports.insert(ports.end(), p->begin(), p->end());
    }
    // Selection comes after validation: a malformed entry is an error even if not selected, since
    // it means the file is not what we think it is.
    if (!selected(options.areas, area) || !selected(options.categories, category)) continue;
    if (options.requiredOnly && !required) continue;

    ServiceDraft d;
    d.name = options.namePrefix + "-" + nameToken(area) + "-" + std::to_string(id);
    d.kind = "cloud";
    d.originFile = file + where;
    d.ismapId = options.ismapId;
    d.ismapExpires = options.ismapExpires;
    d.description = "Microsoft 365 endpoint set " + std::to_string(id) + " (" + area + ", " +
                    category + (required ? ", required" : "") + ")";
    for (const auto& u : urls) {
      // The policy allows "*." only as the whole first label; Microsoft also lists patterns like
      // "autodiscover.*.onmicrosoft.com". Skipping is the safe side: widening would allow more.
      const bool leadingWildcard = u.rfind("*.", 0) == 0;
      if (u.find('*', leadingWildcard ? 2 : 0) != std::string::npos) {
        out.warnings.push_back(d.name + ": URL pattern \"" + u +
                               "\" cannot be expressed in the policy; skipped");
        continue;
      }
      d.fqdns.push_back(u);
    }
    d.cidrs = ips;
    d.ports = ports;
    if (d.ports.empty()) {
      out.warnings.push_back(d.name + ": no ports listed; skipped");
      continue;
    }
    if (d.fqdns.empty() && d.cidrs.empty()) {
      out.warnings.push_back(d.name + ": no usable URLs or addresses; skipped");
      continue;
    }
    out.services.push_back(std::move(d));
  }
  return out;
}

}  // namespace lbg::control
