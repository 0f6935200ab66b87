#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>

// The enforcement log's vocabulary, declared once: the α′ measure ids records evidence, the event
// types, the verdict reasons (with their measure and their Japanese and English labels) and the
// writer's alarm kinds. Every writer (dataplane event JSON, LogWriter, control, sanitizer/icap) and
// lbg-audit use these names; no other file spells them. Header-only and dependency-free so that any
// part may include it.
//
// Adding a reason is one line in LBG_VERDICT_REASONS (see README.md "Vocabulary"); the enum, the
// logged string, the labels and the report's reason table follow from it. Measure ids are checked
// against ../shared/reference/alpha-prime-measures.yaml by tools/audit/vocabulary_test.cc.
namespace lbg::telemetry {

// One row per line, unaligned, so that rows added in parallel merge without touching their neighbours.
// clang-format off
// X(enumerator, id as logged and in alpha-prime-measures.yaml)
#define LBG_LOG_MEASURES(X) \
  X(Dest, "AP-DEST") \
  X(Cert, "AP-CERT") \
  X(Encrypt, "AP-ENCRYPT") \
  X(Tenant, "AP-TENANT") \
  X(Sanitize, "AP-SANITIZE") \
  X(Ids, "AP-IDS") \
  X(Ddos, "AP-DDOS") \
  X(Priv, "AP-PRIV") \
  X(Log, "AP-LOG") \
  X(Procedure, "AP-PROCEDURE") \
  X(ExIsmap, "AP-EX-ISMAP")

// X(enumerator, event_type as logged, the measure a record of that type evidences by default)
#define LBG_LOG_EVENT_TYPES(X) \
  X(Flow, "flow", Dest) \
  X(Dns, "dns", Dest) \
  X(Tls, "tls", Cert) \
  X(Http, "http", Tenant) \
  X(Alert, "alert", Ids) \
  X(FileInfo, "fileinfo", Sanitize) \
  X(Admin, "admin", Priv) \
  X(Policy, "policy", Procedure) \
  X(Alarm, "alarm", Log) \
  X(Retention, "retention", Log) \
  X(Stats, "stats", Log) \
  X(Ddos, "ddos", Ddos)

// Why a flow got its verdict: X(enumerator, `reason` as logged, measure, 日本語, English).
// A reason may be followed by ":detail" in the log (e.g. "ambiguous:two-names").
#define LBG_VERDICT_REASONS(X) \
  X(None, "none", Dest, "なし", "none") \
  X(Sni, "sni", Dest, "SNI が許可サービスに一致", "SNI matches an allowed service") \
  X(Host, "host", Dest, "Host が許可サービスに一致", "HTTP Host matches an allowed service") \
  X(DnsBinding, "dns-binding", Dest, "DNS 応答で許可名に結び付いた宛先", "destination bound to an allowed name by DNS") \
  X(Cidr, "cidr", Dest, "許可された宛先アドレス範囲", "destination in an allowed address range") \
  X(PortNotAllowed, "port-not-allowed", Dest, "許可されていないポート", "port not allowed") \
  X(NoMatch, "no-match", Dest, "許可サービスに該当なし", "no allowed service matches") \
  X(NoSni, "no-sni", Dest, "SNI なしの TLS", "TLS without SNI") \
  X(SniDnsMismatch, "sni-dns-mismatch", Dest, "SNI と DNS 応答の不一致", "SNI not resolved to this address") \
  X(Ech, "ech", Dest, "暗号化 ClientHello（ECH）", "encrypted ClientHello (ECH)") \
  X(Quic, "quic", Dest, "QUIC の遮断", "QUIC blocked") \
  X(Inbound, "inbound", Dest, "外部からの新規接続", "new flow from outside") \
  X(Midstream, "midstream", Dest, "途中から観測したフロー", "flow seen mid-stream") \
  X(Ambiguous, "ambiguous", Dest, "解釈が一つに定まらない通信", "ambiguous traffic") \
  X(Malformed, "malformed", Dest, "不正な形式", "malformed message") \
  X(StreamConflict, "stream-conflict", Dest, "再送データの矛盾", "conflicting retransmission") \
  X(InspectLimit, "inspect-limit", Dest, "検査上限の超過", "inspection limit exceeded") \
  X(HttpConnect, "http-connect", Dest, "HTTP CONNECT 要求", "HTTP CONNECT request") \
  X(UnsupportedProtocol, "unsupported-protocol", Dest, "対象外のプロトコル", "unsupported protocol") \
  X(ResourceExhausted, "resource-exhausted", Dest, "資源の枯渇", "resources exhausted") \
  X(PolicyChanged, "policy-changed", Dest, "ポリシー変更による再判定", "judged again after a policy change") \
  X(AppMismatch, "app-mismatch", Dest, "アプリケーション識別の不一致", "application identification mismatch") \
  X(RequestHost, "request-host", Dest, "後続リクエストの Host が不許可", "later request's Host not allowed") \
  X(HttpFraming, "http-framing", Dest, "HTTP の区切りが一意でない", "ambiguous HTTP framing") \
  X(DnsQuery, "dns-query", Dest, "許可されていない名前の DNS 問い合わせ", "DNS query for a name no service lists") \
  X(SniChanged, "sni-changed", Dest, "別の名前を示す2回目の ClientHello", "second ClientHello naming another server") \
  X(ProtocolMismatch, "protocol-mismatch", Encrypt, "ポートに宣言されたプロトコルと不一致", "not the protocol declared for the port") \
  X(CertUntrusted, "cert-untrusted", Cert, "信頼できない接続先証明書", "server certificate not trusted") \
  X(CertName, "cert-name", Cert, "接続先証明書の名前が SNI と不一致", "server certificate does not name the SNI") \
  X(CertExpired, "cert-expired", Cert, "接続先証明書の有効期間外", "server certificate outside its validity") \
  X(PinMismatch, "pin-mismatch", Cert, "接続先証明書の公開鍵ピン不一致", "no pinned key in the server's chain") \
  X(CertWeakKey, "cert-weak-key", Cert, "接続先証明書の鍵長不足", "server certificate key too weak") \
  X(CertRevoked, "cert-revoked", Cert, "接続先証明書の失効（OCSP ステープル）", "server certificate revoked (stapled OCSP)") \
  X(OcspMissing, "ocsp-missing", Cert, "OCSP ステープル必須の接続先が未提示", "no stapled OCSP where the service requires it") \
  X(OcspInvalid, "ocsp-invalid", Cert, "不正または期限切れの OCSP ステープル", "stapled OCSP invalid, unsigned or out of date") \
  X(CertProbeTimeout, "cert-probe-timeout", Cert, "接続先証明書の確認（プローブ）が期限内に完了せず", "certificate probe unanswered within its deadline") \
  X(CertProbeFailed, "cert-probe-failed", Cert, "接続先証明書の確認（プローブ）の接続失敗", "certificate probe could not connect or handshake") \
  X(CertProbe, "cert-probe", Cert, "装置による接続先証明書の確認接続", "the appliance's own certificate probe connection") \
  X(RateLimit, "rate-limit", Ddos, "送信元の新規フロー数の上限超過", "source over its new-flow rate") \
  X(FlowLimit, "flow-limit", Ddos, "送信元の同時フロー数の上限超過", "source over its concurrent flows") \
  X(TableFull, "table-full", Ddos, "送信元表の満杯", "guard's source table full") \
  X(Flood, "flood", Ddos, "宛先ごとの流量上限の超過", "over the destination's flood limit") \
  X(Intercept, "intercept", Tenant, "TLS 中継（lbg-proxy）へ引き渡し", "handed to lbg-proxy for interception") \
  X(InterceptUnavailable, "intercept-unavailable", Tenant, "TLS 中継を利用できない（中継を経ない接続を含む）", "interception unavailable (proxy down, VLAN-tagged, IPv6, or the flow was not handed over)") \
  X(IdsDrop, "ids-drop", Ids, "IDS/IPS ルールによる遮断", "blocked by an IDS/IPS rule")

// The log writer's alarm kinds (`alarm.kind`).
#define LBG_LOG_ALARM_KINDS(X) \
  X(DiskFull, "disk-full") \
  X(LogLost, "log-lost") \
  X(InvalidRecord, "log-invalid-record") \
  X(Integrity, "log-integrity") \
  X(SealFailed, "log-seal-failed") \
  X(TailMissing, "log-tail-missing")

// clang-format on

enum class MeasureId : uint8_t {
#define LBG_VOCAB_ENUM_(id, ...) id,
  LBG_LOG_MEASURES(LBG_VOCAB_ENUM_)
};
enum class LogEventType : uint8_t { LBG_LOG_EVENT_TYPES(LBG_VOCAB_ENUM_) };
enum class Reason : uint8_t { LBG_VERDICT_REASONS(LBG_VOCAB_ENUM_) };
enum class AlarmKind : uint8_t { LBG_LOG_ALARM_KINDS(LBG_VOCAB_ENUM_) };
#undef LBG_VOCAB_ENUM_

struct MeasureInfo {
  MeasureId id;
  std::string_view name;  // "AP-DEST"
};
struct EventTypeInfo {
  LogEventType type;
  std::string_view name;
  MeasureId measure;
};
struct ReasonInfo {
  Reason reason;
  std::string_view name;
  MeasureId measure;
  std::string_view ja, en;
};
struct AlarmKindInfo {
  AlarmKind kind;
  std::string_view name;
};

inline constexpr MeasureInfo kMeasures[] = {
#define LBG_VOCAB_ROW_(id, name) {MeasureId::id, name},
    LBG_LOG_MEASURES(LBG_VOCAB_ROW_)
#undef LBG_VOCAB_ROW_
};
inline constexpr EventTypeInfo kEventTypes[] = {
#define LBG_VOCAB_ROW_(id, name, measure) {LogEventType::id, name, MeasureId::measure},
    LBG_LOG_EVENT_TYPES(LBG_VOCAB_ROW_)
#undef LBG_VOCAB_ROW_
};
inline constexpr ReasonInfo kReasons[] = {
#define LBG_VOCAB_ROW_(id, name, measure, ja, en) {Reason::id, name, MeasureId::measure, ja, en},
    LBG_VERDICT_REASONS(LBG_VOCAB_ROW_)
#undef LBG_VOCAB_ROW_
};
inline constexpr AlarmKindInfo kAlarmKinds[] = {
#define LBG_VOCAB_ROW_(id, name) {AlarmKind::id, name},
    LBG_LOG_ALARM_KINDS(LBG_VOCAB_ROW_)
#undef LBG_VOCAB_ROW_
};

constexpr std::string_view toString(MeasureId m) {
  return kMeasures[static_cast<size_t>(m)].name;
}
constexpr std::string_view toString(LogEventType t) {
  return kEventTypes[static_cast<size_t>(t)].name;
}
constexpr std::string_view toString(AlarmKind k) {
  return kAlarmKinds[static_cast<size_t>(k)].name;
}
constexpr const ReasonInfo& reasonInfo(Reason r) {
  return kReasons[static_cast<size_t>(r)];
}
constexpr MeasureId defaultMeasure(LogEventType t) {
  return kEventTypes[static_cast<size_t>(t)].measure;
}

// Lookups by logged text (lbg-audit reading records; a reason's ":detail" is ignored).
constexpr std::optional<LogEventType> eventTypeFromString(std::string_view s) {
  for (const auto& t : kEventTypes)
    if (t.name == s) return t.type;
  return std::nullopt;
}
constexpr const ReasonInfo* findReason(std::string_view logged) {
  const std::string_view name = logged.substr(0, logged.find(':'));
  for (const auto& r : kReasons)
    if (r.name == name) return &r;
  return nullptr;
}

// Rows are indexed by enumerator: keep each table in declaration order.
constexpr bool vocabularyInOrder() {
  for (size_t i = 0; i < std::size(kMeasures); ++i)
    if (static_cast<size_t>(kMeasures[i].id) != i) return false;
  for (size_t i = 0; i < std::size(kEventTypes); ++i)
    if (static_cast<size_t>(kEventTypes[i].type) != i) return false;
  for (size_t i = 0; i < std::size(kReasons); ++i)
    if (static_cast<size_t>(kReasons[i].reason) != i ||
        kReasons[i].name.find(':') != std::string_view::npos)
      return false;
  for (size_t i = 0; i < std::size(kAlarmKinds); ++i)
    if (static_cast<size_t>(kAlarmKinds[i].kind) != i) return false;
  return true;
}
static_assert(vocabularyInOrder());

// Names lbg-audit's report attributes to a measure without a reason of the table (records from
// producers not built yet, e.g. the guard and the certificate check, or older logs).
inline constexpr std::string_view kDdosReasonNames[] = {"table-full", "rate-limit", "syn-flood"};
inline constexpr std::string_view kDdosReasonPrefixes[] = {"flood", "ddos"};
inline constexpr std::string_view kCertReasonPrefix = "cert";

}  // namespace lbg::telemetry
