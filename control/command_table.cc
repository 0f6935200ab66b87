// The command table: every control command once — name, roles, options, lbgctl's request
// builder and the daemon's handler. Adding a command is one row here, its handler in
// handlers/<noun>.cc and, when it takes arguments, its builder in cli_args.cc.

#include <array>

#include "control/api.h"
#include "control/cli_args.h"
#include "control/handlers/handlers.h"

namespace lbg::control {

namespace {

constexpr uint8_t kAdmin = roleBit(Role::Admin);
constexpr uint8_t kApprover = roleBit(Role::Approver);
constexpr uint8_t kOperator = roleBit(Role::Operator);
constexpr uint8_t kAuditor = roleBit(Role::Auditor);
constexpr uint8_t kAll = kAdmin | kApprover | kOperator | kAuditor;
// Whoever judges a change must be able to read it: policy contents are visible to the roles that
// edit, approve or audit them, not to the operator (least privilege).
constexpr uint8_t kPolicyReaders = kAdmin | kApprover | kAuditor;

using T = OptionType;
constexpr OptionSpec kRunning{"running", 0, T::Flag, "", "", ""};
constexpr OptionSpec kKind{"kind", 0,   T::Text,
                           "",     "K", "words:cloud lgwan-asp security-update infrastructure"};
constexpr OptionSpec kIsmapId{"ismap-id", 0, T::Text, "", "ID", ""};
constexpr OptionSpec kIsmapExpires{"ismap-expires", 0, T::Text, "", "YYYY-MM-DD", ""};
constexpr OptionSpec kIntercept{"intercept", 0, T::Text, "true", "true|false", "words:true false"};
// Downloads through lbg-icapd (needs --intercept true: only decrypted bodies can be sanitized).
constexpr OptionSpec kSanitize{"sanitize", 0, T::Text, "true", "true|false", "words:true false"};
constexpr OptionSpec kDescription{"description", 0, T::Text, "", "TEXT", ""};
constexpr OptionSpec kMessage{"message", 'm', T::Text, "", "MESSAGE", ""};

constexpr std::array kListOptions = {kRunning};
constexpr std::array kAddOptions = {kKind,
                                    OptionSpec{"fqdn", 0, T::TextList, "", "F", ""},
                                    OptionSpec{"cidr", 0, T::TextList, "", "C", ""},
                                    OptionSpec{"port", 0, T::TextList, "", "P", ""},
                                    kIsmapId,
                                    kIsmapExpires,
                                    kIntercept,
                                    kSanitize,
                                    kDescription};
constexpr std::array kEditOptions = {OptionSpec{"add-fqdn", 0, T::TextList, "", "F", ""},
                                     OptionSpec{"remove-fqdn", 0, T::TextList, "", "F", ""},
                                     OptionSpec{"add-cidr", 0, T::TextList, "", "C", ""},
                                     OptionSpec{"remove-cidr", 0, T::TextList, "", "C", ""},
                                     OptionSpec{"add-port", 0, T::TextList, "", "P", ""},
                                     OptionSpec{"remove-port", 0, T::TextList, "", "P", ""},
                                     kKind,
                                     kDescription,
                                     kIsmapId,
                                     kIsmapExpires,
                                     kIntercept,
                                     kSanitize};
constexpr std::array kM365Options = {
    OptionSpec{"areas", 0, T::Text, "", "A,B", "words:Exchange SharePoint Skype Common"},
    OptionSpec{"categories", 0, T::Text, "", "C,D", "words:Optimize Allow Default"},
    OptionSpec{"required-only", 0, T::Flag, "", "", ""}, kIsmapId, kIsmapExpires};
constexpr std::array kExpiringOptions = {OptionSpec{"days", 0, T::Uint, "", "N", ""}};
constexpr std::array kTestOptions = {
    OptionSpec{"pcap", 0, T::Text, "", "CAPTURE", "files:@(pcap|pcapng|cap)"}};
constexpr std::array kIdsTestOptions = {
    OptionSpec{"pcap", 0, T::Text, "", "CAPTURE", "files:@(pcap|pcapng|cap)"},
    OptionSpec{"candidate", 0, T::Flag, "", "", ""}};
constexpr std::array kMessageOptions = {kMessage};
constexpr std::array kRejectOptions = {OptionSpec{"reason", 0, T::Text, "", "TEXT", ""}};
constexpr std::array kFlowsOptions = {OptionSpec{"limit", 0, T::Uint, "", "N", ""},
                                      OptionSpec{"filter", 0, T::TextList, "", "FIELD=VALUE", ""}};
constexpr std::array kLimitOptions = {OptionSpec{"limit", 0, T::Uint, "", "N", ""}};
constexpr OptionSpec kCertName{"name", 0, T::Text, "", "HOST", ""};
constexpr OptionSpec kCertAddress{"address", 0, T::Text, "", "IP", ""};
constexpr std::array kCertsOptions = {OptionSpec{"limit", 0, T::Uint, "", "N", ""}, kCertName,
                                      kCertAddress};
constexpr std::array kCertsFlushOptions = {kCertName, kCertAddress,
                                           OptionSpec{"all", 0, T::Flag, "", "", ""}};
constexpr std::array kBackupOptions = {OptionSpec{"force", 0, T::Flag, "", "", ""}};

constexpr std::array kCaNewOptions = {
    OptionSpec{"organization", 0, T::Text, "", "NAME", ""},
    OptionSpec{"days", 0, T::Uint, "", "N", ""}};
constexpr std::array kCaShowOptions = {OptionSpec{"pem", 0, T::Flag, "", "", ""},
                                       OptionSpec{"der", 0, T::Text, "", "FILE", "files:"},
                                       OptionSpec{"force", 0, T::Flag, "", "", ""}};

constexpr std::span<const OptionSpec> kNoOptions{};

namespace h = handlers;

constexpr std::array kCommands = {
    CommandInfo{"whoami", kAll, false, "show your user and role / 自分のユーザーとロール", "",
                kNoOptions, 0, "", cli::noArgs, h::whoami},
    CommandInfo{"service.list", kPolicyReaders, false,
                "list services of the candidate or running policy / サービス一覧", "", kListOptions,
                0, "", cli::serviceList, h::serviceList},
    CommandInfo{"service.show", kPolicyReaders, false, "show one service / サービス詳細", "NAME",
                kListOptions, 1, "", cli::serviceShow, h::serviceShow},
    CommandInfo{"service.add", kAdmin, true,
                "add a service to the candidate / 候補ポリシーにサービス追加", "NAME", kAddOptions,
                1, "", cli::serviceAdd, h::serviceAdd},
    CommandInfo{"service.edit", kAdmin, true, "change a service in the candidate / サービス変更",
                "NAME", kEditOptions, 1, "", cli::serviceEdit, h::serviceEdit},
    CommandInfo{"service.remove", kAdmin, true,
                "remove a service from the candidate / サービス削除", "NAME", kListOptions, 1, "",
                cli::serviceRemove, h::serviceRemove},
    CommandInfo{"service.import-m365", kAdmin, true,
                "import Microsoft 365 endpoints (JSON) / M365エンドポイント取込", "FILE",
                kM365Options, 1, "files:json", cli::importM365, h::importM365},
    CommandInfo{"service.import-asp", kAdmin, true,
                "import an LGWAN-ASP list (CSV) / LGWAN-ASP一覧取込", "FILE", kNoOptions, 1,
                "files:csv", cli::fileContent, h::importAsp},
    CommandInfo{"service.expiring", kPolicyReaders | kOperator, false,
                "services whose ISMAP registration expires soon / ISMAP期限切れ間近", "",
                kExpiringOptions, 0, "", cli::serviceExpiring, h::serviceExpiring},
    CommandInfo{"policy.candidate", kPolicyReaders, false,
                "show the candidate policy YAML / 候補ポリシー表示", "", kNoOptions, 0, "",
                cli::noArgs, h::policyCandidate},
    CommandInfo{"policy.load", kAdmin, true,
                "replace the candidate with a whole policy file / 候補ポリシーを置換", "FILE",
                kNoOptions, 1, "files:@(yaml|yml)", cli::fileContent, h::policyLoad},
    CommandInfo{"policy.discard", kAdmin, true,
                "reset the candidate to the running policy / 候補ポリシー破棄", "", kNoOptions, 0,
                "", cli::noArgs, h::policyDiscard},
    CommandInfo{"policy.diff", kPolicyReaders, false, "candidate vs running / 差分", "", kNoOptions,
                0, "", cli::noArgs, h::policyDiff},
    CommandInfo{"policy.validate", kPolicyReaders, false, "validate the candidate / 検証", "",
                kNoOptions, 0, "", cli::noArgs, h::policyValidate},
    CommandInfo{"policy.test", kAdmin | kApprover, false,
                "replay a capture through candidate and running / pcap再生比較", "", kTestOptions,
                0, "", cli::policyTest, h::policyTest},
    CommandInfo{"policy.commit", kAdmin, true, "commit the candidate / コミット", "",
                kMessageOptions, 0, "", cli::policyCommit, h::policyCommit},
    CommandInfo{"policy.approve", kApprover, true, "approve a pending commit / 承認", "N",
                kNoOptions, 1, "", cli::version, h::policyApprove},
    CommandInfo{"policy.reject", kApprover, true, "reject a pending commit / 却下", "N",
                kRejectOptions, 1, "", cli::policyReject, h::policyReject},
    CommandInfo{"policy.history", kPolicyReaders, false, "list versions / 履歴", "", kNoOptions, 0,
                "", cli::noArgs, h::policyHistory},
    CommandInfo{"policy.show", kPolicyReaders, false, "show one version / 版の表示", "N",
                kNoOptions, 1, "", cli::version, h::policyShow},
    CommandInfo{"policy.rollback", kAdmin, true, "commit an old version again / ロールバック", "N",
                kMessageOptions, 1, "", cli::policyRollback, h::policyRollback},
    CommandInfo{"status", kAll, false, "gateway and policy status / 状態", "", kNoOptions, 0, "",
                cli::noArgs, h::status},
    CommandInfo{"stats", kAdmin | kOperator | kAuditor, false, "all counters / カウンタ", "",
                kNoOptions, 0, "", cli::noArgs, h::stats},
    CommandInfo{"ids", kAdmin | kOperator | kAuditor, false,
                "IDS rules loaded and rejected by keyword / IDSルールの読込状況", "", kNoOptions, 0,
                "", cli::noArgs, h::ids},
    CommandInfo{"ids.stats", kAdmin | kOperator | kAuditor, false,
                "IDS rules by cost: checks, matches, time / IDSルール別の検査回数・一致・時間", "",
                kLimitOptions, 0, "", cli::idsStats, h::idsStats},
    // Rules are staged like any candidate edit (the admin), judged by whoever judges the
    // candidate (admin, approver: as `policy test`); handlers in control/handlers/ids.cc.
    CommandInfo{
        "ids.load", kAdmin, true,
        "stage IDS rule files in the candidate (content pinned) / IDSルールを候補ポリシーに登録",
        "FILE...", kNoOptions, 64, "files:rules", cli::idsLoad, h::idsLoad},
    CommandInfo{"ids.test", kAdmin | kApprover, false,
                "IDS alerts on a capture, running or --candidate / pcapでIDS検知を確認", "",
                kIdsTestOptions, 0, "", cli::idsTest, h::idsTest},
    // The destinations' certificate verdicts (control/handlers/certs.cc).
    CommandInfo{"certs", kAdmin | kOperator | kAuditor, false,
                "certificate verdicts of destinations: name, issuer, expiry, verdict, age / "
                "接続先証明書の検証結果",
                "[ID...]", kCertsOptions, 16, "", cli::certs, h::certs},
    CommandInfo{"certs.flush", kAdmin | kOperator, true,
                "forget certificate verdicts: the next connection is checked again / "
                "証明書検証結果の破棄（再検証）",
                "[ID...]", kCertsFlushOptions, 16, "", cli::certs, h::certsFlush},
    CommandInfo{"flows", kAdmin | kOperator, false, "live flow table / フロー一覧", "",
                kFlowsOptions, 0, "", cli::flows, h::flows},
    CommandInfo{"reload", kAdmin | kOperator, true,
                "re-read roles and store, republish running / 再読込", "", kNoOptions, 0, "",
                cli::noArgs, h::reload},
    CommandInfo{"backup", kAdmin | kAuditor, false,
                "policy store with history, hashed / バックアップ", "FILE", kBackupOptions, 1,
                "files:", cli::backup, h::backup},
    CommandInfo{"restore", kAdmin, true, "restore a verified backup / リストア", "FILE", kNoOptions,
                1, "files:", cli::restore, h::restore},
    // The HA role (control/handlers/ha.cc): keepalived's notify scripts switch it, its track
    // script polls `ha health` (tools/ha/).
    CommandInfo{"ha.status", kAll, false, "HA role and health / 冗長化の役割と健全性", "",
                kNoOptions, 0, "", cli::noArgs, h::haStatus},
    CommandInfo{"ha.active", kAdmin | kOperator, true,
                "become the active box: forward / 稼働系になる（転送開始）", "", kNoOptions, 0, "",
                cli::noArgs, h::haActive},
    CommandInfo{"ha.standby", kAdmin | kOperator, true,
                "become the standby box: forward nothing / 待機系になる（転送停止）", "",
                kNoOptions, 0, "", cli::noArgs, h::haStandby},
    CommandInfo{"ha.health", kAll, false,
                "exit 0 only if this gateway can enforce (keepalived) / 健全性確認", "",
                kNoOptions, 0, "", cli::noArgs, h::haHealth, true},
    // The CA's certificate is public (it goes to every PC); its key never leaves the appliance.
    CommandInfo{"ca.init", kAdmin, true,
                "create the appliance CA for interception / TLS中継用アプライアンスCAの作成", "",
                kCaNewOptions, 0, "", cli::caNew, h::caInit},
    CommandInfo{"ca.show", kAll, false,
                "appliance CA: subject, fingerprint, validity; --pem/--der export / CA表示・出力",
                "", kCaShowOptions, 0, "", cli::caShow, h::caShow},
    CommandInfo{"ca.rotate", kAdmin, true,
                "new appliance CA, the old one kept as ca.prev.pem / CA更新", "", kCaNewOptions, 0,
                "", cli::caNew, h::caRotate},
};

}  // namespace

std::span<const CommandInfo> commandTable() {
  return kCommands;
}

const CommandInfo* findCommand(std::string_view name) {
  for (const auto& c : kCommands) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace lbg::control
