#include "control/api.h"

#include <gtest/gtest.h>

namespace lbg::control {
namespace {

ApiError errorOf(std::string_view line) {
  auto r = parseRequest(line);
  EXPECT_TRUE(std::holds_alternative<ApiError>(r)) << line;
  return std::holds_alternative<ApiError>(r) ? std::get<ApiError>(r) : ApiError{};
}

TEST(ApiTest, ParsesAWellFormedRequest) {
  auto r = parseRequest(
      R"({"v":1,"cmd":"service.add","args":{"name":"m365","fqdn":["a.example.com"]}})");
  ASSERT_TRUE(std::holds_alternative<Request>(r));
  const auto& req = std::get<Request>(r);
  EXPECT_EQ(req.cmd, "service.add");
  EXPECT_EQ(*argString(req.args, "name"), "m365");
  EXPECT_EQ(argStringList(req.args, "fqdn")->at(0), "a.example.com");
  // args is optional
  EXPECT_TRUE(std::holds_alternative<Request>(parseRequest(R"({"v":1,"cmd":"status"})")));
}

TEST(ApiTest, RequestRoundTrip) {
  Request req{1, "policy.commit", {{"message", "add 日本語 text"}}};
  std::string line = encodeRequest(req);
  ASSERT_EQ(line.back(), '\n');
  line.pop_back();
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto back = parseRequest(line);
  ASSERT_TRUE(std::holds_alternative<Request>(back));
  EXPECT_EQ(std::get<Request>(back).args["message"], "add 日本語 text");
}

TEST(ApiTest, MalformedJsonHasAPosition) {
  const auto e = errorOf(R"({"v":1,"cmd":"status",})");
  EXPECT_EQ(e.code, ErrorCode::Invalid);
  EXPECT_EQ(e.error.line, 1);
  EXPECT_EQ(e.error.column, 23);
  EXPECT_NE(e.error.message.find("malformed JSON"), std::string::npos);
  EXPECT_EQ(errorOf("").code, ErrorCode::Invalid);
  EXPECT_EQ(errorOf("\xff\xfe").code, ErrorCode::Invalid);
}

TEST(ApiTest, SchemaIsStrict) {
  EXPECT_NE(errorOf(R"([1,2])").error.message.find("JSON object"), std::string::npos);
  EXPECT_NE(errorOf(R"({"cmd":"status"})").error.message.find("missing \"v\""), std::string::npos);
  EXPECT_NE(errorOf(R"({"v":2,"cmd":"status"})").error.message.find("unsupported protocol version"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"v":"1","cmd":"status"})").error.message.find("integer"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"v":1})").error.message.find("missing \"cmd\""), std::string::npos);
  EXPECT_NE(errorOf(R"({"v":1,"cmd":7})").error.message.find("string"), std::string::npos);
  EXPECT_NE(errorOf(R"({"v":1,"cmd":"status","args":[]})").error.message.find("object"),
            std::string::npos);
  EXPECT_NE(
      errorOf(R"({"v":1,"cmd":"status","user":"root"})").error.message.find("unknown key \"user\""),
      std::string::npos)
      << "a client must not be able to smuggle an identity field";
}

TEST(ApiTest, UnknownCommand) {
  const auto e = errorOf(R"({"v":1,"cmd":"policy.nuke"})");
  EXPECT_EQ(e.code, ErrorCode::UnknownCommand);
  EXPECT_NE(e.error.message.find("policy.nuke"), std::string::npos);
}

TEST(ApiTest, DeepNestingRefusedBeforeParsing) {
  std::string deep = R"({"v":1,"cmd":"status","args":{"x":)" + std::string(100000, '[') +
                     std::string(100000, ']') + "}}";
  const auto e = errorOf(deep);
  EXPECT_NE(e.error.message.find("nested deeper"), std::string::npos);
  // Brackets inside strings do not count.
  std::string inString = R"({"v":1,"cmd":"status","args":{"x":")" + std::string(1000, '[') + "\"}}";
  EXPECT_TRUE(std::holds_alternative<Request>(parseRequest(inString)));
}

TEST(ApiTest, ResponsesRoundTrip) {
  auto ok = parseResponse(encodeOk({{"version", 3}}));
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->ok);
  EXPECT_EQ(ok->result["version"], 3);
  ApiError e{ErrorCode::Forbidden, Error{"role operator may not run policy.commit", "", 0, 0}};
  auto err = parseResponse(encodeError(e));
  ASSERT_TRUE(err.ok());
  EXPECT_FALSE(err->ok);
  EXPECT_EQ(err->error.code, ErrorCode::Forbidden);
  EXPECT_EQ(err->error.error.message, e.error.message);
  ApiError pos{ErrorCode::Invalid, Error{"bad", "candidate.yaml", 12, 7}};
  auto p = parseResponse(encodeError(pos));
  EXPECT_EQ(p->error.error.line, 12);
  EXPECT_EQ(p->error.error.column, 7);
  EXPECT_EQ(p->error.error.file, "candidate.yaml");
  EXPECT_FALSE(parseResponse("garbage").ok());
  EXPECT_FALSE(parseResponse(R"({"ok":false,"error":3})").ok());
}

TEST(ApiTest, CommandTableIsConsistent) {
  for (const auto& c : commandTable()) {
    EXPECT_NE(c.roles, 0) << c.name << " runnable by nobody";
    EXPECT_EQ(findCommand(c.name), &c);
  }
  // Separation of duties: approvers cannot commit, admins cannot approve.
  EXPECT_FALSE(roleMay(*findCommand("policy.commit"), Role::Approver));
  EXPECT_FALSE(roleMay(*findCommand("policy.approve"), Role::Admin));
  EXPECT_FALSE(roleMay(*findCommand("service.add"), Role::Auditor));
  EXPECT_TRUE(roleMay(*findCommand("policy.history"), Role::Auditor));
  EXPECT_FALSE(roleMay(*findCommand("policy.history"), Role::Operator));
  EXPECT_TRUE(roleMay(*findCommand("flows"), Role::Operator));
  for (auto code : {ErrorCode::Invalid, ErrorCode::Conflict, ErrorCode::Internal}) {
    EXPECT_EQ(parseErrorCode(toString(code)), code);
  }
}

TEST(ApiTest, ArgumentAccessors) {
  nlohmann::json a = {{"n", 5}, {"neg", -1}, {"s", "x"}, {"l", {"a", 1}}};
  EXPECT_EQ(*argUint(a, "n"), 5u);
  EXPECT_FALSE(argUint(a, "neg").ok());
  EXPECT_FALSE(argUint(a, "s").ok());
  EXPECT_FALSE(argUint(a, "missing").ok());
  EXPECT_FALSE(argString(a, "n").ok());
  EXPECT_FALSE(argStringList(a, "l").ok());
  EXPECT_TRUE(argStringList(a, "missing")->empty());
}

}  // namespace
}  // namespace lbg::control
