// The default store: this client's own spend, lost when it goes.
#include <mutex>
#include <unordered_map>

#include "budget/store.h"
#include "trace/cost_query.h"

namespace llmkit::budget {

namespace {

class MemoryStore final : public Store {
 public:
  std::vector<double> spent(std::span<const Entry> keys) override {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<double> out;
    for (const Entry& e : keys) {
      const auto it = spend_.find(e.key);
      out.push_back(it == spend_.end() ? 0 : it->second.usd);
    }
    return out;
  }

  void add(std::span<const Entry> keys, double usd) override {
    std::lock_guard<std::mutex> lock(mutex_);
    // Past periods' keys are never read again: sweep them now and then.
    if (++adds_ % 1024 == 0) {
      const std::int64_t now = trace::wall_clock_us();
      std::erase_if(spend_, [&](const auto& kv) { return kv.second.expires_us < now; });
    }
    for (const Entry& e : keys) {
      Spend& s = spend_[e.key];
      s.usd += usd;
      s.expires_us = e.expires_us;
    }
  }

  std::string where() const override { return "memory"; }

 private:
  struct Spend {
    double usd = 0;
    std::int64_t expires_us = 0;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, Spend> spend_;
  std::uint64_t adds_ = 0;
};

}  // namespace

std::unique_ptr<Store> make_memory_store() {
  return std::make_unique<MemoryStore>();
}

}  // namespace llmkit::budget
