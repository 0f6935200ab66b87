#include "tools/audit/i18n.h"

#include <cstring>

namespace lbg::audit {

namespace {

struct Text {
  const char* key;
  const char* ja;
  const char* en;
};

constexpr Text kTexts[] = {
    {"title", "LGWAN接続系 ローカルブレイクアウト（α′モデル）監査報告書",
     "LGWAN local breakout (α′ model) audit report"},
    {"subtitle", "外部監査・J-LIS 報告用 証跡", "Evidence for the external audit and the J-LIS report"},
    {"appliance", "装置", "Appliance"},
    {"period", "対象期間", "Period"},
    {"generated", "作成日時", "Generated"},
    {"tz", "時刻表記", "Times shown in"},
    {"key", "ログ署名鍵 ID", "Log signing key id"},
    {"summary", "概要", "Summary"},
    {"integrity", "ログ完全性検証", "Log integrity"},
    {"integrity_ok", "検証成功：改ざん・削除・順序入替・欠落は検出されませんでした",
     "Verified: no alteration, deletion, reordering or gap found"},
    {"integrity_broken", "改ざんまたは欠落を検出しました。最初の異常箇所：",
     "Alteration or gap detected. First broken place: "},
    {"integrity_boxes", "装置ごとのハッシュチェーン", "Hash chain of each appliance"},
    {"segments", "セグメント数", "Segments"},
    {"records_verified", "検証したレコード数", "Records verified"},
    {"records_period", "期間内のレコード数", "Records in the period"},
    {"no_data", "この期間のデータはありません（この対策はまだイベントを出力していません）",
     "No data in this period (this measure does not produce events yet)"},
    {"measure", "対策", "Measure"},
    {"level", "必須/推奨（ケースA/B/C）", "Mandatory/recommended (cases A/B/C)"},
    {"events", "イベント数", "Events"},
    {"allowed", "許可", "Allowed"},
    {"denied", "拒否", "Denied"},
    {"count", "件数", "Count"},
    {"service", "サービス", "Service"},
    {"no_service", "（該当サービスなし）", "(no service)"},
    {"reason", "理由", "Reason"},
    {"date", "日付", "Date"},
    {"daily", "日別の許可・拒否フロー", "Allowed and denied flows per day"},
    {"denials_by_reason", "拒否理由別の件数", "Denials by reason"},
    {"top_denied_dest", "拒否の多い宛先", "Top denied destinations"},
    {"top_denied_src", "拒否の多い送信元", "Top denied sources"},
    {"destination", "宛先", "Destination"},
    {"source", "送信元", "Source"},
    {"flows_by_service", "サービス別フロー", "Flows by service"},
    {"policy", "ポリシーの版と承認", "Policy versions and approvals"},
    {"policy_at_start", "期間開始時点で有効なポリシー", "Policy in force at the start of the period"},
    {"policy_commits", "期間内のポリシー変更", "Policy changes in the period"},
    {"version", "版", "Version"},
    {"author", "作成者", "Author"},
    {"approver", "承認者", "Approver"},
    {"message", "内容", "Message"},
    {"time", "日時", "Time"},
    {"allowed_services", "許可サービスと ISMAP 登録", "Allowed services and ISMAP registration"},
    {"ismap_id", "ISMAP 登録番号", "ISMAP id"},
    {"ismap_expires", "有効期限", "Expires"},
    {"kind", "種別", "Kind"},
    {"none", "なし", "none"},
    {"admin_actions", "管理者操作", "Administrator actions"},
    {"user", "利用者", "User"},
    {"role", "役割", "Role"},
    {"action", "操作", "Action"},
    {"result", "結果", "Result"},
    {"alarms", "警報", "Alarms"},
    {"detail", "詳細", "Detail"},
    {"writer_lost", "ログ書込みで失われたレコード", "Records lost by the log writer"},
    {"lost_counters", "欠損・破棄カウンタ（最新値）", "Lost and dropped counters (latest values)"},
    {"retention", "保存期間による削除", "Deletions by retention"},
    {"retained_segments", "保存期間により削除されたセグメント（署名付きで記録）",
     "Segments deleted by retention (recorded in the signed log)"},
    {"signature", "シグネチャ", "Signature"},
    {"shown_first", "最初の %zu 件を表示", "first %zu shown"},
    {"event_types", "イベント種別", "Event types"},
    {"section", "区分", "Section"},
    {"item", "項目", "Item"},
    {"value", "値", "Value"},
    {"notes", "備考", "Notes"},
    {"procedure_note", "手続・規定（AP-PROCEDURE）の証跡", "Evidence for procedures and rules (AP-PROCEDURE)"},
    {"ok", "正常", "OK"},
    {"broken", "異常", "BROKEN"},
    {"where_gateway", "本装置で実施", "enforced by this appliance"},
    {"ddos_summaries", "DDoS 防御による拒否の集約記録（ddos）",
     "Denials summarised by the DDoS guard (ddos records)"},
    {"ddos_none", "この期間に ddos 記録はありません（DDoS 防御による拒否の集約なし）",
     "No ddos records in this period (no denials summarised by the DDoS guard)"},
    {"ddos_note", "送信元・理由ごとに一定間隔で1件に集約（パケットごとには記録しない）",
     "One record per source and reason per interval (never one per packet)"},
    {"ddos_by_reason", "理由別", "By reason"},
    {"ddos_top_sources", "集約された拒否の多い送信元", "Top sources of summarised denials"},
    {"ddos_evidence", "AP-DDOS に数えた記録（理由別、フロー判定・警報を含む）",
     "Records counted for AP-DDOS (by reason, flow verdicts and alarms included)"},
    {"records", "記録数", "Records"},
    {"packets", "拒否パケット数", "Denied packets"},
    {"first", "最初の間隔の開始", "First interval from"},
    {"last", "最後の間隔の終了", "Last interval until"},
    {"sources", "送信元数", "Sources"},
    {"cert_verified", "証明書を確認した接続先（サービス別）", "Destinations verified by certificate (per service)"},
    {"cert_verified_note",
     "SNI で許可したフローの証明書は、TLS 1.2 以下ではサーバの Certificate メッセージ（受動検査）、"
     "TLS 1.3 では装置自身の確認接続（プローブ、キャッシュあり）で確かめ、失敗したフローは拒否して下表に計上します。"
     "ログには許可フローごとの確認方法は記録されません（サービスの certificate 設定による）",
     "The certificate of a flow allowed by SNI is checked from the server's Certificate message (passive "
     "check, TLS 1.2 and below) or by the appliance's own connection (probe, cached, TLS 1.3); a flow that "
     "fails is denied and counted below. The log does not record per allowed flow how it was checked (it "
     "depends on the service's certificate setting)"},
    {"sni_allowed", "SNI で許可したフロー", "Flows allowed by SNI"},
    {"probes", "プローブ数", "Probes"},
    {"probed_destinations", "プローブした宛先数", "Destinations probed"},
    {"cert_top_probed", "プローブの多い宛先（サービス・宛先別）", "Most probed destinations (per service and destination)"},
    {"cert_failures", "証明書の検証失敗による拒否（理由別）", "Denials for a failed certificate check (by reason)"},
    {"passive", "受動検査", "Passive check"},
    {"probe", "プローブ", "Probe"},
    {"probe_cache", "プローブ結果のキャッシュ", "Cached probe verdict"},
    {"proxy", "TLS 中継（lbg-proxy）", "TLS interception (lbg-proxy)"},
    {"total", "合計", "Total"},
    {"cert_fail_service_sni", "証明書の検証失敗（サービス・SNI 別）", "Certificate check failures (per service and SNI)"},
    {"service_sni", "サービス / SNI", "Service / SNI"},
    {"cert_fail_dest", "証明書の検証失敗の多い宛先", "Top destinations failing the certificate check"},
    {"cert_probe_stats", "プローブの統計", "Probe statistics"},
    {"refused_by_probe", "プローブによる拒否", "Refused by a probe"},
    {"refused_by_probe_cache", "キャッシュしたプローブ結果による拒否", "Refused by a cached probe verdict"},
    {"refused_passive", "受動検査による拒否", "Refused by the passive check"},
    {"refused_by_proxy", "TLS 中継（lbg-proxy）による拒否", "Refused by lbg-proxy's upstream check"},
    {"probe_timeouts", "プローブの期限切れ（cert-probe-timeout）", "Probe timeouts (cert-probe-timeout)"},
    {"probe_failed", "プローブの接続失敗（cert-probe-failed）", "Probes that could not connect (cert-probe-failed)"},
    {"cert_evidence", "AP-CERT に数えた記録（操作・理由別）", "Records counted for AP-CERT (by action and reason)"},
};

}  // namespace

const char* tr(const std::string& lang, const char* key) {
  for (const auto& t : kTexts)
    if (std::strcmp(t.key, key) == 0) return lang == "en" ? t.en : t.ja;
  return key;  // a missing text shows its key rather than nothing
}

}  // namespace lbg::audit
