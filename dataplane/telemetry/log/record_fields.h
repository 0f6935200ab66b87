#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// The fields of a record that the index, queries and reports select on, read once with simdjson
// (On Demand). Names are those of FORMAT.md / ARCHITECTURE.md "Logs".
namespace lbg::telemetry::logfmt {

struct RecordFields {
  std::string timestamp;  // as written
  int64_t timeNs = 0;     // parsed; 0 if absent or invalid
  std::string eventType;
  std::string srcIp, destIp;
  int64_t srcPort = -1, destPort = -1;
  std::string proto, appProto;
  std::string action;  // allow | deny | ...
  std::string reason;
  std::string phase;   // verdict | end (flow)
  std::string service; // policy.service
  int64_t policyVersion = -1;
  std::string sni;      // tls.sni, lower-cased
  std::string hostname; // http.hostname, lower-cased
  std::string measure;
  int64_t bytesToServer = -1, bytesToClient = -1;  // flow.bytes_* (flow end records)

  void clear();
};

// Parses one record line. `capacity` is the number of readable bytes from line.data() (at least
// line.size() + 64; simdjson reads ahead). Returns false on anything that is not a JSON object.
bool parseRecordFields(std::string_view line, size_t capacity, RecordFields& out);

}  // namespace lbg::telemetry::logfmt
