#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sanitizer/icap/icap_test_util.h"
#include "sanitizer/icap/service.h"

namespace lbg::icap {
namespace {

using testing::ParsedResponse;
using testing::TestFilter;

std::string httpResponseHead(const std::string& extra, size_t length) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.ms-word.document.macroEnabled.12\r\n"
         "Content-Length: " +
         std::to_string(length) + "\r\nETag: \"abc\"\r\n" + extra + "\r\n";
}

const std::string kGet = "GET /files/report.docm HTTP/1.1\r\nHost: files.example.jp\r\n\r\n";

// Builds the request a connection would have assembled from these parts.
IcapRequest makeRequest(Method method, const std::string& icapHeaders, const std::string& reqHdr,
                        const std::string& resHdr, std::optional<std::string> body) {
  std::string enc;
  size_t off = 0;
  if (!reqHdr.empty()) {
    enc += "req-hdr=0";
    off = reqHdr.size();
  }
  if (!resHdr.empty()) {
    enc += (enc.empty() ? "" : ", ") + std::string("res-hdr=") + std::to_string(off);
    off += resHdr.size();
  }
  const char* bodyName = !body                       ? "null-body="
                         : method == Method::Respmod ? "res-body="
                                                     : "req-body=";
  enc += (enc.empty() ? "" : ", ") + std::string(bodyName) + std::to_string(off);
  const std::string head = std::string(methodName(method)) +
                           " icap://127.0.0.1/sanitize ICAP/1.0\r\nHost: 127.0.0.1\r\n" +
                           icapHeaders + "Encapsulated: " + enc + "\r\n\r\n";
  IcapRequest r;
  const auto hr = parseIcapHead(head, Limits{}, r.head);
  EXPECT_EQ(hr.status, ParseStatus::Done) << hr.error.message;
  EXPECT_EQ(parseEncapsulatedHeads(reqHdr + resHdr, r.head.encapsulated, Limits{}, r.http), "");
  if (body) r.body = *body;
  r.bodyComplete = true;
  return r;
}

ParsedResponse parse(const std::string& wire) {
  ParsedResponse p;
  const auto used = testing::parseResponse(wire, p);
  EXPECT_TRUE(used.ok()) << used.error().toString();
  EXPECT_EQ(used.ok() ? used.value() : 0, wire.size()) << wire;
  return p;
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lbg-icap-log-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    ::close(fd);
    logPath_ = tmpl;
    auto log = EventLog::create(logPath_);
    ASSERT_TRUE(log) << log.error().toString();
    ServiceConfig cfg;
    cfg.contact = "情報政策課 内線 1234";
    cfg.limits.maxBodyBytes = 1 << 20;
    auto service = SanitizeService::create(cfg, filter_, std::move(log).value());
    ASSERT_TRUE(service) << service.error().toString();
    service_ = std::move(service).value();
  }
  void TearDown() override { ::unlink(logPath_.c_str()); }

  std::vector<nlohmann::json> logLines() {
    std::ifstream f(logPath_);
    std::vector<nlohmann::json> out;
    for (std::string line; std::getline(f, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  std::shared_ptr<TestFilter> filter_ = std::make_shared<TestFilter>();
  std::unique_ptr<SanitizeService> service_;
  std::string logPath_;
};

TEST_F(ServiceTest, OptionsAdvertisesTheService) {
  const auto p = parse(service_->options());
  EXPECT_EQ(p.status, 200);
  EXPECT_EQ(*p.headers.get("Methods"), "RESPMOD, REQMOD");
  EXPECT_EQ(*p.headers.get("Allow"), "204");
  EXPECT_EQ(*p.headers.get("Preview"), "4096");
  EXPECT_EQ(*p.headers.get("Transfer-Preview"), "*");
  EXPECT_EQ(*p.headers.get("Max-Connections"), "8");
  EXPECT_NE(p.headers.get("Options-TTL"), nullptr);
  EXPECT_EQ(*p.headers.get("Encapsulated"), "null-body=0");
  const auto& tag = *p.headers.get("ISTag");
  EXPECT_EQ(tag, service_->istag());
  EXPECT_LE(tag.size(), 34u);  // 32 characters plus quotes (RFC 3507 4.7)
  EXPECT_EQ(tag.front(), '"');
}

TEST_F(ServiceTest, SanitizedDownloadGetsNewBodyAndHeaders) {
  const std::string body = "PK-docx-MACRO-content";
  auto r =
      makeRequest(Method::Respmod, "Allow: 204\r\n", kGet,
                  httpResponseHead("Content-Disposition: attachment; filename=\"report.docm\"\r\n",
                                   body.size()),
                  body);
  const auto p = parse(service_->complete(r));
  EXPECT_EQ(p.status, 200);
  ASSERT_TRUE(p.response && p.body);
  EXPECT_EQ(*p.body, "PK-docx--content");
  const auto& h = p.response->headers;
  EXPECT_EQ(*h.get("Content-Length"), std::to_string(p.body->size()));
  EXPECT_EQ(*h.get("Content-Type"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
  EXPECT_EQ(*h.get("Content-Disposition"), "attachment; filename=\"report.docx\"");
  EXPECT_EQ(h.get("ETag"), nullptr);
  EXPECT_EQ(*h.get("X-LBG-Sanitizer"), "sanitized; removed=vbaProject");
  EXPECT_EQ(service_->stats().sanitized.load(), 1u);

  const auto lines = logLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["event_type"], "fileinfo");
  EXPECT_EQ(lines[0]["measure"], "AP-SANITIZE");
  EXPECT_EQ(lines[0]["action"], "sanitized");
  EXPECT_EQ(lines[0]["http"]["hostname"], "files.example.jp");
  EXPECT_EQ(lines[0]["http"]["url"], "http://files.example.jp/files/report.docm");
  EXPECT_EQ(lines[0]["http"]["direction"], "download");
  EXPECT_EQ(lines[0]["fileinfo"]["file_name"], "report.docm");
  EXPECT_TRUE(lines[0].contains("timestamp"));
}

TEST_F(ServiceTest, BlockedDownloadBecomesABlockPage) {
  const std::string body = "MZ EVIL";
  auto r = makeRequest(Method::Respmod, "", kGet, httpResponseHead("", body.size()), body);
  const auto p = parse(service_->complete(r));
  EXPECT_EQ(p.status, 200);
  ASSERT_TRUE(p.response && p.body);
  EXPECT_EQ(p.response->status, 403);
  EXPECT_EQ(*p.response->headers.get("Content-Length"), std::to_string(p.body->size()));
  EXPECT_EQ(*p.response->headers.get("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(*p.response->headers.get("X-LBG-Sanitizer"), "blocked; reason=type-blocked:exe");
  EXPECT_NE(p.body->find(std::string(64, 'f')), std::string::npos);  // the SHA-256
  EXPECT_NE(p.body->find("report.docm"), std::string::npos);
  EXPECT_NE(p.body->find("情報政策課"), std::string::npos);
  EXPECT_EQ(p.body->find("EVIL"), std::string::npos) << "never the original";
  const auto lines = logLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["action"], "blocked");
}

TEST_F(ServiceTest, UnchangedIs204OnlyWhenAllowed) {
  const std::string body = "plain text";
  auto with =
      makeRequest(Method::Respmod, "Allow: 204\r\n", kGet, httpResponseHead("", body.size()), body);
  EXPECT_EQ(parse(service_->complete(with)).status, 204);

  auto without = makeRequest(Method::Respmod, "", kGet, httpResponseHead("", body.size()), body);
  const auto p = parse(service_->complete(without));
  EXPECT_EQ(p.status, 200);
  ASSERT_TRUE(p.response && p.body);
  EXPECT_EQ(*p.body, body);
  EXPECT_EQ(p.response->serialize(), httpResponseHead("", body.size()));

  // Right after a preview 204 is allowed without Allow: 204 (RFC 3507 4.5), not after 100.
  auto preview = makeRequest(Method::Respmod, "Preview: 4096\r\n", kGet,
                             httpResponseHead("", body.size()), body);
  EXPECT_EQ(parse(service_->complete(preview)).status, 204);
  preview.continued = true;
  EXPECT_EQ(parse(service_->complete(preview)).status, 200);
}

TEST_F(ServiceTest, RangesAndEncodedBodiesAreBlockedWithoutTheEngine) {
  const std::string body = "partial";
  auto partial =
      makeRequest(Method::Respmod, "", kGet,
                  "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-6/100\r\n\r\n", body);
  auto p = parse(service_->complete(partial));
  ASSERT_TRUE(p.response);
  EXPECT_EQ(p.response->status, 403);
  EXPECT_EQ(*p.response->headers.get("X-LBG-Sanitizer"), "blocked; reason=partial-content");

  auto gz = makeRequest(Method::Respmod, "", kGet,
                        httpResponseHead("Content-Encoding: gzip\r\n", body.size()), body);
  p = parse(service_->complete(gz));
  ASSERT_TRUE(p.response);
  EXPECT_EQ(*p.response->headers.get("X-LBG-Sanitizer"), "blocked; reason=content-encoding:gzip");
  EXPECT_EQ(filter_->calls.load(), 0);
}

TEST_F(ServiceTest, PreviewPassesOnlyPassiveText) {
  const std::string css = "body { color: red; }\n";
  auto r = makeRequest(Method::Respmod, "Preview: 4096\r\n", kGet,
                       "HTTP/1.1 200 OK\r\nContent-Type: text/css\r\n\r\n", css);
  r.bodyComplete = false;
  auto answer = service_->afterPreview(r);
  ASSERT_TRUE(answer);
  EXPECT_EQ(parse(*answer).status, 204);

  // CSS that is not what it claims, or a download, goes on to the engine.
  r.body = "<script>alert(1)</script>";
  EXPECT_FALSE(service_->afterPreview(r));
  r.body = "a { behavior: url(x.htc) }";
  EXPECT_FALSE(service_->afterPreview(r));
  auto attachment = makeRequest(Method::Respmod, "Preview: 4096\r\n", kGet,
                                "HTTP/1.1 200 OK\r\nContent-Type: text/css\r\n"
                                "Content-Disposition: attachment; filename=a.css\r\n\r\n",
                                css);
  attachment.bodyComplete = false;
  EXPECT_FALSE(service_->afterPreview(attachment));
  auto docm =
      makeRequest(Method::Respmod, "Preview: 4096\r\n", kGet, httpResponseHead("", 100), "PK");
  docm.bodyComplete = false;
  EXPECT_FALSE(service_->afterPreview(docm));
  EXPECT_EQ(filter_->calls.load(), 0);
}

TEST_F(ServiceTest, UploadsAreSanitizedOrAnsweredWithABlockPage) {
  const std::string body = "MACRO-upload";
  const std::string put =
      "PUT /upload/report.docm HTTP/1.1\r\nHost: cloud.example.jp\r\n"
      "Content-Type: application/octet-stream\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n";
  auto r = makeRequest(Method::Reqmod, "Allow: 204\r\n", put, "", body);
  auto p = parse(service_->complete(r));
  EXPECT_EQ(p.status, 200);
  ASSERT_TRUE(p.request && p.body);
  EXPECT_FALSE(p.response);
  EXPECT_EQ(*p.body, "-upload");
  EXPECT_EQ(*p.request->headers.get("Content-Length"), "7");
  EXPECT_EQ(p.request->target, "/upload/report.docm");

  auto evil = makeRequest(Method::Reqmod, "", put, "", std::string("EVIL"));
  p = parse(service_->complete(evil));
  ASSERT_TRUE(p.response && p.body);
  EXPECT_EQ(p.response->status, 403);
  EXPECT_NE(p.body->find("送信"), std::string::npos);

  const std::string form =
      "POST /login HTTP/1.1\r\nHost: a\r\n"
      "Content-Type: application/x-www-form-urlencoded\r\n\r\n";
  auto login = makeRequest(Method::Reqmod, "Allow: 204\r\n", form, "", std::string("u=EVIL"));
  EXPECT_EQ(parse(service_->complete(login)).status, 204);
  const auto lines = logLines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["http"]["direction"], "upload");
  EXPECT_EQ(lines[2]["action"], "passed");
}

TEST_F(ServiceTest, MultipartUploadSanitizesEachFilePart) {
  const std::string body =
      "--b0\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nMACRO in a field stays\r\n"
      "--b0\r\nContent-Disposition: form-data; name=\"f\"; filename=\"plan.docm\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\nPKdocMACROx\r\n"
      "--b0\r\nContent-Disposition: form-data; name=\"g\"; filename=\"\"\r\n\r\n\r\n--b0--\r\n";
  const std::string post =
      "POST /upload HTTP/1.1\r\nHost: cloud.example.jp\r\n"
      "Content-Type: multipart/form-data; boundary=b0\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n";
  auto r = makeRequest(Method::Reqmod, "Allow: 204\r\n", post, "", body);
  const auto p = parse(service_->complete(r));
  EXPECT_EQ(p.status, 200);
  ASSERT_TRUE(p.request && p.body);
  EXPECT_NE(p.body->find("MACRO in a field stays"), std::string::npos);
  EXPECT_NE(p.body->find("\r\n\r\nPKdocx\r\n--b0"), std::string::npos) << *p.body;
  EXPECT_NE(p.body->find("filename=\"plan.docx\""), std::string::npos);
  EXPECT_EQ(*p.request->headers.get("Content-Length"), std::to_string(p.body->size()));
  EXPECT_EQ(p.request->headers.get("X-LBG-Sanitizer"), nullptr) << "not told to the cloud";
  EXPECT_EQ(filter_->calls.load(), 1) << "fields and empty file inputs are not files";

  // One blocked file blocks the upload; the page names that file.
  auto evil = body;
  evil.replace(evil.find("PKdocMACROx"), 11, "PKdocEVILxx");
  auto e = makeRequest(Method::Reqmod, "", post, "", evil);
  const auto pe = parse(service_->complete(e));
  ASSERT_TRUE(pe.response && pe.body);
  EXPECT_EQ(pe.response->status, 403);
  EXPECT_NE(pe.body->find("plan.docm"), std::string::npos);

  // A body that does not parse is not passed on.
  auto broken = makeRequest(Method::Reqmod, "", post, "", std::string("--b0\r\nunterminated"));
  const auto pb = parse(service_->complete(broken));
  ASSERT_TRUE(pb.response);
  EXPECT_EQ(*pb.response->headers.get("X-LBG-Sanitizer"), "blocked; reason=multipart-malformed");
}

TEST_F(ServiceTest, NoBodyMeansNothingToDo) {
  auto r = makeRequest(Method::Respmod, "Allow: 204\r\n", kGet, "HTTP/1.1 304 Not Modified\r\n\r\n",
                       std::nullopt);
  EXPECT_EQ(parse(service_->complete(r)).status, 204);
  auto echo =
      makeRequest(Method::Respmod, "", kGet, "HTTP/1.1 304 Not Modified\r\n\r\n", std::nullopt);
  const auto p = parse(service_->complete(echo));
  EXPECT_EQ(p.status, 200);
  ASSERT_TRUE(p.response);
  EXPECT_EQ(p.response->status, 304);
  EXPECT_FALSE(p.body);
}

TEST_F(ServiceTest, OversizeBodyIsBlockedAndClosed) {
  auto r = makeRequest(Method::Respmod, "", kGet, httpResponseHead("", 5000000), std::string("x"));
  r.bodyComplete = false;
  const auto wire = service_->bodyTooLarge(r);
  const auto p = parse(wire);
  EXPECT_EQ(*p.headers.get("Connection"), "close");
  ASSERT_TRUE(p.response);
  EXPECT_EQ(*p.response->headers.get("X-LBG-Sanitizer"), "blocked; reason=limit:icap-max-body");
}

TEST_F(ServiceTest, RoutingAndErrors) {
  IcapRequestHead head;
  ASSERT_EQ(
      parseIcapHead("OPTIONS icap://h/other ICAP/1.0\r\nHost: h\r\n\r\n", Limits{}, head).status,
      ParseStatus::Done);
  const auto err = service_->route(head);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->status, Status::ServiceNotFound);

  IcapRequestHead noHdr;
  ASSERT_EQ(parseIcapHead(
                "REQMOD icap://h/sanitize ICAP/1.0\r\nHost: h\r\nEncapsulated: req-body=0\r\n\r\n",
                Limits{}, noHdr)
                .status,
            ParseStatus::Done);
  EXPECT_EQ(service_->route(noHdr)->status, Status::BadRequest);

  const auto p = parse(service_->error(Status::BadRequest, "bad\r\nInjected: yes", true));
  EXPECT_EQ(p.status, 400);
  EXPECT_EQ(p.headers.get("Injected"), nullptr);
  EXPECT_EQ(*p.headers.get("Connection"), "close");
}

TEST(EventLogTest, ReopenFollowsRotation) {
  char tmpl[] = "/tmp/lbg-icap-rot-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl, path = dir + "/icap.jsonl", rotated = dir + "/icap.jsonl.1";
  auto created = EventLog::create(path);
  ASSERT_TRUE(created) << created.error().toString();
  auto log = std::move(created).value();
  EXPECT_TRUE(log->write("{\"n\":1}"));
  ASSERT_EQ(::rename(path.c_str(), rotated.c_str()), 0);
  EXPECT_TRUE(log->write("{\"n\":2}"));  // still the renamed file
  auto reopened = log->reopen();
  ASSERT_TRUE(reopened) << reopened.error().toString();
  EXPECT_TRUE(log->write("{\"n\":3}"));
  auto slurp = [](const std::string& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  };
  EXPECT_EQ(slurp(rotated), "{\"n\":1}\n{\"n\":2}\n");
  EXPECT_EQ(slurp(path), "{\"n\":3}\n");
  ::unlink(path.c_str());
  ::unlink(rotated.c_str());
  ::rmdir(dir.c_str());
  auto missing = EventLog::create("/nonexistent-dir/x.jsonl");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message.rfind("cannot open log /nonexistent-dir/x.jsonl: ", 0), 0u);
}

TEST(ServiceCreate, ValidatesConfig) {
  auto filter = std::make_shared<TestFilter>();
  ServiceConfig bad;
  bad.serviceName = "a b";
  EXPECT_FALSE(SanitizeService::create(bad, filter, nullptr));
  ServiceConfig badType;
  badType.responsePassTypes = {"css"};
  auto badTypeService = SanitizeService::create(badType, filter, nullptr);
  ASSERT_FALSE(badTypeService);
  EXPECT_EQ(badTypeService.error().message, "pass type 'css' is not a media type");
  EXPECT_FALSE(SanitizeService::create(ServiceConfig{}, nullptr, nullptr));
  EXPECT_TRUE(SanitizeService::create(ServiceConfig{}, filter, nullptr));
}

}  // namespace
}  // namespace lbg::icap
