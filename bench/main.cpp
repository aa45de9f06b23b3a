// Runs every benchmark, then prints each "<name>" against its baseline
// "<name>/baseline" as a ratio measured in the same run: the machines are
// shared and noisy, so only same-run ratios are reported.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>

namespace {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    // With repetitions the median stands for the benchmark: one slow
    // repetition on a shared machine then moves no ratio.
    for (const auto& r : runs) {
      if (r.run_type == Run::RT_Iteration && medians_.count(r.run_name.str()) == 0) {
        ns_[r.benchmark_name()] = r.GetAdjustedRealTime();
      } else if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median") {
        medians_.insert(r.run_name.str());
        ns_[r.run_name.str()] = r.GetAdjustedRealTime();
      }
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\n%-48s %12s %12s %8s\n", "benchmark", "ns", "baseline ns", "ratio");
    for (const auto& [name, ns] : ns_) {
      if (name.find("/baseline") != std::string::npos) continue;
      // "x/real_time/threads:2" is compared with "x/baseline/real_time/threads:2",
      // or, when x has none, with that of its parent ("x/shm" with "x/baseline").
      const auto suffix_at =
          std::min({name.find("/repeats:"), name.find("/real_time"), name.find("/threads:")});
      const std::string suffix = suffix_at == std::string::npos ? "" : name.substr(suffix_at);
      std::string prefix = name.substr(0, std::min(suffix_at, name.size()));
      auto base = ns_.end();
      while (base == ns_.end() && prefix.find('/') != std::string::npos) {
        base = ns_.find(prefix + "/baseline" + suffix);
        prefix.resize(prefix.rfind('/'));
      }
      if (base == ns_.end()) continue;
      std::printf("%-48s %12.1f %12.1f %7.2fx\n", name.c_str(), ns, base->second,
                  ns / base->second);
    }
  }

 private:
  std::map<std::string, double> ns_;
  std::set<std::string> medians_;  // names measured with repetitions
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
