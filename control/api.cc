#include "control/api.h"

#include <array>

namespace lbg::control {

namespace {

using nlohmann::json;

constexpr std::array<const char*, 8> kCodeNames = {"invalid",     "unknown-command", "too-large",
                                                   "forbidden",   "not-found",       "conflict",
                                                   "unavailable", "internal"};
constexpr std::array<const char*, 4> kRoleNames = {"admin", "approver", "operator", "auditor"};

ApiError invalid(std::string message, int column = 0) {
  return ApiError{ErrorCode::Invalid,
                  Error{std::move(message), "request", column > 0 ? 1 : 0, column}};
}

}  // namespace

const char* toString(ErrorCode c) {
  return kCodeNames[static_cast<size_t>(c)];
}

std::optional<ErrorCode> parseErrorCode(std::string_view s) {
  for (size_t i = 0; i < kCodeNames.size(); ++i) {
    if (s == kCodeNames[i]) return static_cast<ErrorCode>(i);
  }
  return std::nullopt;
}

const char* toString(Role r) {
  return kRoleNames[static_cast<size_t>(r)];
}

std::optional<Role> parseRole(std::string_view s) {
  for (size_t i = 0; i < kRoleNames.size(); ++i) {
    if (s == kRoleNames[i]) return static_cast<Role>(i);
  }
  return std::nullopt;
}

bool nestingDeeperThan(std::string_view text, int limit) {
  int depth = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (inString) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        inString = false;
      }
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

std::variant<Request, ApiError> parseRequest(std::string_view line) {
  // Serialising and destroying JSON values recurses; a request nested thousands deep from a
  // hostile client must be refused before it is built, not crash the service thread.
  if (nestingDeeperThan(line, kMaxRequestNesting)) {
    return invalid("request nested deeper than " + std::to_string(kMaxRequestNesting) + " levels");
  }
  json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Re-parse with exceptions only to learn where it broke; the input is bounded by the caller.
    try {
      const json again = json::parse(line.begin(), line.end());
      (void)again;
    } catch (const json::parse_error& e) {
      return invalid(std::string("malformed JSON: ") + e.what(), static_cast<int>(e.byte));
    } catch (const std::exception& e) {
      return invalid(std::string("malformed JSON: ") + e.what());
    }
    return invalid("malformed JSON");
  }
  if (!j.is_object()) return invalid("request must be a JSON object");
  Request r;
  bool haveV = false;
  bool haveCmd = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k == "v") {
      if (!it->is_number_integer()) return invalid("\"v\" must be an integer");
      if (it->get<int64_t>() != kProtocolVersion) {
        return invalid("unsupported protocol version " + it->dump() + " (this server speaks " +
                       std::to_string(kProtocolVersion) + ")");
      }
      haveV = true;
    } else if (k == "cmd") {
      if (!it->is_string()) return invalid("\"cmd\" must be a string");
      r.cmd = it->get<std::string>();
      haveCmd = true;
    } else if (k == "args") {
      if (!it->is_object()) return invalid("\"args\" must be an object");
      r.args = *it;
    } else {
      return invalid("unknown key \"" + k + "\" in request");
    }
  }
  if (!haveV) return invalid("missing \"v\"");
  if (!haveCmd) return invalid("missing \"cmd\"");
  if (!findCommand(r.cmd)) {
    return ApiError{ErrorCode::UnknownCommand, Error{"unknown command \"" + r.cmd + "\""}};
  }
  return r;
}

std::string encodeRequest(const Request& r) {
  json j = {{"v", r.version}, {"cmd", r.cmd}, {"args", r.args}};
  // `replace` keeps invalid UTF-8 from a command line from throwing; the server sees U+FFFD.
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string encodeOk(const json& result) {
  json j = {{"ok", true}, {"result", result}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string encodeError(const ApiError& e) {
  json err = {{"code", toString(e.code)}, {"message", e.error.message}};
  if (!e.error.file.empty()) err["file"] = e.error.file;
  if (e.error.line > 0) {
    err["line"] = e.error.line;
    err["column"] = e.error.column;
  }
  json j = {{"ok", false}, {"error", err}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<Response> parseResponse(std::string_view line) {
  json j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ok") || !j["ok"].is_boolean()) {
    return Error{"malformed response from server"};
  }
  Response r;
  r.ok = j["ok"].get<bool>();
  if (r.ok) {
    r.result = j.value("result", json());
    return r;
  }
  const json& e = j.contains("error") ? j["error"] : json();
  if (!e.is_object()) return Error{"malformed error response from server"};
  const auto str = [&](const char* k) {
    return e.contains(k) && e[k].is_string() ? e[k].get<std::string>() : std::string();
  };
  const auto num = [&](const char* k) {
    return e.contains(k) && e[k].is_number_integer() ? e[k].get<int>() : 0;
  };
  r.error.code = parseErrorCode(str("code")).value_or(ErrorCode::Internal);
  r.error.error = Error{str("message"), str("file"), num("line"), num("column")};
  return r;
}

Result<std::string> argString(const json& args, const char* key) {
  if (!args.contains(key)) return Error{std::string("missing argument \"") + key + "\""};
  if (!args[key].is_string())
    return Error{std::string("argument \"") + key + "\" must be a string"};
  return args[key].get<std::string>();
}

std::optional<std::string> argOptString(const json& args, const char* key) {
  if (!args.contains(key) || !args[key].is_string()) return std::nullopt;
  return args[key].get<std::string>();
}

Result<uint64_t> argUint(const json& args, const char* key) {
  if (!args.contains(key)) return Error{std::string("missing argument \"") + key + "\""};
  const json& v = args[key];
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0)
    return static_cast<uint64_t>(v.get<int64_t>());
  return Error{std::string("argument \"") + key + "\" must be a non-negative integer"};
}

Result<std::vector<std::string>> argStringList(const json& args, const char* key) {
  std::vector<std::string> out;
  if (!args.contains(key)) return out;
  const json& v = args[key];
  if (!v.is_array())
    return Error{std::string("argument \"") + key + "\" must be a list of strings"};
  for (const auto& x : v) {
    if (!x.is_string())
      return Error{std::string("argument \"") + key + "\" must be a list of strings"};
    out.push_back(x.get<std::string>());
  }
  return out;
}

}  // namespace lbg::control
