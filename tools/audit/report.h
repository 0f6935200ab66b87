#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dataplane/telemetry/log/ed25519_key.h"
#include "dataplane/telemetry/log/verifier.h"
#include "dataplane/telemetry/log/vocabulary.h"
#include "policy/base/result.h"
#include "tools/audit/measures.h"

// The J-LIS-oriented audit report: evidence per α′ measure for a period, built from the log in
// one pass, then rendered as JSON (the model itself), CSV or one self-contained HTML file.
namespace lbg::audit {

struct ReportOptions {
  int64_t fromNs = 0, toNs = 0;  // [from, to)
  int tzMinutes = 9 * 60;        // local offset shown in the report (JST by default)
  std::string lang = "ja";       // ja | en
  int64_t generatedNs = 0;       // "generated at" (fixed in golden tests)
  size_t topN = 10;
  size_t maxListed = 200;        // admin actions etc. listed in full up to this many
};

struct Counts {
  uint64_t allowed = 0, denied = 0;
};

// The guard's deny summaries (`ddos` records) of one reason or one source: how many records, the
// packets and bytes they count, and the span of their intervals (ddos.start .. ddos.end, UTC ns).
struct DdosSummary {
  uint64_t records = 0, packets = 0, bytes = 0;
  int64_t firstNs = 0, lastNs = 0;  // 0: no interval given

  void add(uint64_t pkts, uint64_t byts, int64_t startNs, int64_t endNs);
  void merge(const DdosSummary& o);
};

// AP-CERT refusals of one reason (or in total), by how the certificate was seen: the gateway's
// passive check of a TLS <= 1.2 server flight (detail empty or `server-flight`), its own probe
// (`probe`), a cached probe verdict (`probe-cache`), or lbg-proxy's upstream check (`tls` records).
struct CertFailures {
  uint64_t passive = 0, probe = 0, probeCache = 0, proxy = 0;

  uint64_t total() const { return passive + probe + probeCache + proxy; }
  void merge(const CertFailures& o);
};

// One destination the gateway probed for a service: "ip (sni)" and how many probes.
struct CertProbeRow {
  std::string service, destination;
  uint64_t probes = 0;
};

// Probe statistics: probes made and refusals by how they were found out. Timeouts and failed
// probes are the refusals of those two reasons (whatever their detail).
struct CertProbeStats {
  uint64_t probes = 0, refusedByProbe = 0, refusedByProbeCache = 0, refusedPassive = 0, refusedByProxy = 0;
  uint64_t timeouts = 0, failed = 0;
};

// One box's log (an HA pair has two, each with its own key and hash chain).
struct LogSource {
  std::string dir;
  telemetry::logfmt::VerifyKey key;
};

// The integrity of one box's chain, when the report covers several (`boxes`).
struct BoxIntegrity {
  std::string dir, appliance, keyId;
  bool ok = false;
  std::string firstBreak;
  uint64_t segments = 0, records = 0, bytes = 0;
};

struct ReportData {
  ReportOptions opt;
  std::string appliance, keyId;
  // Integrity of the whole log (not only the period: a gap elsewhere matters too).
  bool integrityOk = false;
  std::string integrityFirstBreak;
  uint64_t integritySegments = 0, integrityRecords = 0, integrityScannedBytes = 0;
  std::vector<std::string> integrityNotes;
  std::vector<telemetry::logfmt::RetainedSegment> retained;
  // Several logs (an HA pair): each chain verified on its own, in the order given; the fields
  // above are then their sum (ok: all of them), `appliance` and `keyId` joined with ", ", and the
  // listed events of all boxes merged by time, each naming its box (`appliance`). Empty for one log.
  std::vector<BoxIntegrity> boxes;

  uint64_t records = 0;  // in the period
  std::map<std::string, uint64_t> eventTypes;
  std::map<std::string, uint64_t> perMeasure;  // records attributed to each measure id

  // Flows (verdict phase) — AP-DEST.
  Counts flows;
  std::map<std::string, Counts> byService;      // allowed/denied per service ("" = none)
  std::map<std::string, uint64_t> deniedByReason;
  std::map<std::string, Counts> daily;          // local date → counts
  std::vector<std::pair<std::string, uint64_t>> topDeniedDest;  // "ip (name)" → count
  std::vector<std::pair<std::string, uint64_t>> topDeniedSrc;
  std::map<std::string, uint64_t> appProto;
  uint64_t flowEnds = 0, bytesToServer = 0, bytesToClient = 0;
  uint64_t dnsBindings = 0;

  // Other measures.
  std::map<std::string, uint64_t> certByReason;     // AP-CERT: every record, "action: reason"
  // AP-CERT evidence as the log tells it. Verified destinations: flows allowed by SNI per service
  // (reason sni; the certificate of each is checked by the passive check or a probe) and the
  // appliance's probe connections (reason cert-probe, one per probe) per service and destination.
  std::map<std::string, uint64_t> certSniAllowed;         // service → flows allowed by SNI
  std::map<std::string, uint64_t> certProbesByService;    // service → probes
  std::map<std::string, uint64_t> certProbeDestsByService;  // service → distinct "ip (sni)" probed
  std::vector<CertProbeRow> topCertProbes;                // by probes, topN
  uint64_t certProbes = 0;
  // Refusals (deny records of an AP-CERT reason, cert-probe excluded) by reason (without its
  // detail) and how they were found out; per service and SNI, and destinations, topN.
  std::map<std::string, CertFailures> certFailByReason;
  CertFailures certFailTotal;
  std::vector<std::pair<std::string, uint64_t>> topCertFailServiceSni;  // "service / sni"
  std::vector<std::pair<std::string, uint64_t>> topCertFailDest;        // "ip (sni)"
  std::map<std::string, uint64_t> tenantByAction;   // AP-TENANT
  std::map<std::string, uint64_t> fileByResult;     // AP-SANITIZE
  std::map<std::string, uint64_t> idsBySignature;   // AP-IDS
  std::map<std::string, uint64_t> idsByAction;
  std::map<std::string, uint64_t> ddosByReason;     // AP-DDOS: every record of a ddos reason
  DdosSummary ddosTotal;                            // AP-DDOS: the `ddos` records alone
  std::map<std::string, DdosSummary> ddosSummaryByReason;
  std::vector<std::pair<std::string, DdosSummary>> topDdosSources;  // by packets, topN
  uint64_t ddosSources = 0;                         // distinct sources summarised
  std::map<std::string, uint64_t> adminByResult;    // AP-PRIV
  std::vector<nlohmann::json> adminActions;         // listed, up to maxListed
  uint64_t adminTotal = 0;
  std::vector<nlohmann::json> policyVersions;       // AP-PROCEDURE: commits in the period
  nlohmann::json policyInForceAtStart;              // last commit before the period (or null)
  std::map<std::string, uint64_t> alarmsByKind;     // AP-LOG
  std::vector<nlohmann::json> alarms;
  uint64_t writerLost = 0;                          // from alarm records
  std::map<std::string, uint64_t> lostCounters;     // latest stats counters named *lost*/*drop*
  uint64_t retentionEvents = 0;

  CertProbeStats certProbeStats() const;
  nlohmann::json toJson() const;
};

// Builds the report: verifies the log, then reads the records of the period.
Result<ReportData> buildReport(const std::string& dir, const telemetry::logfmt::VerifyKey& key,
                               const ReportOptions& opt);
// The same over several boxes' logs (ReportData::boxes): each chain verified separately, the
// evidence of all summed, the listed events merged by time.
Result<ReportData> buildReport(const std::vector<LogSource>& logs, const ReportOptions& opt);

std::string renderJson(const ReportData& d, const MeasureCatalogue& cat);
std::string renderCsv(const ReportData& d, const MeasureCatalogue& cat);
std::string renderHtml(const ReportData& d, const MeasureCatalogue& cat);

// The α′ measures the report has a section for, in order.
const std::vector<std::string>& reportMeasureIds();
// A measure's id as logged ("AP-DEST"), from the log's vocabulary.
const std::string& measureIdText(telemetry::MeasureId m);

}  // namespace lbg::audit
