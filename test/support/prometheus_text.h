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
#include <sstream>
#include <string>

namespace llmkit::test {

class PrometheusText {
 public:
  explicit PrometheusText(const std::string& text) {
    std::istringstream in(text);
    std::string line, family, type;
    while (std::getline(in, line)) {
      if (line.rfind("# HELP ", 0) == 0) {
        const std::size_t end = metric_name_end(line, 7);
        ADD_FAILURE_IF(end == 7 || end + 1 >= line.size() || line[end] != ' ',
                       "a malformed # HELP line: " + line);
        continue;
      }
      if (line.rfind("# TYPE ", 0) == 0) {
        const std::size_t end = metric_name_end(line, 7);
        family = line.substr(7, end - 7);
        type = end < line.size() ? line.substr(end + 1) : "";
        ADD_FAILURE_IF(family.empty() || end >= line.size() || line[end] != ' ' ||
                           (type != "counter" && type != "gauge" && type != "histogram"),
                       "a malformed # TYPE line: " + line);
        ADD_FAILURE_IF(types_.count(family) != 0, "family " + family + " typed twice");
        types_[family] = type;
        if (type == "counter") {
          ADD_FAILURE_IF(family.size() < 6 || family.substr(family.size() - 6) != "_total",
                         "counter " + family + " does not end in _total");
        }
        continue;
      }
      std::string name, labels, v;
      if (!split_sample(line, name, labels, v)) {
        ADD_FAILURE() << "not a Prometheus sample line: " << line;
        continue;
      }
      const bool of_family =
          name == family ||
          (type == "histogram" &&
           (name == family + "_bucket" || name == family + "_sum" || name == family + "_count"));
      ADD_FAILURE_IF(!of_family, "sample " + name + " outside its family (" + family + ")");
      const std::string key = name + labels;
      ADD_FAILURE_IF(values_.count(key) != 0, "sample " + key + " twice");
      values_[key] = v == "+Inf" ? HUGE_VAL : std::strtod(v.c_str(), nullptr);
      if (name == family + "_bucket") check_bucket(family, labels, values_[key]);
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
  static bool name_char(char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
  }
  // Where the metric name starting at `at` ends.
  static std::size_t metric_name_end(const std::string& line, std::size_t at) {
    std::size_t i = at;
    while (i < line.size() && name_char(line[i], i == at)) ++i;
    return i;
  }
  // name{label="value",...} value: false unless the line is exactly that.
  static bool split_sample(const std::string& line, std::string& name, std::string& labels,
                           std::string& value) {
    std::size_t i = metric_name_end(line, 0);
    if (i == 0) return false;
    name = line.substr(0, i);
    const std::size_t labels_at = i;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const std::size_t key_at = i;
        while (i < line.size() && name_char(line[i], i == key_at) && line[i] != ':') ++i;
        if (i == key_at || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
          return false;
        }
        for (i += 2; i < line.size() && line[i] != '"'; ++i) {
          if (line[i] == '\\') ++i;  // an escape: the next character is taken as it is
        }
        if (i >= line.size()) return false;
        ++i;  // the closing quote
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) return false;
      ++i;  // the closing brace
    }
    labels = line.substr(labels_at, i - labels_at);
    if (i >= line.size() || line[i] != ' ') return false;
    value = line.substr(i + 1);
    return !value.empty() && value.find_first_of(" \t") == std::string::npos;
  }

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
