#include "dataplane/ids/dns_tcp_queries.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lbg::ids {
namespace {

std::string framed(const std::string& msg) {
  return std::string{char(msg.size() >> 8), char(msg.size() & 0xff)} + msg;
}

// Feeds `segments` and returns the messages handed out, each as text.
std::vector<std::string> run(DnsTcpQueries& s, const std::vector<std::string>& segments) {
  std::vector<std::string> out;
  for (const std::string& seg : segments) {
    std::span<const uint8_t> in(reinterpret_cast<const uint8_t*>(seg.data()), seg.size());
    while (!in.empty()) {
      const DnsTcpStep st = stepDnsTcp(s, in);
      EXPECT_GT(st.used, 0u);
      EXPECT_LE(st.used, in.size());
      in = in.subspan(st.used);
      if (!st.message.empty())
        out.emplace_back(reinterpret_cast<const char*>(st.message.data()), st.message.size());
    }
  }
  return out;
}

TEST(DnsTcpQueries, MessagesHowEverTheSegmentsCutThem) {
  const std::string a(40, 'a'), b(30, 'b');
  const std::string stream = framed(a) + framed(b);
  for (size_t cut = 1; cut < stream.size(); ++cut) {
    DnsTcpQueries s;
    EXPECT_EQ(run(s, {stream.substr(0, cut), stream.substr(cut)}), (std::vector<std::string>{a, b}))
        << cut;
  }
  DnsTcpQueries s;
  std::vector<std::string> bytes;
  for (char c : stream) bytes.emplace_back(1, c);
  EXPECT_EQ(run(s, bytes), (std::vector<std::string>{a, b}));
}

// A long message is handed out at its first kKeep bytes, before its last byte arrives.
TEST(DnsTcpQueries, LongMessageHandedOutBeforeItEnds) {
  const std::string msg(1000, 'q');
  const std::string stream = framed(msg);
  DnsTcpQueries s;
  const auto out = run(s, {stream.substr(0, 2 + DnsTcpQueries::kKeep)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], msg.substr(0, DnsTcpQueries::kKeep));
  EXPECT_TRUE(run(s, {stream.substr(2 + DnsTcpQueries::kKeep)}).empty());
  EXPECT_EQ(run(s, {framed("next")}), (std::vector<std::string>{"next"}));
}

TEST(DnsTcpQueries, EmptyMessagesAndLostStreams) {
  DnsTcpQueries s;
  EXPECT_EQ(run(s, {framed("") + framed("x")}), (std::vector<std::string>{"x"}));
  s.lost = true;
  EXPECT_TRUE(run(s, {framed("y")}).empty());
}

}  // namespace
}  // namespace lbg::ids
