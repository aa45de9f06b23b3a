#include "pipeline/cached_answer.h"

#include <bit>
#include <cstdint>
#include <cstring>

#include "core/utf8.h"

namespace llmkit::pipeline {
namespace {

using providers::Response;
using providers::Thinking;
using providers::ToolCall;

// The first bytes of a record, its format's version last: a record of
// another version is not read, so a cache shared through Redis by two
// versions of llmkit misses rather than misreads.
constexpr std::string_view kMagic{"llmkit-answer\x01", 14};

// Fixed-width little-endian numbers, each string its length then bytes,
// written into a record sized beforehand: appending field by field was
// most of storing an answer.
class Out {
 public:
  explicit Out(char* p) : p_(p) {}
  void u32(std::uint32_t v) { bytes(&v, sizeof v); }
  void i64(std::int64_t v) { bytes(&v, sizeof v); }
  void str(std::string_view v) {
    u32(static_cast<std::uint32_t>(v.size()));
    bytes(v.data(), v.size());
  }
  static constexpr std::size_t size(std::string_view v) { return 4 + v.size(); }

 private:
  void bytes(const void* p, std::size_t n) {
    static_assert(std::endian::native == std::endian::little, "records are little-endian");
    std::memcpy(p_, p, n);
    p_ += n;
  }
  char* p_;
};

// Reads what Out wrote; false once anything is missing or malformed.
class In {
 public:
  explicit In(std::string_view s) : s_(s) {}
  bool ok() const { return ok_; }
  bool at_end() const { return ok_ && s_.empty(); }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    bytes(&v, sizeof v);
    return v;
  }
  std::int64_t i64() {
    std::int64_t v = 0;
    bytes(&v, sizeof v);
    return v;
  }
  String str() {
    const std::uint32_t n = u32();
    if (!ok_ || n > s_.size() || utf8::first_invalid(s_.substr(0, n))) {
      ok_ = false;
      return {};
    }
    String v = make_string(s_.substr(0, n));
    s_.remove_prefix(n);
    return v;
  }
  // A count of items at least `min_bytes` each: no more than are left.
  std::uint32_t count(std::size_t min_bytes) {
    const std::uint32_t n = u32();
    if (n > s_.size() / min_bytes) ok_ = false;
    return ok_ ? n : 0;
  }

 private:
  void bytes(void* p, std::size_t n) {
    if (!ok_ || s_.size() < n) {
      ok_ = false;
      return;
    }
    std::memcpy(p, s_.data(), n);
    s_.remove_prefix(n);
  }
  std::string_view s_;
  bool ok_ = true;
};

constexpr std::size_t kString = 4;  // the least bytes a string takes: its length

}  // namespace

String encode_answer(const Response& r) {
  constexpr std::size_t kUsage = 5 * sizeof(std::int64_t);
  std::size_t size = kMagic.size() + 4 + kUsage + Out::size(r.model) + Out::size(r.id) +
                     Out::size(r.finish_raw) + Out::size(r.text) + Out::size(r.reasoning) + 4 + 4;
  for (const Thinking& t : r.thinking) size += 4 + Out::size(t.text) + Out::size(t.signature);
  for (const ToolCall& c : r.tool_calls) {
    size += Out::size(c.id) + Out::size(c.name) + Out::size(c.arguments) + Out::size(c.signature);
  }
  String s(size, '\0');
  std::memcpy(s.data(), kMagic.data(), kMagic.size());
  Out out(s.data() + kMagic.size());
  out.u32(static_cast<std::uint32_t>(r.finish));
  for (const std::int64_t n : {r.usage.input, r.usage.output, r.usage.cached_input,
                               r.usage.cache_write, r.usage.reasoning}) {
    out.i64(n);
  }
  out.str(r.model);
  out.str(r.id);
  out.str(r.finish_raw);
  out.str(r.text);
  out.str(r.reasoning);
  out.u32(static_cast<std::uint32_t>(r.thinking.size()));
  for (const Thinking& t : r.thinking) {
    out.u32(t.redacted ? 1 : 0);
    out.str(t.text);
    out.str(t.signature);
  }
  out.u32(static_cast<std::uint32_t>(r.tool_calls.size()));
  for (const ToolCall& c : r.tool_calls) {
    out.str(c.id);
    out.str(c.name);
    out.str(c.arguments);
    out.str(c.signature);
  }
  return s;
}

std::unique_ptr<Response> decode_answer(std::string_view record) {
  if (!record.starts_with(kMagic)) return nullptr;
  In in(record.substr(kMagic.size()));
  auto r = std::make_unique<Response>();
  const std::uint32_t finish = in.u32();
  if (finish > LLMKIT_FINISH_ERROR) return nullptr;
  r->finish = static_cast<llmkit_finish_reason>(finish);
  for (std::int64_t* n : {&r->usage.input, &r->usage.output, &r->usage.cached_input,
                          &r->usage.cache_write, &r->usage.reasoning}) {
    *n = in.i64();
  }
  r->model = in.str();
  r->id = in.str();
  r->finish_raw = in.str();
  r->text = in.str();
  r->reasoning = in.str();
  for (std::uint32_t i = 0, n = in.count(4 + 2 * kString); i < n && in.ok(); ++i) {
    Thinking t;
    const std::uint32_t redacted = in.u32();
    if (redacted > 1) return nullptr;
    t.redacted = redacted == 1;
    t.text = in.str();
    t.signature = in.str();
    r->thinking.push_back(std::move(t));
  }
  for (std::uint32_t i = 0, n = in.count(4 * kString); i < n && in.ok(); ++i) {
    ToolCall c;
    c.id = in.str();
    c.name = in.str();
    c.arguments = in.str();
    c.signature = in.str();
    r->tool_calls.push_back(std::move(c));
  }
  return in.at_end() ? std::move(r) : nullptr;
}

}  // namespace llmkit::pipeline
