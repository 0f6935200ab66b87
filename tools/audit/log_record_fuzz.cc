// libFuzzer target: lbg-audit's parsers of untrusted log files on arbitrary bytes — the record
// chain walk (scanSegment), chain fields, the JSON record fields, seals, checkpoints and indexes. None may
// crash, hang or read out of bounds, whatever the bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "dataplane/telemetry/log/chain.h"
#include "dataplane/telemetry/log/checkpoint.h"
#include "dataplane/telemetry/log/record_fields.h"
#include "dataplane/telemetry/log/seal.h"
#include "dataplane/telemetry/log/segment_index.h"
#include "dataplane/telemetry/log/segment_scan.h"

using namespace lbg::telemetry::logfmt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string buf(reinterpret_cast<const char*>(data), size);
  std::string_view all(buf);

  // As a segment: the chain walk, with and without a seal's last hash.
  Hash start = genesisHash("fuzz");
  ScanResult r = scanSegment(all, start, 1, std::nullopt, true);
  if (r.issue && r.issue->offset > size) __builtin_trap();
  scanSegment(all, start, 1, hashLine(all), false);

  // Each line as a record.
  std::string padded = buf + std::string(64, '\0');
  RecordFields f;
  size_t pos = 0;
  while (pos <= size) {
    size_t nl = all.find('\n', pos);
    if (nl == std::string_view::npos) nl = size;
    std::string_view line = std::string_view(padded).substr(pos, nl - pos);
    parseChainFields(line);
    parseRecordFields(line, padded.size() - pos, f);
    pos = nl + 1;
  }

  // As a seal, a checkpoint and an index.
  auto key = SigningKey::fromSeed(std::string(32, 'f'));
  if (auto seal = Seal::parse(all)) seal->verify(key->publicKey());
  if (auto cp = Checkpoint::parse(all)) cp->verify(key->publicKey());
  if (auto ix = SegmentIndex::parse(all)) {
    ix->mayContain(TermKind::Src, "10.0.0.1");
    ix->serialize();
  }
  return 0;
}
