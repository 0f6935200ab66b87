#pragma once

// The control protocol, shared by the server and lbgctl so both sides agree on one schema.
//
// Framing: over a SOCK_STREAM Unix socket, each request and each response is one JSON object on
// one line ('\n'-terminated; JSON text never contains a raw newline). A connection may carry
// several requests in sequence; each gets exactly one response, in order.
//
//   request:  {"v":1,"cmd":"service.add","args":{...}}
//   response: {"ok":true,"result":...}
//             {"ok":false,"error":{"code":"forbidden","message":"...","file":"...","line":3,"column":7}}
//
// Request parsing is strict: unknown top-level keys, a wrong version or a non-object `args` are
// errors, so that a client built against another schema fails loudly instead of being half-obeyed.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/base/result.h"

namespace lbg::control {

inline constexpr int kProtocolVersion = 1;
// Backups travel inside one message, so the default limit is generous; the server makes it
// configurable (ServerConfig::maxRequestBytes).
inline constexpr size_t kDefaultMaxRequestBytes = 16u << 20;
inline constexpr int kMaxRequestNesting = 32;

enum class ErrorCode : uint8_t {
  Invalid,         // malformed request, bad arguments, policy or catalogue that fails validation
  UnknownCommand,  // `cmd` is not in the command table
  TooLarge,        // request above the size limit
  Forbidden,       // caller has no role, or the role may not run this command
  NotFound,        // version, service or file does not exist
  Conflict,        // state does not allow it (already approved, approver == author, ...)
  Unavailable,     // the dataplane refused or timed out (publish), nothing changed
  Internal,        // store I/O failure and the like
};
const char* toString(ErrorCode c);
std::optional<ErrorCode> parseErrorCode(std::string_view s);

// Role separation asked for by the guideline (権限管理): who may change, who approves, who
// watches, who audits. One role per OS user.
enum class Role : uint8_t { Admin, Approver, Operator, Auditor };
const char* toString(Role r);
std::optional<Role> parseRole(std::string_view s);
inline constexpr uint8_t roleBit(Role r) {
  return uint8_t(1u << static_cast<unsigned>(r));
}

struct Request {
  int version = kProtocolVersion;
  std::string cmd;
  nlohmann::json args = nlohmann::json::object();
};

struct ApiError {
  ErrorCode code = ErrorCode::Invalid;
  Error error;
};

// What a command's handler returns: the result object, or the error to answer with.
using Outcome = std::variant<nlohmann::json, ApiError>;

// The command table (command_table.cc): every command once, with what the daemon and lbgctl
// need to know about it. The dispatcher looks the handler and the roles up here; lbgctl builds
// its option parsing, usage text and shell completion from the same rows.
enum class OptionType : uint8_t { Flag, Text, TextList, Uint };
struct OptionSpec {
  std::string_view name;  // long name: --name
  char shortName;         // 0 or a one-letter alias: -m
  OptionType type;
  std::string_view implicitValue;  // Text given without a value (--intercept means true)
  std::string_view metavar;        // for usage: --port P
  std::string_view complete;       // shell completion of the value: "words:a b", "files:GLOB"
};

class CommandContext;  // control/handlers/context.h
struct Call;
struct CliInvocation;  // control/cli_args.h

struct CommandInfo {
  std::string_view name;      // "policy.commit"
  uint8_t roles;              // bit set of roleBit()
  bool mutates;               // changes the store or the dataplane
  std::string_view summary;   // one line, English / Japanese, for `lbgctl help`
  std::string_view synopsis;  // the arguments after the command words, for usage
  std::span<const OptionSpec> options;
  size_t maxPositional;
  std::string_view positionalComplete;  // shell completion of the positional ("files:GLOB")
  void (*build)(CliInvocation&);        // lbgctl: command line → request (cli_args.cc)
  Outcome (*handler)(CommandContext&, const Call&);  // daemon (handlers/*.cc)
  // A probe polled by a monitor (keepalived's `ha health`, every second): its answers are not
  // admin records, or they would bury the others; refusals still are.
  bool probe = false;
};
std::span<const CommandInfo> commandTable();
const CommandInfo* findCommand(std::string_view name);
inline bool roleMay(const CommandInfo& c, Role r) {
  return (c.roles & roleBit(r)) != 0;
}

// Parses one request line (without the trailing newline). Never throws; errors carry the
// 1-based column (byte offset) of a JSON syntax error.
std::variant<Request, ApiError> parseRequest(std::string_view line);
std::string encodeRequest(const Request& r);
// Bracket depth outside strings above `limit` (cheap pre-check, no allocation).
bool nestingDeeperThan(std::string_view text, int limit);

struct Response {
  bool ok = false;
  nlohmann::json result;  // when ok
  ApiError error;         // when !ok
};
std::string encodeOk(const nlohmann::json& result);
std::string encodeError(const ApiError& e);
// Used by lbgctl on the server's answer; a malformed answer is an error, not a crash.
Result<Response> parseResponse(std::string_view line);

// Typed access to `args`, with error messages that name the argument.
Result<std::string> argString(const nlohmann::json& args, const char* key);
std::optional<std::string> argOptString(const nlohmann::json& args, const char* key);
Result<uint64_t> argUint(const nlohmann::json& args, const char* key);
Result<std::vector<std::string>> argStringList(const nlohmann::json& args, const char* key);

}  // namespace lbg::control
