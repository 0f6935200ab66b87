#include "sanitizer/icap/block_page.h"

#include "sanitizer/icap/http_rewrite.h"

namespace lbg::icap {
namespace {

bool startsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

}  // namespace

ReasonText explainReason(std::string_view reason) {
  if (reason == "encrypted") {
    return {"暗号化またはパスワード保護されたファイルは中身を検査できません。",
            "Encrypted or password-protected files cannot be inspected."};
  }
  if (reason == "parse-error") {
    return {"ファイルの構造を解析できませんでした(破損または偽装の可能性があります)。",
            "The file's structure could not be parsed (it may be damaged or disguised)."};
  }
  if (reason == "partial-content") {
    return {
        "分割ダウンロード(Range "
        "要求)は無害化できません。もう一度最初からダウンロードしてください。",
        "Partial downloads (Range requests) cannot be sanitized. Download the whole file again."};
  }
  if (startsWith(reason, "content-encoding")) {
    return {"圧縮転送(Content-Encoding)されたファイルは検査できません。",
            "Files sent with a compressed Content-Encoding cannot be inspected."};
  }
  if (reason == "limit:icap-max-body" || startsWith(reason, "limit:size")) {
    return {"ファイルが無害化できるサイズの上限を超えています。",
            "The file is larger than the sanitizer accepts."};
  }
  if (startsWith(reason, "limit:")) {
    return {"ファイルが検査の上限(圧縮率・展開サイズ・階層・処理時間など)を超えました。",
            "The file exceeds an inspection limit (compression ratio, expanded size, nesting or "
            "time)."};
  }
  if (startsWith(reason, "type-blocked")) {
    return {"この種類のファイルは持ち込みが許可されていません。",
            "This type of file is not allowed."};
  }
  return {"ファイルを安全な形に再構成できなかったため、通過させませんでした。",
          "The file could not be rebuilt into a safe form, so it was withheld."};
}

std::string renderBlockPage(const BlockInfo& info) {
  const auto text = explainReason(info.reason);
  const std::string contact = info.contact.empty()
                                  ? std::string("情報システム担当部署 / your IT department")
                                  : info.contact;
  const std::string sha = info.sha256.empty() ? std::string("-") : info.sha256;
  std::string h;
  h.reserve(4096);
  h += "<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<title>ファイルをブロックしました / File blocked</title>\n";
  h += "<style>body{font-family:sans-serif;margin:2em;max-width:48em}"
       "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3em .6em;"
       "text-align:left;vertical-align:top}code{word-break:break-all}</style>\n";
  h += "</head>\n<body>\n";
  if (info.upload) {
    h += "<h1>ファイルの送信をブロックしました</h1>\n<h2>File upload blocked</h2>\n";
  } else {
    h += "<h1>ファイルのダウンロードをブロックしました</h1>\n<h2>File download blocked</h2>\n";
  }
  h += "<p>" + htmlEscape(text.ja) + "<br>" + htmlEscape(text.en) + "</p>\n";
  h += "<table>\n";
  h += "<tr><th>ファイル名 / File</th><td><code>" +
       htmlEscape(info.fileName.empty() ? "-" : info.fileName) + "</code></td></tr>\n";
  h += "<tr><th>URL</th><td><code>" + htmlEscape(info.url.empty() ? "-" : info.url) +
       "</code></td></tr>\n";
  h += "<tr><th>理由 / Reason</th><td><code>" + htmlEscape(info.reason) + "</code></td></tr>\n";
  h += "<tr><th>種類 / Detected type</th><td><code>" +
       htmlEscape(info.detectedType.empty() ? "-" : info.detectedType) + "</code></td></tr>\n";
  h += "<tr><th>サイズ / Size</th><td>" + std::to_string(info.bytes) + " bytes</td></tr>\n";
  h += "<tr><th>SHA-256</th><td><code>" + htmlEscape(sha) + "</code></td></tr>\n";
  h += "</table>\n";
  h += "<p>業務に必要なファイルの場合は、上の SHA-256 を添えて次へお問い合わせください: " +
       htmlEscape(contact) + "</p>\n";
  h += "<p>If you need this file for your work, contact " + htmlEscape(contact) +
       " and quote the SHA-256 above.</p>\n";
  h += "<p><small>lbg file sanitization (ファイル無害化)</small></p>\n</body>\n</html>\n";
  return h;
}

}  // namespace lbg::icap
