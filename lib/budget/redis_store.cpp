// Spend in Redis: one key per budget and period, added to with
// INCRBYFLOAT and expiring an hour after its period (room for hosts whose
// clocks disagree a little). The keys of one call are read in one MGET and
// added in one script, so they must live in one slot: Redis Cluster is not
// supported.
#include <cstdio>
#include <cstdlib>

#include "budget/store.h"
#include "core/error.h"
#include "redis/client.h"

namespace llmkit::budget {

namespace {

constexpr std::int64_t kGraceMs = 3'600'000;

constexpr const char* kAdd = R"(
for i, key in ipairs(KEYS) do
  redis.call('INCRBYFLOAT', key, ARGV[1])
  redis.call('PEXPIREAT', key, ARGV[i + 1])
end
return 1)";

class RedisStore final : public Store {
 public:
  RedisStore(redis::Endpoint endpoint, std::int64_t timeout_ms)
      : where_("Redis at " + endpoint.where()),
        client_(std::move(endpoint), std::chrono::milliseconds(timeout_ms)) {}

  std::vector<double> spent(std::span<const Entry> keys) override {
    std::vector<std::string_view> argv = {"MGET"};
    for (const Entry& e : keys) argv.emplace_back(e.key);
    const redis::Reply r = checked(client_.run(argv));
    if (r.elements.size() != keys.size()) {
      fail(LLMKIT_UNAVAILABLE, where_ + ": MGET answered " + std::to_string(r.elements.size()) +
                                   " values for " + std::to_string(keys.size()) + " keys");
    }
    std::vector<double> out;
    for (const redis::Reply& v : r.elements) {
      out.push_back(v.type == redis::Reply::Type::kString ? std::strtod(v.str.c_str(), nullptr)
                                                          : 0);
    }
    return out;
  }

  void add(std::span<const Entry> keys, double usd) override {
    std::vector<std::string_view> names;
    // Every digit: a cheap call's cost is a few micro-dollars.
    char exact[32];
    std::snprintf(exact, sizeof exact, "%.17g", usd);
    std::vector<std::string> args = {exact};
    for (const Entry& e : keys) {
      names.emplace_back(e.key);
      args.push_back(std::to_string(e.expires_us / 1000 + kGraceMs));
    }
    const std::vector<std::string_view> argv(args.begin(), args.end());
    checked(client_.eval(kAdd, names, argv));
  }

  std::string where() const override { return where_; }

 private:
  redis::Reply checked(redis::Reply r) const {
    if (r.is_error()) fail(LLMKIT_UNAVAILABLE, where_ + ": " + std::string(r.str));
    return r;
  }

  std::string where_;
  redis::Client client_;
};

}  // namespace

std::unique_ptr<Store> make_redis_store(std::string_view url, std::int64_t timeout_ms) {
  return std::make_unique<RedisStore>(redis::Endpoint::parse(url), timeout_ms);
}

}  // namespace llmkit::budget
