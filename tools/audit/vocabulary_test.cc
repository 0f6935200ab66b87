#include "dataplane/telemetry/log/vocabulary.h"

#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "tools/audit/measures.h"
#include "tools/audit/report.h"

// The log's vocabulary (dataplane/telemetry/log/vocabulary.h) against the α′ catalogue and the
// report: a measure id that the catalogue does not know, a reason without its labels or whose
// measure has no report section fails here, not in an auditor's hands.
namespace lbg::audit {
namespace {

using telemetry::kEventTypes;
using telemetry::kMeasures;
using telemetry::kReasons;

// Ids of the catalogue's `measures` and `exceptions` (records of a policy commit cite an exception,
// e.g. AP-EX-ISMAP).
std::set<std::string> catalogueIds(const std::string& yamlText) {
  std::set<std::string> ids;
  YAML::Node root = YAML::Load(yamlText);
  for (const char* list : {"measures", "exceptions"})
    for (const auto& n : root[list]) ids.insert(n["id"].as<std::string>());
  return ids;
}

TEST(Vocabulary, EveryMeasureIdIsInTheSharedCatalogue) {
  // The file the build embeds (../shared/reference/alpha-prime-measures.yaml) and the embedded
  // copy.
  std::ifstream in(LBG_MEASURES_YAML);
  ASSERT_TRUE(in) << LBG_MEASURES_YAML;
  std::ostringstream text;
  text << in.rdbuf();
  for (const std::string& yaml : {text.str(), std::string(embeddedMeasuresYaml())}) {
    const auto ids = catalogueIds(yaml);
    ASSERT_FALSE(ids.empty());
    for (const auto& m : kMeasures) EXPECT_EQ(ids.count(std::string(m.name)), 1u) << m.name;
  }
  // Ids evidenced by records of the gateway (not exceptions) have a name to show in the report.
  auto cat = loadMeasures(LBG_MEASURES_YAML);
  ASSERT_TRUE(cat) << cat.error().toString();
  for (const auto& t : kEventTypes)
    EXPECT_NE(cat->find(measureIdText(t.measure)), nullptr) << t.name;
  for (const auto& r : kReasons) EXPECT_NE(cat->find(measureIdText(r.measure)), nullptr) << r.name;
}

TEST(Vocabulary, ReportSectionsAreMeasuresOfTheVocabulary) {
  for (const auto& id : reportMeasureIds())
    EXPECT_TRUE(std::any_of(std::begin(kMeasures), std::end(kMeasures), [&](const auto& m) {
      return m.name == id;
    })) << id;
}

TEST(Vocabulary, EveryReasonHasUniqueNameLabelsAndAReportedMeasure) {
  std::set<std::string_view> names;
  const auto& sections = reportMeasureIds();
  for (const auto& r : kReasons) {
    EXPECT_TRUE(names.insert(r.name).second) << "duplicate reason " << r.name;
    EXPECT_FALSE(r.ja.empty()) << r.name;
    EXPECT_FALSE(r.en.empty()) << r.name;
    EXPECT_NE(std::find(sections.begin(), sections.end(), measureIdText(r.measure)), sections.end())
        << r.name << ": its measure has no section in the report";
    // The logged form, with or without a detail, finds the row again.
    EXPECT_EQ(telemetry::findReason(r.name), &r);
    EXPECT_EQ(telemetry::findReason(std::string(r.name) + ":some-detail"), &r);
  }
  EXPECT_EQ(telemetry::findReason("no-such-reason"), nullptr);
}

TEST(Vocabulary, EventTypesAreUniqueAndFoundByName) {
  std::set<std::string_view> names;
  for (const auto& t : kEventTypes) {
    EXPECT_TRUE(names.insert(t.name).second) << t.name;
    EXPECT_EQ(telemetry::eventTypeFromString(t.name), t.type);
  }
  EXPECT_FALSE(telemetry::eventTypeFromString("flows"));
}

}  // namespace
}  // namespace lbg::audit
