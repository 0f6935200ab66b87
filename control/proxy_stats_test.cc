#include "control/proxy_stats.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace lbg::control {
namespace {

std::string file(int pid, const std::string& counters) {
  return R"({"format":"lbg-counters-1","writer":"lbg-proxy","pid":)" + std::to_string(pid) +
         R"(,"counters":[)" + counters + "]}";
}

const std::string kTwo =
    R"({"name":"proxy_accepted","help":"client connections accepted","value":7},)"
    R"({"name":"proxy_intercepted","help":"intercepted","value":3})";

TEST(ProxyStatsTest, ParsesCountersIntoTheProxySection) {
  auto r = parseProxyCounters(file(42, kTwo));
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->pid, 42);
  ASSERT_EQ(r->counters.size(), 2u);
  EXPECT_EQ(r->counters[0].name, "proxy_accepted");
  EXPECT_EQ(r->counters[0].value, 7u);
  EXPECT_EQ(r->counters[0].help, "client connections accepted");
  EXPECT_FALSE(r->counters[0].gauge);
  EXPECT_EQ(r->counters[1].section, "proxy");
  EXPECT_EQ(r->counters[1].sectionTitle, kProxySectionTitle);
}

// The file comes from a less privileged process: whatever it says must stay a proxy_ counter
// with a plain name and help, or the whole file is ignored.
TEST(ProxyStatsTest, RejectsHostileOrBrokenFiles) {
  const char* bad[] = {
      "",
      "[]",
      "{\"format\":\"other\",\"pid\":1,\"counters\":[]}",
      R"({"format":1,"counters":[]})",  // found by proxy_stats_fuzz: json::value() threw
      R"({"format":"lbg-counters-1","counters":[]})",
      R"({"format":"lbg-counters-1","pid":0,"counters":[]})",
      R"({"format":"lbg-counters-1","pid":-1,"counters":[]})",
      R"({"format":"lbg-counters-1","pid":1,"counters":{}})",
  };
  for (const char* t : bad) EXPECT_FALSE(parseProxyCounters(t).ok()) << t;
  for (const std::string c : {
           R"({"name":"rx_packets","help":"not the proxy's","value":1})",
           R"({"name":"proxy_a b","help":"space","value":1})",
           R"({"name":"proxy_x\nlbg_fake 1","help":"newline","value":1})",
           R"({"name":"proxy_x","help":"line\nbreak","value":1})",
           R"({"name":"proxy_x","help":"","value":1})",
           R"({"name":"proxy_x","help":"h","value":-1})",
           R"({"name":"proxy_x","help":"h","value":"1"})",
           R"({"name":"proxy_x","help":"h"})",
           R"({"name":"proxy_x","help":"h","value":1},{"name":"proxy_x","help":"h","value":2})",
           R"(1)",
       }) {
    EXPECT_FALSE(parseProxyCounters(file(1, c)).ok()) << c;
  }
  std::string many;
  for (int i = 0; i < 257; ++i) {
    many += (i ? "," : "") + std::string(R"({"name":"proxy_c)") + std::to_string(i) +
            R"(","help":"h","value":1})";
  }
  EXPECT_FALSE(parseProxyCounters(file(1, many)).ok());
  EXPECT_FALSE(parseProxyCounters(std::string(65 * 1024, ' ')).ok());
}

class ProxyStatsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lbg-proxy-stats-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  uint64_t running(const std::vector<dataplane::ControlApi::Counter>& v) {
    EXPECT_FALSE(v.empty());
    EXPECT_EQ(v.back().name, "proxy_running");
    EXPECT_TRUE(v.back().gauge);
    EXPECT_EQ(v.back().section, "proxy");
    return v.back().value;
  }
  std::string dir_;
};

TEST_F(ProxyStatsFileTest, RunningFollowsTheWritersPid) {
  const std::string path = dir_ + "/counters.json";
  // No file yet (lbg-proxy never started): only the gauge, at 0.
  auto none = readProxyCounters(path);
  EXPECT_EQ(none.size(), 1u);
  EXPECT_EQ(running(none), 0u);
  // Written by a live process (this one).
  std::ofstream(path) << file(int(::getpid()), kTwo);
  auto live = readProxyCounters(path);
  ASSERT_EQ(live.size(), 3u);
  EXPECT_EQ(live[1].value, 3u);
  EXPECT_EQ(running(live), 1u);
  // Written by a process that has exited: the last counters stay, running is 0.
  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  std::ofstream(path) << file(int(child), kTwo);
  auto dead = readProxyCounters(path);
  EXPECT_EQ(dead.size(), 3u);
  EXPECT_EQ(running(dead), 0u);
  // What the proxy's user could put there instead of a file: a link (to a file root may read)
  // is not followed, a FIFO is not waited on.
  std::filesystem::remove(path);
  std::ofstream(dir_ + "/elsewhere.json") << file(int(::getpid()), kTwo);
  std::filesystem::create_symlink(dir_ + "/elsewhere.json", path);
  EXPECT_EQ(readProxyCounters(path).size(), 1u);
  std::filesystem::remove(path);
  ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);
  EXPECT_EQ(readProxyCounters(path).size(), 1u);
  std::filesystem::remove(path);
  // A broken file: no counters rather than invented ones.
  std::ofstream(path) << "{\"format\":";
  auto broken = readProxyCounters(path);
  EXPECT_EQ(broken.size(), 1u);
  EXPECT_EQ(running(broken), 0u);
}

}  // namespace
}  // namespace lbg::control
