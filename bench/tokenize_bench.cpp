// Token counting speed: encode and count, one thread and a batch on all
// cores, on the corpus files the JS comparison (bench/tokenize/compare.mjs)
// measures too. The batch baseline is the same chunks counted on one
// thread, so the printed ratio is the multi-core scaling.
#include <benchmark/benchmark.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tokenize/catalog.h"
#include "tokenize/count.h"

namespace {

using llmkit::tokenize::SpecialMode;
using llmkit::tokenize::TokenOut;

const std::string& corpus(const std::string& name) {
  static std::map<std::string, std::string> files;
  auto& text = files[name];
  if (text.empty()) {
    std::ifstream in(LLMKIT_FIXTURES_DIR "/tokenize/corpus/" + name + ".txt", std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    text = s.str();
  }
  return text;
}

void report(benchmark::State& state, std::size_t bytes, std::size_t tokens) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(state.iterations() * tokens),
                                                  benchmark::Counter::kIsRate);
}

void Encode(benchmark::State& state, const char* enc_name, const char* file) {
  const auto& enc = llmkit::tokenize::encoding(enc_name);
  const std::string& text = corpus(file);
  std::vector<std::uint32_t> ids(text.size());
  std::size_t n = 0;
  for (auto _ : state) {
    TokenOut out{ids.data(), ids.size(), 0};
    enc.encode(text, SpecialMode::kDisallow, out);
    n = out.n;
    benchmark::DoNotOptimize(ids.data());
  }
  report(state, text.size(), n);
}

void Count(benchmark::State& state, const char* enc_name, const char* file) {
  const auto& enc = llmkit::tokenize::encoding(enc_name);
  const std::string& text = corpus(file);
  std::size_t n = 0;
  for (auto _ : state) benchmark::DoNotOptimize(n = enc.count(text, SpecialMode::kDisallow));
  report(state, text.size(), n);
}

// The file cut into ~2 KB chunks at line ends: a batch of documents.
std::vector<std::string_view> chunks(const std::string& text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', std::min(text.size(), start + 2048));
    end = end == std::string::npos ? text.size() : end + 1;
    out.push_back(std::string_view(text).substr(start, end - start));
    start = end;
  }
  return out;
}

void Batch(benchmark::State& state, const char* enc_name, const char* file, bool parallel) {
  const auto& enc = llmkit::tokenize::encoding(enc_name);
  const std::string& text = corpus(file);
  const auto docs = chunks(text);
  std::vector<std::size_t> counts(docs.size());
  for (auto _ : state) {
    if (parallel) {
      llmkit::tokenize::count_batch(enc, docs, SpecialMode::kDisallow, counts);
    } else {
      for (std::size_t i = 0; i < docs.size(); ++i) {
        counts[i] = enc.count(docs[i], SpecialMode::kDisallow);
      }
    }
    benchmark::DoNotOptimize(counts.data());
  }
  std::size_t n = 0;
  for (const std::size_t c : counts) n += c;
  report(state, text.size(), n);
}

}  // namespace

#define LLMKIT_TOKENIZE_BENCH(enc, file)                                                         \
  BENCHMARK_CAPTURE(Encode, enc##_##file, #enc, #file)->Name("tokenize/encode/" #enc "/" #file); \
  BENCHMARK_CAPTURE(Count, enc##_##file, #enc, #file)->Name("tokenize/count/" #enc "/" #file);   \
  BENCHMARK_CAPTURE(Batch, enc##_##file, #enc, #file, true)                                      \
      ->Name("tokenize/batch/" #enc "/" #file)                                                   \
      ->UseRealTime();                                                                           \
  BENCHMARK_CAPTURE(Batch, enc##_##file##_base, #enc, #file, false)                              \
      ->Name("tokenize/batch/" #enc "/" #file "/baseline")                                       \
      ->UseRealTime();

LLMKIT_TOKENIZE_BENCH(cl100k_base, english)
LLMKIT_TOKENIZE_BENCH(cl100k_base, code_python)
LLMKIT_TOKENIZE_BENCH(cl100k_base, chinese)
LLMKIT_TOKENIZE_BENCH(o200k_base, english)
LLMKIT_TOKENIZE_BENCH(o200k_base, code_python)
LLMKIT_TOKENIZE_BENCH(o200k_base, chinese)
