#include "control/validation_cache.h"

#include <gtest/gtest.h>

namespace lbg::control {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

const sys_days kDay = sys_days{std::chrono::year{2026} / 11 / 23};

std::string policyText(const std::string& expires, const std::string& extra = "") {
  return "version: 1\nsegment:\n  inside: [10.0.0.0/8]\ndefaults: {deny: drop}\nservices:\n"
         "  - name: m365\n    kind: cloud\n    ismap: {id: C21-0008-2, expires: " +
         expires + "}\n    fqdn: [outlook.office365.com]\n    ports: [tcp/443]\n" + extra;
}

TEST(ValidationCache, HitServesSameDocumentWithoutParsing) {
  ValidationCache cache;
  const std::string text = policyText("2026-12-31");
  auto a = validateCached(cache, text, "a.yaml", kDay);
  ASSERT_TRUE(a) << a.error().toString();
  auto b = validateCached(cache, text, "b.yaml", kDay);
  ASSERT_TRUE(b);
  EXPECT_EQ(a->get(), b->get());  // the same object: no second parse
  // The canonical form is recorded too (it parses to the same document).
  auto c = validateCached(cache, (*a)->yaml, "c.yaml", kDay);
  ASSERT_TRUE(c);
  EXPECT_EQ(a->get(), c->get());
}

TEST(ValidationCache, ValidOnADayAnswersForEarlierDaysOnly) {
  ValidationCache cache;
  const std::string text = policyText("2026-11-30");
  auto a = validateCached(cache, text, "a.yaml", kDay);
  ASSERT_TRUE(a);
  // Earlier day (e.g. the epoch used for reading): the entry answers.
  auto epoch = validateCached(cache, text, "a.yaml", sys_days{});
  ASSERT_TRUE(epoch);
  EXPECT_EQ(a->get(), epoch->get());
  // A later day is validated again, and the registration has lapsed by then.
  auto later = validateCached(cache, text, "a.yaml", kDay + days(30));
  ASSERT_FALSE(later);
  EXPECT_NE(later.error().message.find("expired"), std::string::npos) << later.error().toString();
  EXPECT_EQ(later.error().file, "a.yaml");
}

TEST(ValidationCache, ErrorsAreNotCachedAndKeepTheCallersFileName) {
  ValidationCache cache;
  const std::string bad = policyText("2026-12-31", "  - name: x\n    kind: nope\n");
  auto a = validateCached(cache, bad, "first.yaml", kDay);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().file, "first.yaml");
  auto b = validateCached(cache, bad, "second.yaml", kDay);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().file, "second.yaml");
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ValidationCache, KeepsTheMostRecentlyUsed) {
  // Canonical texts (one entry each) of three different policies; room for two.
  ValidationCache cache(2);
  std::vector<std::string> texts;
  for (int i = 0; i < 3; ++i) {
    auto c = validateCandidate(
        policyText("2026-12-31", "  - name: s" + std::to_string(i) +
                                     "\n    kind: lgwan-asp\n    cidr: [192.0.2.0/24]\n    ports: [tcp/" +
                                     std::to_string(8000 + i) + "]\n"),
        "t", kDay);
    ASSERT_TRUE(c) << c.error().toString();
    texts.push_back(c->yaml);
  }
  auto first = validateCached(cache, texts[0], "t", kDay);
  auto second = validateCached(cache, texts[1], "t", kDay);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(validateCached(cache, texts[0], "t", kDay)->get(), first->get());  // touch 0
  ASSERT_TRUE(validateCached(cache, texts[2], "t", kDay));                     // evicts 1
  EXPECT_EQ(validateCached(cache, texts[0], "t", kDay)->get(), first->get());
  EXPECT_NE(validateCached(cache, texts[1], "t", kDay)->get(), second->get());
}

}  // namespace
}  // namespace lbg::control
