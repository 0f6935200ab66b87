// verifyLog's seal checks: pass 1 over the seals, a segment against its seal, the signed index.
#include "dataplane/telemetry/log/verify_parts.h"

#include <openssl/sha.h>

#include "dataplane/telemetry/log/signed_fields.h"

namespace lbg::telemetry::logfmt::verify {

// Pass 1 (cheap: one signature per segment).
std::vector<Entry> readSeals(const std::vector<SegmentFiles>& listed, const VerifyKey& key,
                             const VerifyOptions& opt, VerifyResult& res, std::string& buf) {
  std::vector<Entry> entries;
  for (const auto& f : listed) {
    Entry e{f, std::nullopt, false};
    std::string logName = baseName(f.log);
    if (!f.hasLog) {
      addFinding(res, f.number, logName, 0, 0, 0,
                 "segment file missing (its seal or index is still there)");
      entries.push_back(std::move(e));
      continue;
    }
    if (f.hasSeal) {
      auto r = readFileInto(f.seal, buf, 0);
      if (!r) {
        addFinding(res, f.number, baseName(f.seal), 0, 0, 0,
                   "cannot read seal: " + r.error().toString());
      } else {
        auto seal = Seal::parse(buf);
        if (!seal) {
          addFinding(res, f.number, baseName(f.seal), 0, 0, 0,
                     "seal unreadable (line " + std::to_string(seal.error().line) +
                         "): " + seal.error().message);
        } else {
          e.seal = std::move(*seal);
          if (res.appliance.empty())
            res.appliance = opt.expectAppliance.empty() ? e.seal->appliance : opt.expectAppliance;
          if (!e.seal->verify(key)) {
            addFinding(res, f.number, baseName(f.seal), 0, 0, 0,
                       "seal signature invalid: not made by key " + key.keyId() +
                           " (the seal names key " + e.seal->keyId + ", appliance '" +
                           e.seal->appliance + "'): segment replaced or seal altered");
          } else if (e.seal->appliance != res.appliance) {
            addFinding(res, f.number, baseName(f.seal), 0, 0, 0,
                       "segment belongs to appliance '" + e.seal->appliance + "', not '" +
                           res.appliance + "'");
          } else if (e.seal->segment != f.number) {
            addFinding(
                res, f.number, baseName(f.seal), 0, 0, 0,
                "seal is for segment " + std::to_string(e.seal->segment) + ": segment renamed");
          } else {
            e.sealValid = true;
          }
        }
      }
    }
    entries.push_back(std::move(e));
  }
  if (res.appliance.empty()) res.appliance = opt.expectAppliance;
  return entries;
}

void compareWithSeal(const Seal& s, const ScanResult& sr, uint64_t size, uint64_t number,
                     const std::string& logName, VerifyResult& res) {
  if (sr.records < s.records)
    addFinding(res, number, logName, sr.records + 1, sr.lastSeq + 1, sr.goodBytes,
               "segment truncated: it ends after record " + std::to_string(sr.records) + " (seq " +
                   std::to_string(sr.lastSeq) + ") but the seal covers " +
                   std::to_string(s.records) + " records up to seq " + std::to_string(s.lastSeq));
  else if (sr.records > s.records)
    addFinding(res, number, logName, s.records + 1, s.lastSeq + 1, 0,
               "records added after the segment was sealed");
  else if (sr.lastHash != s.chainLast)
    addFinding(res, number, logName, sr.records, sr.lastSeq, 0,
               "record altered: the last record does not match the seal's chain_last");
  else if (size != s.bytes)
    addFinding(res, number, logName, 0, 0, 0,
               "segment size " + std::to_string(size) + " differs from the sealed " +
                   std::to_string(s.bytes) + " bytes");
}

// The seal signs the index's hash.
void checkIndex(const Entry& e, VerifyResult& res, std::string& buf) {
  const SegmentFiles& f = e.files;
  if (e.sealValid && f.hasIndex && !e.seal->indexSha256.empty()) {
    if (readFileInto(f.index, buf, 0)) {
      unsigned char h[32];
      SHA256(reinterpret_cast<const unsigned char*>(buf.data()), buf.size(), h);
      if (toHex(h, 32) != e.seal->indexSha256)
        addFinding(res, f.number, baseName(f.index), 0, 0, 0,
                   "index altered (hash differs from the seal)");
    }
  } else if (e.sealValid && !e.seal->indexSha256.empty() && !f.hasIndex) {
    res.notes.push_back("segment " + std::to_string(f.number) +
                        ": index missing (queries scan the segment)");
  }
}

}  // namespace lbg::telemetry::logfmt::verify
