// Key/value settings handed to constructors (llmkit_options in the C API).
// Consumers read typed values and reject keys they do not know, so a typo
// in a key is an error rather than a silently ignored setting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string_view>

#include "core/alloc.h"

namespace llmkit {

class Options {
 public:
  // Each declared for version_: a copy, a move and what a move leaves
  // behind each get a version of their own.
  Options() noexcept;
  Options(const Options& other);
  Options& operator=(const Options& other);
  Options(Options&& other) noexcept;
  Options& operator=(Options&& other) noexcept;

  void set(std::string_view key, std::string_view value);
  // Returns false when the key was not set.
  bool unset(std::string_view key);
  // The stored value, owned by this object until the key changes.
  const String* find(std::string_view key) const;
  std::size_t size() const noexcept { return values_.size(); }

  // Typed readers: nullopt when unset; INVALID_ARGUMENT naming the key when
  // the value does not parse.
  std::optional<std::int64_t> get_int(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;
  // A number in [min, max], `fallback` when unset; INVALID_ARGUMENT naming
  // the key and the range otherwise.
  double get_double(std::string_view key, double fallback, double min, double max) const;
  // The integer at `key`, `fallback` when unset; INVALID_ARGUMENT naming
  // the range when it is outside [min, max].
  std::int64_t get_int(std::string_view key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) const;
  // The value at `key`, `fallback` when unset.
  std::string_view get_string(std::string_view key, std::string_view fallback) const;

  // Whether any key starts with `prefix`: one lookup, where asking for each
  // key under it is one each.
  bool any_under(std::string_view prefix) const;
  // Calls fn(rest, value) for each key that starts with `prefix`, in key order.
  void for_each(std::string_view prefix,
                const std::function<void(std::string_view, std::string_view)>& fn) const;

  // INVALID_ARGUMENT when any key is not in `known`, naming the key and
  // `consumer`; a known entry ending in '.' admits every key under it.
  // A thread's last passing check is remembered: call options are checked
  // on every call, mostly the same object against the same list.
  void require_known(std::span<const std::string_view> known, std::string_view consumer) const;
  // Whether `key` is in `known`, as require_known() reads it.
  static bool is_known(std::span<const std::string_view> known, std::string_view key);

  // Throws INVALID_ARGUMENT unless `key` is lower-case ASCII letters and
  // digits joined by '.', '_' or '-', 1..128 bytes.
  static void validate_key(std::string_view key);

 private:
  using Map = std::map<String, String, std::less<>, Allocator<std::pair<const String, String>>>;
  Map values_;
  // Unique to these keys and values among all Options of the process: set
  // anew by every change, so a remembered check cannot outlive them.
  std::uint64_t version_;
};

}  // namespace llmkit
