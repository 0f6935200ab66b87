// Compiles every ET Open rule that loads (../shared/corpus/et-open/rules, read in place) into the
// engine: Hyperscan must take all fast patterns, PCRE2 nearly all pcres, and a few requests that
// ET rules describe must alert with the expected sids.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "dataplane/ids/engine.h"

namespace lbg::ids {
namespace {

std::shared_ptr<const RuleSet> loadEtOpen() {
  const std::filesystem::path dir = LBG_ET_OPEN_DIR;
  RuleSetBuilder builder;
  builder.addClassificationFile(dir / "classification.config");
  std::vector<std::filesystem::path> files;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".rules") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (auto& f : files) builder.addRuleFile(f);
  return std::move(builder).build();
}

TEST(EtOpenEngine, CompilesAndMatches) {
  ASSERT_TRUE(std::filesystem::is_directory(LBG_ET_OPEN_DIR)) << "the shared corpus is missing";
  auto set = loadEtOpen();
  auto engine = Engine::create(set);
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  const Engine& e = *engine.value();
  const size_t total = set->report().total();
  std::cout << "engine: " << e.ruleCount() << " of " << total << " rules ("
            << 100.0 * double(e.ruleCount()) / double(total) << "%), "
            << e.report().rejections.size() << " pcre rejected by PCRE2\n";
  EXPECT_GE(double(e.ruleCount()), 0.9 * double(total));
  EXPECT_LT(e.report().rejections.size(), set->rules().size() / 100);

  auto scratch = e.makeScratch();
  FlowIdsState state;
  state.tuple.client = *IpAddr::parse("192.168.1.10");
  state.tuple.server = *IpAddr::parse("198.51.100.7");
  state.tuple.clientPort = 50000;
  state.tuple.serverPort = 53;
  state.tuple.ipProto = 17;
  state.tuple.app = AppProto::Dns;
  state.tuple.established = true;
  // A DNS lookup of a domain an ET rule names (dns.query; dotprefix; content; endswith).
  auto it = std::find_if(set->rules().begin(), set->rules().end(), [](const Rule& r) {
    return r.buffers.size() == 1 && r.buffers[0].buffer == Buffer::DnsQuery &&
           r.buffers[0].dotPrefix && r.buffers[0].items.size() == 1 && !r.flowbits.size() &&
           !r.dsize && std::get_if<Content>(&r.buffers[0].items[0]) &&
           std::get<Content>(r.buffers[0].items[0]).endsWith;
  });
  ASSERT_NE(it, set->rules().end());
  std::string name = "host" + std::get<Content>(it->buffers[0].items[0]).bytes;
  BufferSet q;
  q.set(Buffer::DnsQuery, name);
  ScanResult r = e.scanBuffers(state, kToServer, q, *scratch);
  EXPECT_NE(r.action, Verdict::None) << name;
  EXPECT_NE(std::find(r.sids.begin(), r.sids.begin() + r.sidCount, it->sid),
            r.sids.begin() + r.sidCount)
      << name << " should hit sid " << it->sid;
  // An ordinary lookup alerts on nothing.
  q.set(Buffer::DnsQuery, "www.example.org");
  EXPECT_EQ(e.scanBuffers(state, kToServer, q, *scratch).action, Verdict::None);
}

}  // namespace
}  // namespace lbg::ids
