// A strict reader of Prometheus text exposition format 0.0.4, for tests:
// it fails on anything a scraper would refuse (a sample before its
// family's # TYPE, a malformed line, a counter not ending in _total,
// histogram buckets that shrink or whose +Inf differs from _count), and
// gives every sample's value by its exact name and labels.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <regex>
#include <sstream>
#include <string>

namespace llmkit::test {

class PrometheusText {
 public:
  explicit PrometheusText(const std::string& text) {
    static const std::regex kSample(
        R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (\S+)$)");
    static const std::regex kHelp(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$)");
    static const std::regex kType(
        R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$)");
    std::istringstream in(text);
    std::string line, family, type;
    std::smatch m;
    while (std::getline(in, line)) {
      if (std::regex_match(line, m, kHelp)) continue;
      if (std::regex_match(line, m, kType)) {
        family = m[1];
        type = m[2];
        ADD_FAILURE_IF(types_.count(family) != 0, "family " + family + " typed twice");
        types_[family] = type;
        if (type == "counter") {
          ADD_FAILURE_IF(family.size() < 6 || family.substr(family.size() - 6) != "_total",
                         "counter " + family + " does not end in _total");
        }
        continue;
      }
      if (!std::regex_match(line, m, kSample)) {
        ADD_FAILURE() << "not a Prometheus sample line: " << line;
        continue;
      }
      const std::string name = m[1];
      const bool of_family =
          name == family ||
          (type == "histogram" &&
           (name == family + "_bucket" || name == family + "_sum" || name == family + "_count"));
      ADD_FAILURE_IF(!of_family, "sample " + name + " outside its family (" + family + ")");
      const std::string key = name + m[2].str();
      ADD_FAILURE_IF(values_.count(key) != 0, "sample " + key + " twice");
      const std::string v = m[5];
      values_[key] = v == "+Inf" ? HUGE_VAL : std::strtod(v.c_str(), nullptr);
      if (name == family + "_bucket") check_bucket(family, m[2].str(), values_[key]);
    }
    for (const auto& [series, inf] : inf_) {
      const auto count = values_.find(series.first + "_count" + series.second);
      ADD_FAILURE_IF(count == values_.end() || count->second != inf,
                     "+Inf bucket differs from _count for " + series.first + series.second);
    }
  }

  // The value of the sample printed as `key` (name and labels, exactly);
  // -1 when there is none.
  double value(const std::string& key) const {
    const auto it = values_.find(key);
    return it == values_.end() ? -1 : it->second;
  }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  std::string type(const std::string& family) const {
    const auto it = types_.find(family);
    return it == types_.end() ? "" : it->second;
  }

 private:
  static void ADD_FAILURE_IF(bool bad, const std::string& why) {
    if (bad) ADD_FAILURE() << why;
  }
  // Buckets come in order of le: each at least the one before.
  void check_bucket(const std::string& family, const std::string& labels, double v) {
    const std::size_t le = labels.find(",le=\"");
    const std::string rest = le == std::string::npos ? labels : labels.substr(0, le) + "}";
    const auto key = std::make_pair(family, rest);
    ADD_FAILURE_IF(last_bucket_.count(key) != 0 && v < last_bucket_[key],
                   "bucket " + family + labels + " is below the one before");
    last_bucket_[key] = v;
    if (labels.find("le=\"+Inf\"") != std::string::npos) inf_[key] = v;
  }

  std::map<std::string, double> values_;
  std::map<std::string, std::string> types_;
  std::map<std::pair<std::string, std::string>, double> last_bucket_, inf_;
};

}  // namespace llmkit::test
