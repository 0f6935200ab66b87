#include "control/asp_csv_import.h"

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace lbg::control {

namespace {

struct Field {
  std::string text;
  int line;
  int column;
};

// Splits RFC 4180 text into records of fields with their positions.
Result<std::vector<std::vector<Field>>> splitCsv(std::string_view s, const std::string& file) {
  std::vector<std::vector<Field>> records;
  std::vector<Field> record;
  size_t i = 0;
  int line = 1;
  int column = 1;
  const auto advance = [&](size_t n) {
    for (size_t k = 0; k < n && i < s.size(); ++k, ++i) {
      if (s[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
  };
  while (i < s.size()) {
    Field f{std::string(), line, column};
    if (s[i] == '"') {
      advance(1);
      for (;;) {
        if (i >= s.size()) return Error{"unterminated quoted field", file, f.line, f.column};
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            f.text += '"';
            advance(2);
            continue;
          }
          advance(1);
          break;
        }
        f.text += s[i];
        advance(1);
      }
      if (i < s.size() && s[i] != ',' && s[i] != '\n' && s[i] != '\r') {
        return Error{"unexpected character after closing quote", file, line, column};
      }
    } else {
      while (i < s.size() && s[i] != ',' && s[i] != '\n' && s[i] != '\r') {
        if (s[i] == '"') return Error{"quote inside an unquoted field", file, line, column};
        f.text += s[i];
        advance(1);
      }
    }
    record.push_back(std::move(f));
    if (i < s.size() && s[i] == ',') {
      advance(1);
      if (i >= s.size() || s[i] == '\n' || s[i] == '\r')
        record.push_back(Field{std::string(), line, column});
    }
    if (i < s.size() && s[i] == '\r') {
      advance(1);
      if (i >= s.size() || s[i] != '\n') return Error{"bare carriage return", file, line, column};
    }
    if (i >= s.size() || s[i] == '\n') {
      advance(1);
      bool blank = record.size() == 1 && record[0].text.empty();
      if (!blank) records.push_back(std::move(record));
      record.clear();
    }
  }
  return records;
}

std::vector<std::string> splitList(const std::string& cell) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : cell) {
    if (c == ' ' || c == ';' || c == '\t') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

}  // namespace

Result<ImportResult> importAspCsv(std::string_view text, std::string_view fileName) {
  const std::string file(fileName);
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  auto records = splitCsv(text, file);
  if (!records) return records.error();
  if (records->empty())
    return Error{"empty file: expected a header line name,fqdn,cidr,ports,description", file, 1, 1};

  constexpr std::array<std::string_view, 5> kColumns = {"name", "fqdn", "cidr", "ports",
                                                        "description"};
  std::array<std::optional<size_t>, 5> index;
  const auto& header = (*records)[0];
  for (size_t c = 0; c < header.size(); ++c) {
    std::string h;
    for (char ch : header[c].text) {
      if (ch != ' ') h += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    size_t k = 0;
    while (k < kColumns.size() && kColumns[k] != h) ++k;
    if (k == kColumns.size()) {
      return Error{
          "unknown column \"" + header[c].text + "\" (name, fqdn, cidr, ports, description)", file,
          header[c].line, header[c].column};
    }
    if (index[k])
      return Error{"duplicate column \"" + h + "\"", file, header[c].line, header[c].column};
    index[k] = c;
  }
  if (!index[0] || !index[3]) {
    return Error{"the header must name at least the columns name and ports", file, header[0].line,
                 header[0].column};
  }

  ImportResult out;
  for (size_t r = 1; r < records->size(); ++r) {
    const auto& rec = (*records)[r];
    if (rec.size() != header.size()) {
      return Error{"expected " + std::to_string(header.size()) + " fields, found " +
                       std::to_string(rec.size()),
                   file, rec[0].line, rec[0].column};
    }
    const auto cell = [&](size_t k) -> const Field* {
      return index[k] ? &rec[*index[k]] : nullptr;
    };
    ServiceDraft d;
    d.kind = "lgwan-asp";
    d.originFile = file;
    d.originLine = rec[0].line;
    d.name = cell(0)->text;
    if (d.name.empty()) return Error{"empty service name", file, cell(0)->line, cell(0)->column};
    if (const Field* f = cell(1)) d.fqdns = splitList(f->text);
    if (const Field* f = cell(2)) d.cidrs = splitList(f->text);
    d.ports = splitList(cell(3)->text);
    if (d.ports.empty())
      return Error{"service " + d.name + " lists no ports", file, cell(3)->line, cell(3)->column};
    if (d.fqdns.empty() && d.cidrs.empty()) {
      return Error{"service " + d.name + " needs an fqdn or a cidr", file, rec[0].line,
                   rec[0].column};
    }
    if (const Field* f = cell(4)) d.description = f->text;
    for (const auto& prev : out.services) {
      if (prev.name == d.name)
        return Error{"duplicate service \"" + d.name + "\"", file, cell(0)->line, cell(0)->column};
    }
    out.services.push_back(std::move(d));
  }
  return out;
}

}  // namespace lbg::control
