#include "tools/audit/sample_log.h"

#include <cstdio>

#include "dataplane/telemetry/log/log_writer.h"
#include "dataplane/telemetry/log/time_format.h"
#include "tools/audit/report.h"

namespace lbg::audit {

using telemetry::MeasureId;

namespace {

uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct Service {
  const char* name;
  const char* sni;
  const char* ip;
};
constexpr Service kServices[] = {
    {"m365-exchange", "outlook.office365.com", "52.96.88.1"},
    {"m365-sharepoint", "city-my.sharepoint.com", "13.107.136.9"},
    {"m365-teams", "teams.microsoft.com", "52.112.0.5"},
    {"windows-update", "download.windowsupdate.com", "23.32.4.10"},
    {"lgwan-asp-mail", "asp.lgwan.example.jp", "198.51.100.20"},
};
struct Deny {
  const char* reason;
  MeasureId measure;
  const char* sni;
};
constexpr Deny kDenies[] = {
    {"no-match", MeasureId::Dest, "www.dropbox.com"},
    {"no-match", MeasureId::Dest, "discord.com"},
    {"no-match", MeasureId::Dest, "drive.google.com"},
    {"port-not-allowed", MeasureId::Dest, ""},
    {"quic", MeasureId::Dest, "teams.microsoft.com"},
    {"ech", MeasureId::Dest, "cloudflare-ech.com"},
    {"ambiguous:two-services", MeasureId::Dest, "login.microsoftonline.com"},
    {"malformed:short-client-hello", MeasureId::Dest, ""},
    {"table-full", MeasureId::Ddos, ""},
    {"cert-untrusted-issuer", MeasureId::Cert, "outlook.office365.com"},
    {"tenant-not-allowed", MeasureId::Tenant, "login.microsoftonline.com"},
};
constexpr const char* kAdmins[][4] = {
    {"tanaka", "1001", "operator", "policy.commit"},
    {"suzuki", "1002", "approver", "policy.approve"},
    {"sato", "1003", "auditor", "stats.show"},
    {"tanaka", "1001", "operator", "flows.list"},
    {"yamada", "1004", "operator", "policy.approve"},
};
constexpr const char* kSignatures[] = {"ET POLICY SSH session in progress on non-standard port",
                                       "ET TROJAN Possible beacon", "LBG tunnel over TLS port"};

std::string ts(int64_t ns) { return telemetry::logfmt::formatRfc3339(ns); }

std::string policyEvent(const std::string& t, int version) {
  std::string expires = version == 1 ? "2027-03-31" : "2028-03-31";
  return "{\"timestamp\":\"" + t + "\",\"event_type\":\"policy\",\"policy\":{\"version\":" +
         std::to_string(version) + ",\"hash\":\"sha256:" + std::string(version == 1 ? "3f1a" : "9c2e") +
         "0d9b\",\"author\":\"tanaka\",\"approver\":\"suzuki\",\"message\":\"" +
         (version == 1 ? "初期ポリシー（M365・Windows Update・LGWAN-ASP）" : "Teams を追加 / add Teams") +
         "\",\"services\":[{\"name\":\"m365-exchange\",\"kind\":\"cloud\",\"ismap\":{\"id\":\"C21-0008-2\","
         "\"expires\":\"" + expires + "\"}},{\"name\":\"m365-sharepoint\",\"kind\":\"cloud\",\"ismap\":{\"id\":"
         "\"C21-0008-2\",\"expires\":\"" + expires + "\"}}," +
         (version >= 2 ? "{\"name\":\"m365-teams\",\"kind\":\"cloud\",\"ismap\":{\"id\":\"C21-0008-2\","
                         "\"expires\":\"" + expires + "\"}}," : std::string()) +
         "{\"name\":\"windows-update\",\"kind\":\"security-update\",\"ismap\":null},"
         "{\"name\":\"lgwan-asp-mail\",\"kind\":\"lgwan-asp\",\"ismap\":null}]},\"measure\":\"" + std::string(measureIdText(MeasureId::Procedure)) + "\"}";
}

}  // namespace

std::string sampleEvent(const SampleLogOptions& opt, uint64_t i, int64_t timeNs) {
  std::string t = ts(timeNs);
  if (i == 0) return policyEvent(t, 1);
  if (i == opt.events * 2 / 5) return policyEvent(t, 2);
  uint64_t r = mix(opt.seed * 0x100000001b3ULL + i);
  char buf[1024];
  if (i % 4999 == 0) {
    const auto& a = kAdmins[(i / 4999) % 5];
    bool refused = (i / 4999) % 7 == 3;
    std::snprintf(buf, sizeof(buf),
                  "{\"timestamp\":\"%s\",\"event_type\":\"admin\",\"admin\":{\"user\":\"%s\",\"uid\":%s,"
                  "\"role\":\"%s\",\"action\":\"%s\",\"args\":\"%s\",\"result\":\"%s\",\"detail\":\"%s\"},"
                  "\"measure\":\"%s\"}",
                  t.c_str(), a[0], a[1], a[2], a[3], refused ? "--version 2" : "", refused ? "refused" : "ok",
                  refused ? "role may not approve its own change" : "", measureIdText(MeasureId::Priv).c_str());
    return buf;
  }
  if (i % 1999 == 0) {
    std::snprintf(buf, sizeof(buf),
                  "{\"timestamp\":\"%s\",\"flow_id\":%llu,\"event_type\":\"alert\",\"src_ip\":\"10.20.%llu.%llu\","
                  "\"src_port\":%llu,\"dest_ip\":\"52.96.88.1\",\"dest_port\":443,\"proto\":\"TCP\","
                  "\"alert\":{\"action\":\"%s\",\"gid\":1,\"signature_id\":%llu,\"rev\":1,\"signature\":\"%s\","
                  "\"category\":\"Potentially Bad Traffic\",\"severity\":2},\"measure\":\"%s\"}",
                  t.c_str(), (unsigned long long)i, (unsigned long long)(r % 40), (unsigned long long)(r >> 8) % 250 + 1,
                  (unsigned long long)(40000 + r % 20000), (r >> 3) % 3 == 0 ? "blocked" : "allowed",
                  (unsigned long long)(2000000 + (i / 1999) % 3), kSignatures[(i / 1999) % 3], measureIdText(MeasureId::Ids).c_str());
    return buf;
  }
  if (i % 2999 == 0) {
    std::snprintf(buf, sizeof(buf),
                  "{\"timestamp\":\"%s\",\"event_type\":\"fileinfo\",\"fileinfo\":{\"filename\":\"report-%llu.%s\","
                  "\"result\":\"%s\",\"size\":%llu},\"http\":{\"hostname\":\"city-my.sharepoint.com\"},"
                  "\"measure\":\"%s\"}",
                  t.c_str(), (unsigned long long)i, (r & 1) ? "docx" : "pdf",
                  (r >> 4) % 10 == 0 ? "blocked" : "sanitized", (unsigned long long)(r % 5000000), measureIdText(MeasureId::Sanitize).c_str());
    return buf;
  }
  if (i % 997 == 0) {
    std::snprintf(buf, sizeof(buf),
                  "{\"timestamp\":\"%s\",\"event_type\":\"stats\",\"stats\":{\"uptime\":%llu,"
                  "\"log\":{\"event_ring_lost\":%llu},\"flow\":{\"table_full\":%llu,\"active\":%llu}}}",
                  t.c_str(), (unsigned long long)(i / 10), (unsigned long long)(i / 100000),
                  (unsigned long long)(i / 50000), (unsigned long long)(r % 30000));
    return buf;
  }
  unsigned long long src3 = (r >> 16) % 40, src4 = (r >> 24) % 250 + 1, sport = 32768 + (r >> 32) % 28000;
  unsigned kind = unsigned(r % 100);
  if (opt.rareEvery != 0 && i % opt.rareEvery == 7) {
    std::snprintf(buf, sizeof(buf),
                  "{\"timestamp\":\"%s\",\"flow_id\":%llu,\"event_type\":\"flow\",\"phase\":\"verdict\","
                  "\"src_ip\":\"10.20.%llu.%llu\",\"src_port\":%llu,\"dest_ip\":\"%s\",\"dest_port\":443,"
                  "\"proto\":\"TCP\",\"app_proto\":\"tls\",\"action\":\"deny\",\"reason\":\"no-match\","
                  "\"policy\":{\"version\":2,\"service\":null},\"tls\":{\"sni\":\"exfil.example.net\"},"
                  "\"measure\":\"%s\"}",
                  t.c_str(), (unsigned long long)i, src3, src4, sport, opt.rareDest.c_str(), measureIdText(MeasureId::Dest).c_str());
    return buf;
  }
  if (i % 1499 == 0) {
    // The guard's deny summaries: an infected inside host over its limits, floods from outside.
    struct Summary {
      const char* reason;
      const char* src;
      const char* dest;
      const char* proto;
      uint64_t maxPackets;
    };
    constexpr Summary kSummaries[] = {
        {"rate-limit", "10.20.7.66", "52.96.88.1", "TCP", 400},
        {"flood", "203.0.113.9", "10.20.0.53", "UDP", 90000},
        {"inbound", "198.18.200.4", "10.20.1.10", "TCP", 20000},
        {"flow-limit", "10.20.7.66", "13.107.136.9", "TCP", 50},
        {"flood", "203.0.113.77", "10.20.0.53", "UDP", 60000},
    };
    const Summary& s = kSummaries[(i / 1499) % 5];
    const uint64_t pkts = r % s.maxPackets + 1;
    std::snprintf(buf, sizeof(buf),
                  "{\"timestamp\":\"%s\",\"event_type\":\"ddos\",\"src_ip\":\"%s\",\"src_port\":0,"
                  "\"dest_ip\":\"%s\",\"dest_port\":0,\"proto\":\"%s\",\"action\":\"deny\",\"reason\":\"%s\","
                  "\"ddos\":{\"packets\":%llu,\"bytes\":%llu,\"start\":\"%s\",\"end\":\"%s\"},"
                  "\"measure\":\"%s\"}",
                  t.c_str(), s.src, s.dest, s.proto, s.reason, (unsigned long long)pkts,
                  (unsigned long long)(pkts * 64), ts(timeNs - 10000000000LL).c_str(),
                  ts(timeNs - 1000000000LL).c_str(), measureIdText(MeasureId::Ddos).c_str());
    return buf;
  }
  int version = i < opt.events * 2 / 5 ? 1 : 2;
  if (i % 211 == 3) {
    // Certificate checks (AP-CERT): the appliance's probes (their own flows, `cert-probe`), a
    // server at another address claiming SharePoint refused by its probe and then by the cached
    // verdict, refusals of the passive check of TLS 1.2 flights, a probe left unanswered.
    struct Cert {
      const char* action;
      const char* reason;
      const char* service;
      const char* ip;
      const char* sni;
    };
    constexpr Cert kCerts[] = {
        {"allow", "cert-probe", "m365-exchange", "52.96.88.1", "outlook.office365.com"},
        {"allow", "cert-probe", "m365-exchange", "52.96.88.2", "outlook.office365.com"},
        {"allow", "cert-probe", "m365-sharepoint", "198.51.100.66", "city-my.sharepoint.com"},
        {"deny", "cert-untrusted:probe", "m365-sharepoint", "198.51.100.66", "city-my.sharepoint.com"},
        {"deny", "cert-untrusted:probe-cache", "m365-sharepoint", "198.51.100.66", "city-my.sharepoint.com"},
        {"deny", "cert-name", "m365-exchange", "198.18.50.7", "outlook.office365.com"},
        {"allow", "cert-probe", "windows-update", "203.0.113.50", "download.windowsupdate.com"},
        {"deny", "cert-probe-timeout:probe", "windows-update", "203.0.113.50", "download.windowsupdate.com"},
        {"deny", "cert-expired", "lgwan-asp-mail", "198.51.100.20", "asp.lgwan.example.jp"},
        {"deny", "cert-untrusted:server-flight", "m365-exchange", "198.18.50.8", "outlook.office365.com"},
    };
    const Cert& c = kCerts[(i / 211) % (sizeof(kCerts) / sizeof(kCerts[0]))];
    std::snprintf(buf, sizeof(buf),
                  "{\"timestamp\":\"%s\",\"flow_id\":%llu,\"event_type\":\"flow\",\"phase\":\"verdict\","
                  "\"src_ip\":\"10.20.%llu.%llu\",\"src_port\":%llu,\"dest_ip\":\"%s\",\"dest_port\":443,"
                  "\"proto\":\"TCP\",\"app_proto\":\"tls\",\"action\":\"%s\",\"reason\":\"%s\","
                  "\"policy\":{\"version\":%d,\"service\":\"%s\"},\"tls\":{\"sni\":\"%s\"},\"measure\":\"%s\"}",
                  t.c_str(), (unsigned long long)i, src3, src4, sport, c.ip, c.action, c.reason, version, c.service,
                  c.sni, measureIdText(MeasureId::Cert).c_str());
    return buf;
  }
  if (kind < 68) {
    size_t idx = (r >> 40) % 5;
    if (version == 1 && idx == 2) idx = 0;  // Teams is allowed from policy version 2 on
    const Service& s = kServices[idx];
    std::snprintf(buf, sizeof(buf),
                  "{\"timestamp\":\"%s\",\"flow_id\":%llu,\"event_type\":\"flow\",\"phase\":\"verdict\","
                  "\"src_ip\":\"10.20.%llu.%llu\",\"src_port\":%llu,\"dest_ip\":\"%s\",\"dest_port\":443,"
                  "\"proto\":\"TCP\",\"app_proto\":\"tls\",\"action\":\"allow\",\"reason\":\"sni\","
                  "\"policy\":{\"version\":%d,\"service\":\"%s\"},\"tls\":{\"sni\":\"%s\",\"alpn\":[\"h2\"]},"
                  "\"measure\":\"%s\"}",
                  t.c_str(), (unsigned long long)i, src3, src4, sport, s.ip, version, s.name, s.sni, measureIdText(MeasureId::Dest).c_str());
    return buf;
  }
  if (kind < 80) {
    unsigned long long di = (r >> 40) % (sizeof(kDenies) / sizeof(kDenies[0]));
    const Deny& d = kDenies[di];
    unsigned long long dip = (r >> 48) % 3 + 1;  // a few addresses per denied name
    bool quic = std::string_view(d.reason) == "quic";
    std::snprintf(buf, sizeof(buf),
                  "{\"timestamp\":\"%s\",\"flow_id\":%llu,\"event_type\":\"flow\",\"phase\":\"verdict\","
                  "\"src_ip\":\"10.20.%llu.%llu\",\"src_port\":%llu,\"dest_ip\":\"198.18.%llu.%llu\",\"dest_port\":%d,"
                  "\"proto\":\"%s\",\"app_proto\":\"%s\",\"action\":\"deny\",\"reason\":\"%s\","
                  "\"policy\":{\"version\":%d,\"service\":null},\"tls\":{\"sni\":\"%s\"},\"measure\":\"%s\"}",
                  t.c_str(), (unsigned long long)i, src3, src4, sport, di, dip,
                  std::string_view(d.reason) == "port-not-allowed" ? 8080 : 443, quic ? "UDP" : "TCP",
                  quic ? "quic" : "tls", d.reason, version, d.sni, measureIdText(d.measure).c_str());
    return buf;
  }
  if (kind < 95) {
    const Service& s = kServices[(r >> 40) % 5];
    std::snprintf(buf, sizeof(buf),
                  "{\"timestamp\":\"%s\",\"flow_id\":%llu,\"event_type\":\"flow\",\"phase\":\"end\","
                  "\"src_ip\":\"10.20.%llu.%llu\",\"src_port\":%llu,\"dest_ip\":\"%s\",\"dest_port\":443,"
                  "\"proto\":\"TCP\",\"action\":\"allow\",\"policy\":{\"version\":%d,\"service\":\"%s\"},"
                  "\"flow\":{\"pkts_toserver\":%llu,\"pkts_toclient\":%llu,\"bytes_toserver\":%llu,"
                  "\"bytes_toclient\":%llu,\"age\":%llu,\"state\":\"closed\",\"reason\":\"closed\"},"
                  "\"measure\":\"%s\"}",
                  t.c_str(), (unsigned long long)i, src3, src4, sport, s.ip, version, s.name,
                  (unsigned long long)(r % 300 + 3), (unsigned long long)(r % 500 + 3),
                  (unsigned long long)(r % 40000 + 500), (unsigned long long)(r % 900000 + 1000),
                  (unsigned long long)(r % 600), measureIdText(MeasureId::Dest).c_str());
    return buf;
  }
  const Service& s = kServices[(r >> 40) % 5];
  std::snprintf(buf, sizeof(buf),
                "{\"timestamp\":\"%s\",\"event_type\":\"dns\",\"src_ip\":\"10.20.0.53\",\"dest_ip\":\"10.20.%llu.%llu\","
                "\"dns\":{\"type\":\"answer\",\"rrname\":\"%s\",\"rrtype\":\"A\",\"rdata\":\"%s\",\"ttl\":%llu},"
                "\"policy\":{\"service\":\"%s\"},\"measure\":\"%s\"}",
                t.c_str(), src3, src4, s.sni, s.ip, (unsigned long long)(r % 3600), s.name, measureIdText(MeasureId::Dest).c_str());
  return buf;
}

Result<uint64_t> writeSampleLog(const SampleLogOptions& opt) {
  telemetry::LogConfig cfg;
  cfg.dir = opt.dir;
  cfg.keyFile = opt.keyFile;
  cfg.applianceId = opt.applianceId;
  cfg.segmentMaxBytes = opt.segmentMaxBytes;
  cfg.segmentMaxSeconds = 3600;
  cfg.syslog = opt.syslog;
  auto w = telemetry::LogWriter::create(cfg);
  if (!w) return w.error();
  int64_t step = opt.events > 0 ? opt.spanNs / int64_t(opt.events) : 0;
  int64_t lastTick = opt.startNs;
  for (uint64_t i = 0; i < opt.events; ++i) {
    int64_t t = opt.startNs + int64_t(i) * step;
    if (!(*w)->append(sampleEvent(opt, i, t))) return Error{"sample log: record " + std::to_string(i) + " lost"};
    if (t - lastTick >= 1000000000LL) {
      (*w)->tick(uint64_t(t));
      lastTick = t;
    }
  }
  (*w)->tick(uint64_t(opt.startNs + opt.spanNs));
  (*w)->close();
  if (!opt.syslog.empty()) (*w)->drainSyslog(30000);  // a loaded test machine: TLS handshakes take time
  if ((*w)->lost() != 0) return Error{"sample log: " + std::to_string((*w)->lost()) + " records lost"};
  return (*w)->written();
}

}  // namespace lbg::audit
