#include "options/options.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/utf8.h"

namespace llmkit {

namespace {

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_joiner(char c) {
  return c == '.' || c == '_' || c == '-';
}

std::uint64_t next_version() noexcept {
  static std::atomic<std::uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

// The last check this thread passed: Options::version_ and the list.
struct KnownCheck {
  std::uint64_t version = 0;
  const std::string_view* known = nullptr;
  std::size_t size = 0;
};
thread_local KnownCheck t_passed;

}  // namespace

Options::Options() noexcept : version_(next_version()) {}

Options::Options(const Options& other) : values_(other.values_), version_(next_version()) {}

Options& Options::operator=(const Options& other) {
  values_ = other.values_;
  version_ = next_version();
  return *this;
}

Options::Options(Options&& other) noexcept
    : values_(std::move(other.values_)), version_(next_version()) {
  other.version_ = next_version();
}

Options& Options::operator=(Options&& other) noexcept {
  values_ = std::move(other.values_);
  version_ = next_version();
  other.version_ = next_version();
  return *this;
}

void Options::validate_key(std::string_view key) {
  constexpr std::size_t kMaxKey = 128;
  bool ok = !key.empty() && key.size() <= kMaxKey && is_word_char(key.front()) &&
            is_word_char(key.back());
  for (std::size_t i = 0; ok && i < key.size(); ++i) {
    const char c = key[i];
    ok = is_word_char(c) || (is_joiner(c) && !is_joiner(key[i - 1]));
  }
  if (!ok) {
    fail(LLMKIT_INVALID_ARGUMENT,
         "invalid option key " + utf8::quote(key, 40) +
             ": use lower-case letters and digits joined by '.', '_' or '-' (at most 128 bytes)");
  }
}

void Options::set(std::string_view key, std::string_view value) {
  validate_key(key);
  utf8::require_valid(value, "value of option " + utf8::quote(key));
  auto it = values_.find(key);
  if (it != values_.end()) {
    it->second = make_string(value);
  } else {
    values_.emplace(make_string(key), make_string(value));
  }
  version_ = next_version();
}

bool Options::unset(std::string_view key) {
  auto it = values_.find(key);
  if (it == values_.end()) return false;
  values_.erase(it);
  version_ = next_version();
  return true;
}

const String* Options::find(std::string_view key) const {
  auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

std::optional<std::int64_t> Options::get_int(std::string_view key) const {
  const String* v = find(key);
  if (v == nullptr) return std::nullopt;
  std::int64_t out = 0;
  const char* end = v->data() + v->size();
  auto [ptr, ec] = std::from_chars(v->data(), end, out);
  if (ec != std::errc() || ptr != end || v->empty()) {
    fail(LLMKIT_INVALID_ARGUMENT, "option " + utf8::quote(key) + " must be an integer, got " +
                                      utf8::quote(std::string_view(v->data(), v->size())));
  }
  return out;
}

std::int64_t Options::get_int(std::string_view key, std::int64_t fallback, std::int64_t min,
                              std::int64_t max) const {
  const std::int64_t v = get_int(key).value_or(fallback);
  if (v < min || v > max) {
    fail(LLMKIT_INVALID_ARGUMENT, "option " + utf8::quote(key) + " must be " + std::to_string(min) +
                                      " to " + std::to_string(max) + ", got " + std::to_string(v));
  }
  return v;
}

double Options::get_double(std::string_view key, double fallback, double min, double max) const {
  const String* v = find(key);
  if (v == nullptr) return fallback;
  double out = 0;
  const char* end = v->data() + v->size();
  auto [ptr, ec] = std::from_chars(v->data(), end, out);
  if (ec != std::errc() || ptr != end || v->empty() || !(out >= min && out <= max)) {
    fail(LLMKIT_INVALID_ARGUMENT,
         "option " + utf8::quote(key) + " must be a number from " + std::to_string(min) + " to " +
             std::to_string(max) + ", got " + utf8::quote(std::string_view(v->data(), v->size())));
  }
  return out;
}

std::string_view Options::get_string(std::string_view key, std::string_view fallback) const {
  const String* v = find(key);
  return v == nullptr ? fallback : std::string_view(v->data(), v->size());
}

std::optional<bool> Options::get_bool(std::string_view key) const {
  const String* v = find(key);
  if (v == nullptr) return std::nullopt;
  const std::string_view s(v->data(), v->size());
  if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "0" || s == "no" || s == "off") return false;
  fail(LLMKIT_INVALID_ARGUMENT,
       "option " + utf8::quote(key) + " must be true or false, got " + utf8::quote(s));
}

bool Options::is_known(std::span<const std::string_view> known, std::string_view key) {
  // A known entry ending in '.' stands for every key under it.
  return std::any_of(known.begin(), known.end(), [key](std::string_view n) {
    return n == key ||
           (!n.empty() && n.back() == '.' && key.size() > n.size() && key.starts_with(n));
  });
}

void Options::require_known(std::span<const std::string_view> known,
                            std::string_view consumer) const {
  const KnownCheck check{version_, known.data(), known.size()};
  if (t_passed.version == check.version && t_passed.known == check.known &&
      t_passed.size == check.size) {
    return;
  }
  for (const auto& [key, value] : values_) {
    const std::string_view k(key.data(), key.size());
    if (!is_known(known, k)) {
      fail(LLMKIT_INVALID_ARGUMENT,
           "unknown option " + utf8::quote(k) + " for " + std::string(consumer));
    }
  }
  t_passed = check;
}

bool Options::any_under(std::string_view prefix) const {
  const auto it = values_.lower_bound(prefix);
  return it != values_.end() &&
         std::string_view(it->first.data(), it->first.size()).starts_with(prefix);
}

void Options::for_each(std::string_view prefix,
                       const std::function<void(std::string_view, std::string_view)>& fn) const {
  for (auto it = values_.lower_bound(prefix); it != values_.end(); ++it) {
    const std::string_view k(it->first.data(), it->first.size());
    if (!k.starts_with(prefix)) break;
    fn(k.substr(prefix.size()), std::string_view(it->second.data(), it->second.size()));
  }
}

}  // namespace llmkit
