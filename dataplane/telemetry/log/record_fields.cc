#include "dataplane/telemetry/log/record_fields.h"

#include <simdjson.h>

#include <algorithm>

#include "dataplane/telemetry/log/time_format.h"

namespace lbg::telemetry::logfmt {

void RecordFields::clear() {
  // Member-wise, keeping string capacity: this runs once per record on gigabytes of log.
  for (std::string* str : {&timestamp, &eventType, &srcIp, &destIp, &proto, &appProto, &action, &reason,
                           &phase, &service, &sni, &hostname, &measure})
    str->clear();
  timeNs = 0;
  srcPort = destPort = policyVersion = bytesToServer = bytesToClient = -1;
}

namespace {

using simdjson::ondemand::value;

void lower(std::string& s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return c >= 'A' && c <= 'Z' ? char(c + 32) : char(c); });
}

// get_string()/get_int64() fail on any other type (null, number, ...) without consuming the
// value, which the iterator then skips: no separate type() probe needed.
bool getString(value v, std::string& out) {
  std::string_view s;
  if (v.get_string().get(s)) return false;
  out.assign(s);
  return true;
}

bool getInt(value v, int64_t& out) {
  int64_t n;
  if (v.get_int64().get(n)) return false;
  out = n;
  return true;
}

// The key as written when it has no escape (every key the gateway writes): no copy into the
// parser's string buffer. An escaped key is unescaped, so that "event\u005ftype" still means
// event_type and cannot hide a field from queries.
bool fieldKey(simdjson::ondemand::field& field, std::string_view& key) {
  const char* p = field.key().raw();
  const char* q = p;
  while (*q != '"' && *q != '\\') ++q;  // stage 1 proved the closing quote exists
  if (*q == '"') {
    key = std::string_view(p, size_t(q - p));
    return true;
  }
  return !field.unescaped_key().get(key);
}

// Reads `key` (a string) of a nested object value; other members are skipped.
template <class F>
void eachMember(value v, F&& f) {
  simdjson::ondemand::object obj;
  if (v.get_object().get(obj)) return;
  for (auto fieldResult : obj) {
    simdjson::ondemand::field field;
    if (std::move(fieldResult).get(field)) return;
    std::string_view key;
    if (!fieldKey(field, key)) return;
    f(key, field.value());
  }
}

}  // namespace

bool parseRecordFields(std::string_view line, size_t capacity, RecordFields& out) {
  // One parser per thread: its buffers grow once and are reused for every line.
  thread_local simdjson::ondemand::parser parser;
  out.clear();
  simdjson::padded_string_view input(line.data(), line.size(), capacity);
  simdjson::ondemand::document doc;
  if (parser.iterate(input).get(doc)) return false;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return false;
  for (auto fieldResult : obj) {
    simdjson::ondemand::field field;
    if (std::move(fieldResult).get(field)) return false;
    std::string_view key;
    if (!fieldKey(field, key)) return false;
    value v = field.value();
    if (key == "timestamp") {
      getString(v, out.timestamp);
    } else if (key == "event_type") {
      getString(v, out.eventType);
    } else if (key == "src_ip") {
      getString(v, out.srcIp);
    } else if (key == "dest_ip") {
      getString(v, out.destIp);
    } else if (key == "src_port") {
      getInt(v, out.srcPort);
    } else if (key == "dest_port") {
      getInt(v, out.destPort);
    } else if (key == "proto") {
      getString(v, out.proto);
    } else if (key == "app_proto") {
      getString(v, out.appProto);
    } else if (key == "action") {
      getString(v, out.action);
    } else if (key == "reason") {
      getString(v, out.reason);
    } else if (key == "phase") {
      getString(v, out.phase);
    } else if (key == "measure") {
      getString(v, out.measure);
    } else if (key == "policy") {
      eachMember(v, [&](std::string_view k, value iv) {
        if (k == "service") getString(iv, out.service);
        else if (k == "version") getInt(iv, out.policyVersion);
      });
    } else if (key == "tls") {
      eachMember(v, [&](std::string_view k, value iv) {
        if (k == "sni") getString(iv, out.sni);
      });
    } else if (key == "flow") {
      eachMember(v, [&](std::string_view k, value iv) {
        if (k == "bytes_toserver") getInt(iv, out.bytesToServer);
        else if (k == "bytes_toclient") getInt(iv, out.bytesToClient);
      });
    } else if (key == "http") {
      eachMember(v, [&](std::string_view k, value iv) {
        if (k == "hostname") getString(iv, out.hostname);
      });
    }
    // Other members are skipped by the iterator; On Demand still checks their structure.
  }
  // Nothing may follow the object ("{...} trailing" is not a record).
  const char* rest = nullptr;
  if (doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) return false;
  lower(out.sni);
  lower(out.hostname);
  if (!out.timestamp.empty()) {
    if (auto t = parseRfc3339(out.timestamp)) out.timeNs = *t;
  }
  return true;
}

}  // namespace lbg::telemetry::logfmt
