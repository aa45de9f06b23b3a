// Where budgets keep their spend: this client's memory, Redis or
// PostgreSQL (the "budget.store" option). The shared stores add atomically,
// so every process using one sees one spend per key.
// Thread safety: every function, any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace llmkit::budget {

struct Entry {
  std::string key;
  std::int64_t expires_us = 0;  // µs since the epoch: the key may go after this
};

class Store {
 public:
  virtual ~Store() = default;
  // The spend under each key, in order (0 for a key never added to).
  // UNAVAILABLE when a shared store cannot be reached.
  virtual std::vector<double> spent(std::span<const Entry> keys) = 0;
  // Adds `usd` to each key, atomically per key. UNAVAILABLE as above.
  virtual void add(std::span<const Entry> keys, double usd) = 0;
  // For messages: "memory", "Redis at host:port", "PostgreSQL at host:port/db".
  virtual std::string where() const = 0;
};

std::unique_ptr<Store> make_memory_store();
std::unique_ptr<Store> make_redis_store(std::string_view url, std::int64_t timeout_ms);
std::unique_ptr<Store> make_pg_store(std::string_view url);

// "memory", "redis://..." (or "unix://..."), "postgresql://...":
// INVALID_ARGUMENT for anything else.
std::unique_ptr<Store> make_store(std::string_view spec, std::int64_t timeout_ms);

}  // namespace llmkit::budget
