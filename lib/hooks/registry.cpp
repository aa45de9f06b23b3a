#include "hooks/registry.h"

#include <algorithm>
#include <exception>
#include <string>

#include "core/clock.h"
#include "core/error.h"

namespace llmkit::hooks {
namespace {

void note_error(Hook& hook, std::string_view message) noexcept {
  hook.errors.fetch_add(1, std::memory_order_relaxed);
  try {
    std::lock_guard<std::mutex> lock(hook.error_mutex);
    hook.last_error = make_string(message);
  } catch (...) {  // NOLINT(bugprone-empty-catch): no memory for the message: the count stays
  }
}

}  // namespace

bool is_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

Registry::Registry(const Settings& settings)
    : settings_(settings),
      hooks_(std::allocate_shared<List>(Allocator<List>())),
      worker_(settings.queue_capacity, [this](Hook& hook, Event& event) { call(hook, event); }) {
  if (settings.queue_capacity == 0) {
    fail(LLMKIT_INVALID_ARGUMENT, "the async hook queue needs room for at least one event");
  }
}

Registry::~Registry() = default;

void Registry::add_predicate(std::string_view name, Predicate predicate) {
  if (!is_name(name)) {
    fail(LLMKIT_INVALID_ARGUMENT,
         "a predicate's name is one word of letters, digits, '_', '-' or '.'");
  }
  if (!predicate) fail(LLMKIT_INVALID_ARGUMENT, "the predicate has no function");
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [taken, _] : predicates_) {
    if (taken == name) {
      fail(LLMKIT_INVALID_ARGUMENT,
           "a predicate named \"" + std::string(name) + "\" is already registered");
    }
  }
  predicates_.emplace_back(make_string(name), std::move(predicate));
}

std::uint64_t Registry::add(Kind kind, std::string_view scope, std::string_view rule, HookFn fn,
                            bool async) {
  if (!fn) fail(LLMKIT_INVALID_ARGUMENT, "the hook has no function");
  if (!scope.empty() && !is_name(scope)) {
    fail(LLMKIT_INVALID_ARGUMENT, "a scope's name is one word of letters, digits, '_', '-' or '.'");
  }
  auto hook = std::allocate_shared<Hook>(Allocator<Hook>());
  hook->kind = kind;
  hook->scope = make_string(scope);
  hook->fn = std::move(fn);
  hook->async = async;
  std::lock_guard<std::mutex> lock(mutex_);
  // Compiled under the lock: predicates_ is read.
  hook->rule = Rule::compile(rule, [&](std::string_view name) -> const Predicate* {
    for (const auto& [n, p] : predicates_) {
      if (n == name) return &p;
    }
    return nullptr;
  });
  hook->id = next_id_++;
  auto list = std::allocate_shared<List>(Allocator<List>(), *hooks_);
  list->push_back(hook);
  hooks_ = std::move(list);
  return hook->id;
}

void Registry::remove(std::uint64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto list = std::allocate_shared<List>(Allocator<List>(), *hooks_);
  const auto it =
      std::find_if(list->begin(), list->end(), [&](const auto& h) { return h->id == id; });
  if (it == list->end()) {
    fail(LLMKIT_NOT_FOUND, "no hook has id " + std::to_string(id));
  }
  list->erase(it);
  hooks_ = std::move(list);
}

std::shared_ptr<const Registry::List> Registry::hooks() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return hooks_;
}

bool Registry::in_scope(const Hook& hook, std::span<const String> scopes) {
  return hook.scope.empty() || std::find(scopes.begin(), scopes.end(), hook.scope) != scopes.end();
}

bool Registry::any(Kind kind, std::span<const String> scopes) const noexcept {
  return View(nullptr, hooks()).any(kind, scopes);
}

void Registry::run(Event& event, std::span<const String> scopes) noexcept {
  view().run(event, scopes);
}

bool Registry::View::any(Kind kind, std::span<const String> scopes) const noexcept {
  return hooks_ && std::any_of(hooks_->begin(), hooks_->end(), [&](const auto& h) {
           return h->kind == kind && in_scope(*h, scopes);
         });
}

void Registry::View::run(Event& event, std::span<const String> scopes) const noexcept {
  if (!hooks_) return;
  std::shared_ptr<Event> snapshot;  // made once, for every async hook of this round
  for (const auto& hook : *hooks_) {
    if (hook->kind != event.kind || !in_scope(*hook, scopes)) continue;
    switch (hook->rule.evaluate(event.facts())) {
      case Rule::Verdict::kSkip:
        hook->skipped.fetch_add(1, std::memory_order_relaxed);
        continue;
      case Rule::Verdict::kFailed:
        hook->rule_failures.fetch_add(1, std::memory_order_relaxed);
        continue;
      case Rule::Verdict::kRun:
        break;
    }
    if (!hook->async) {
      registry_->call(*hook, event);
      if (event.answer || event.rejected != LLMKIT_OK) return;
      continue;
    }
    try {
      if (!snapshot) snapshot = event.snapshot();
      if (!registry_->worker_.push(hook, snapshot, registry_->settings_.block_when_full)) {
        hook->dropped.fetch_add(1, std::memory_order_relaxed);
      }
    } catch (...) {  // no memory for the copy: the event is lost to this hook
      hook->dropped.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void Registry::call(Hook& hook, Event& event) noexcept {
  const std::int64_t start = now_us();
  llmkit_status status = LLMKIT_OK;
  event.failure.clear();
  try {
    status = hook.fn(event);
    if (status != LLMKIT_OK) {
      note_error(hook, !event.failure.empty()
                           ? std::string(event.failure)
                           : "the hook returned " + std::string(status_name(status)));
    }
  } catch (const std::exception& e) {
    note_error(hook, e.what());
  } catch (...) {
    note_error(hook, "the hook threw an unknown exception");
  }
  const std::int64_t took = now_us() - start;
  hook.calls.fetch_add(1, std::memory_order_relaxed);
  hook.total_us.fetch_add(took, std::memory_order_relaxed);
  std::int64_t max = hook.max_us.load(std::memory_order_relaxed);
  while (took > max && !hook.max_us.compare_exchange_weak(max, took, std::memory_order_relaxed)) {
  }
  if (took > settings_.slow_us) hook.slow.fetch_add(1, std::memory_order_relaxed);
}

void Registry::flush() {
  worker_.flush();
}

Stats Registry::copy(const Hook& h) {
  Stats s;
  s.id = h.id;
  s.kind = h.kind;
  s.scope = h.scope;
  s.rule = make_string(h.rule.text());
  s.async = h.async;
  s.calls = h.calls.load(std::memory_order_relaxed);
  s.skipped = h.skipped.load(std::memory_order_relaxed);
  s.errors = h.errors.load(std::memory_order_relaxed);
  s.rule_failures = h.rule_failures.load(std::memory_order_relaxed);
  s.dropped = h.dropped.load(std::memory_order_relaxed);
  s.slow = h.slow.load(std::memory_order_relaxed);
  s.total_us = h.total_us.load(std::memory_order_relaxed);
  s.max_us = h.max_us.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(h.error_mutex);
  s.last_error = h.last_error;
  return s;
}

std::vector<Stats> Registry::stats() const {
  const auto list = hooks();
  std::vector<Stats> out;
  out.reserve(list->size());
  for (const auto& h : *list) out.push_back(copy(*h));
  return out;
}

Stats Registry::stats(std::uint64_t id) const {
  const auto list = hooks();
  for (const auto& h : *list) {
    if (h->id == id) return copy(*h);
  }
  fail(LLMKIT_NOT_FOUND, "no hook has id " + std::to_string(id));
}

}  // namespace llmkit::hooks
