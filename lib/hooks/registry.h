// The hooks of a process part (a llmkit_hooks handle): registered with a
// kind, a scope and a rule, run in registration order for the calls of the
// clients in their scope, their failures counted and never passed on.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "core/alloc.h"
#include "hooks/event.h"
#include "hooks/hook.h"
#include "hooks/rule.h"
#include "hooks/worker.h"

namespace llmkit::hooks {

// Scope and predicate names: one word of letters, digits, '_', '-' or '.'.
bool is_name(std::string_view name);

struct Settings {
  std::size_t queue_capacity = 10'000;  // async hooks' pending events
  bool block_when_full = false;         // else a full queue drops the event
  std::int64_t slow_us = 100'000;       // a hook run longer is counted slow
};

// A copy of one hook's counters.
struct Stats {
  std::uint64_t id = 0;
  Kind kind = Kind::kBefore;
  String scope;
  String rule;
  bool async = false;
  std::uint64_t calls = 0;          // runs (the rule matched)
  std::uint64_t skipped = 0;        // the rule did not match
  std::uint64_t errors = 0;         // the hook failed
  std::uint64_t rule_failures = 0;  // the rule's predicate failed: not run
  std::uint64_t dropped = 0;        // async: the queue was full
  std::uint64_t slow = 0;           // runs longer than Settings::slow_us
  std::int64_t total_us = 0;
  std::int64_t max_us = 0;
  String last_error;
};

class Registry {
  using List = std::vector<std::shared_ptr<Hook>>;

 public:
  // The hooks as they were when it was taken, to run for one call: every
  // round of the call sees the same hooks, however many are added or
  // removed meanwhile, and the call takes the registry's lock once.
  class View {
   public:
    View() = default;  // no hooks
    // As Registry::run and Registry::any.
    void run(Event& event, std::span<const String> scopes) const noexcept;
    bool any(Kind kind, std::span<const String> scopes) const noexcept;

   private:
    friend class Registry;
    View(Registry* registry, std::shared_ptr<const List> hooks)
        : registry_(registry), hooks_(std::move(hooks)) {}
    Registry* registry_ = nullptr;
    std::shared_ptr<const List> hooks_;
  };

  explicit Registry(const Settings& settings = {});
  // Runs every queued async event first: none is lost.
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers a predicate for rules' pred:NAME. INVALID_ARGUMENT when the
  // name is taken or not a plain word. Predicates live as long as the registry.
  void add_predicate(std::string_view name, Predicate predicate);

  // Compiles `rule` and adds the hook after every other; returns its id
  // (never 0). `scope` "" is global: it runs for every client. Thread
  // safety: any thread, also while calls run (they see the hooks as they
  // were when they began).
  std::uint64_t add(Kind kind, std::string_view scope, std::string_view rule, HookFn fn,
                    bool async);
  // NOT_FOUND for an unknown id. Queued async events of the hook still run.
  void remove(std::uint64_t id);

  // Runs the hooks of event.kind for a client in `scopes`, in registration
  // order. A before hook that sets event.answer or event.rejected ends the
  // round: later before hooks do not run. Never throws.
  void run(Event& event, std::span<const String> scopes) noexcept;

  // True when some hook of `kind` could run for a client in `scopes`: the
  // caller skips building an event when none can.
  bool any(Kind kind, std::span<const String> scopes) const noexcept;

  // The hooks as they are now. The registry must outlive the view.
  View view() { return View(this, hooks()); }

  // Waits until every async event queued so far has run.
  void flush();

  std::vector<Stats> stats() const;
  // One hook's; NOT_FOUND for an unknown id.
  Stats stats(std::uint64_t id) const;

 private:
  std::shared_ptr<const List> hooks() const;
  static bool in_scope(const Hook& hook, std::span<const String> scopes);
  void call(Hook& hook, Event& event) noexcept;
  static Stats copy(const Hook& hook);

  Settings settings_;
  mutable std::mutex mutex_;  // guards hooks_ (the pointer) and predicates_
  std::shared_ptr<const List> hooks_;
  std::list<std::pair<String, Predicate>> predicates_;  // stable addresses
  std::uint64_t next_id_ = 1;
  Worker worker_;
};

}  // namespace llmkit::hooks
