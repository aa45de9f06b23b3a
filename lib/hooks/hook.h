// One registered hook and its live counters.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>

#include "core/alloc.h"
#include "hooks/event.h"
#include "hooks/rule.h"

namespace llmkit::hooks {

// A hook's answer: OK, or a failure (counted; the call goes on). Throwing
// llmkit::Error or std::exception counts the same, with its message.
using HookFn = std::function<llmkit_status(Event&)>;

struct Hook {
  std::uint64_t id = 0;
  Kind kind = Kind::kBefore;
  String scope;  // "": global
  Rule rule;
  HookFn fn;
  bool async = false;

  // Relaxed: counters, read together only for stats.
  std::atomic<std::uint64_t> calls{0}, skipped{0}, errors{0}, rule_failures{0}, dropped{0}, slow{0};
  std::atomic<std::int64_t> total_us{0}, max_us{0};
  mutable std::mutex error_mutex;
  String last_error;  // guarded by error_mutex
};

}  // namespace llmkit::hooks
