#include "dataplane/inspect/stream_lead.h"

#include <gtest/gtest.h>

#include <vector>

namespace lbg::inspect {
namespace {

StreamLead lead(const std::vector<uint8_t>& b) {
  return skipStreamLead({b.data(), b.size()});
}

TEST(StreamLead, EmptyLinesBeforeARequest) {
  const std::vector<uint8_t> s = {'\r', '\n', '\n', 'G', 'E', 'T'};
  EXPECT_EQ(lead(s).status, Status::Done);
  EXPECT_EQ(lead(s).offset, 3u);
  EXPECT_EQ(lead(s).kind, StreamLeadKind::EmptyLines);
  EXPECT_EQ(lead({'\r', '\n'}).status, Status::NeedMore);
  EXPECT_EQ(lead({'G'}).offset, 0u);
  EXPECT_EQ(lead({0x16, 3, 1}).kind, StreamLeadKind::None);
}

TEST(StreamLead, AlertAndChangeCipherSpecBeforeTheHello) {
  const std::vector<uint8_t> s = {0x15, 3, 1, 0, 2, 1, 0, 0x14, 3, 3, 0, 1, 1, 0x16, 3, 1};
  EXPECT_EQ(lead(s).status, Status::Done);
  EXPECT_EQ(lead(s).offset, 13u);
  for (size_t cut = 1; cut < 13; ++cut) {
    const auto l = lead(std::vector<uint8_t>(s.begin(), s.begin() + cut));
    EXPECT_EQ(l.status, Status::NeedMore) << cut;
  }
}

TEST(StreamLead, AnythingElseIsInvalid) {
  EXPECT_EQ(lead({0x15, 3, 1, 0, 3, 1, 0, 0}).status, Status::Invalid);  // alert of 3 bytes
  EXPECT_EQ(lead({0x14, 3, 3, 0, 1, 2}).status, Status::Invalid);        // CCS not 0x01
  EXPECT_EQ(lead({0x15, 2, 0, 0, 2, 1, 0}).status, Status::Invalid);     // SSL 2 version
  EXPECT_EQ(lead({0x15, 3, 1, 0, 2, 1, 0, 0x17}).status, Status::Invalid);  // then app data
  std::vector<uint8_t> many;
  for (int i = 0; i < kMaxLeadRecords + 1; ++i) many.insert(many.end(), {0x14, 3, 3, 0, 1, 1});
  many.push_back(0x16);
  EXPECT_EQ(lead(many).status, Status::Invalid);
}

}  // namespace
}  // namespace lbg::inspect
