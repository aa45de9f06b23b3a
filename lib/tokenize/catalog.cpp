#include "tokenize/catalog.h"

#include <array>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/utf8.h"

// Symbols from the assembler file CMake generates (lib/tokenize/embedded_data.S.in),
// which .incbin's the files under data/ after checking their sha256.
// NOLINTNEXTLINE(bugprone-macro-parentheses): declares symbols, not an expression
#define LLMKIT_EMBEDDED(sym) extern "C" const char sym[], sym##_end[];
LLMKIT_EMBEDDED(llmkit_data_cl100k_base_tiktoken)
LLMKIT_EMBEDDED(llmkit_data_cl100k_base_json)
LLMKIT_EMBEDDED(llmkit_data_o200k_base_tiktoken)
LLMKIT_EMBEDDED(llmkit_data_o200k_base_json)
LLMKIT_EMBEDDED(llmkit_data_p50k_base_tiktoken)
LLMKIT_EMBEDDED(llmkit_data_p50k_base_json)
LLMKIT_EMBEDDED(llmkit_data_r50k_base_tiktoken)
LLMKIT_EMBEDDED(llmkit_data_r50k_base_json)
LLMKIT_EMBEDDED(llmkit_data_models_tsv)
#undef LLMKIT_EMBEDDED

namespace llmkit::tokenize {

namespace {

std::string_view embedded(const char* begin, const char* end) {
  return {begin, static_cast<std::size_t>(end - begin)};
}
#define LLMKIT_DATA(sym) embedded(sym, sym##_end)

const std::array<EncodingSpec, 4>& specs() {
  static const std::array<EncodingSpec, 4> s{{
      {"cl100k_base", Pattern::kCl100k, LLMKIT_DATA(llmkit_data_cl100k_base_tiktoken),
       LLMKIT_DATA(llmkit_data_cl100k_base_json)},
      {"o200k_base", Pattern::kO200k, LLMKIT_DATA(llmkit_data_o200k_base_tiktoken),
       LLMKIT_DATA(llmkit_data_o200k_base_json)},
      {"p50k_base", Pattern::kGpt2, LLMKIT_DATA(llmkit_data_p50k_base_tiktoken),
       LLMKIT_DATA(llmkit_data_p50k_base_json)},
      {"r50k_base", Pattern::kGpt2, LLMKIT_DATA(llmkit_data_r50k_base_tiktoken),
       LLMKIT_DATA(llmkit_data_r50k_base_json)},
  }};
  return s;
}

// Loaded once per process, on first use, and kept: handles and other
// threads may hold an encoding at exit, so none is ever destroyed.
struct Loaded {
  std::once_flag once;
  const Encoding* encoding = nullptr;
};
std::array<Loaded, 4> g_loaded;

constexpr std::array<std::string_view, 4> kNames = {"cl100k_base", "o200k_base", "p50k_base",
                                                    "r50k_base"};

// data/models.tsv: "exact|prefix <TAB> name <TAB> encoding" lines, '#' comments.
// Exact names in a hash map: every pipeline call with a tpm or caller limit
// looks its model up (a scan of the file's lines was 1.4k instructions a
// call, callgrind over make bench's pipeline/full).
struct ModelRules {
  std::unordered_map<std::string_view, std::string_view> exact;  // name -> encoding
  std::vector<std::pair<std::string_view, std::string_view>> prefixes;
};

const ModelRules& model_rules() {
  static const ModelRules rules = [] {
    ModelRules out;
    const std::string_view tsv = LLMKIT_DATA(llmkit_data_models_tsv);
    std::size_t start = 0;
    while (start < tsv.size()) {
      std::size_t end = tsv.find('\n', start);
      if (end == std::string_view::npos) end = tsv.size();
      std::string_view line = tsv.substr(start, end - start);
      start = end + 1;
      if (line.empty() || line.front() == '#') continue;
      const std::size_t t1 = line.find('\t');
      const std::size_t t2 = line.find('\t', t1 + 1);
      if (t1 == std::string_view::npos || t2 == std::string_view::npos) {
        fail(LLMKIT_INTERNAL, "embedded models.tsv has a malformed line");
      }
      const std::string_view name = line.substr(t1 + 1, t2 - t1 - 1);
      const std::string_view encoding = line.substr(t2 + 1);
      if (line.substr(0, t1) == "prefix") {
        out.prefixes.emplace_back(name, encoding);
      } else {
        out.exact.emplace(name, encoding);  // the first line of a name wins
      }
    }
    return out;
  }();
  return rules;
}

}  // namespace

std::span<const std::string_view> encoding_names() {
  return kNames;
}

const Encoding& encoding(std::string_view name) {
  for (std::size_t i = 0; i < specs().size(); ++i) {
    if (specs()[i].name != name) continue;
    Loaded& l = g_loaded[i];
    std::call_once(l.once, [&] { l.encoding = create<Encoding>(specs()[i]); });
    return *l.encoding;
  }
  std::string known;
  for (const std::string_view n : kNames) known += (known.empty() ? "" : ", ") + std::string(n);
  fail(LLMKIT_NOT_FOUND, "unknown encoding " + utf8::quote(name) + " (known: " + known + ")");
}

std::string_view encoding_for_model(std::string_view model) {
  if (const std::optional<std::string_view> name = find_encoding_for_model(model)) return *name;
  fail(LLMKIT_NOT_FOUND, "no OpenAI tokenizer is known for model " + utf8::quote(model) +
                             "; for other providers' models use llmkit_estimate_tokens()");
}

std::optional<std::string_view> find_encoding_for_model(std::string_view model) {
  const ModelRules& rules = model_rules();
  std::string_view encoding;
  if (const auto it = rules.exact.find(model); it != rules.exact.end()) {
    encoding = it->second;
  } else {
    // tiktoken takes the first matching prefix in its order; for its
    // prefixes that is also the longest, which does not depend on order.
    std::size_t longest = 0;
    for (const auto& [prefix, enc] : rules.prefixes) {
      if (prefix.size() > longest && model.starts_with(prefix)) {
        longest = prefix.size();
        encoding = enc;
      }
    }
    if (longest == 0) return std::nullopt;
  }
  // The catalog's own name: NUL-terminated for the C API, and a check that
  // models.tsv names an embedded encoding.
  for (const std::string_view name : kNames) {
    if (name == encoding) return name;
  }
  fail(LLMKIT_INTERNAL,
       "models.tsv maps " + utf8::quote(model) + " to unknown encoding " + utf8::quote(encoding));
}

}  // namespace llmkit::tokenize
