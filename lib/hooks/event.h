// What a hook is given: one call at one point of the pipeline.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/alloc.h"
#include "hooks/rule.h"
#include "llmkit.h"
#include "providers/request.h"
#include "providers/response.h"

namespace llmkit::hooks {

enum class Kind : std::uint8_t { kBefore, kAfter, kError, kFinally };
constexpr int kKinds = 4;
// "before", "after", "error" or "finally".
std::string_view kind_name(Kind kind);

using Tags = std::vector<String, Allocator<String>>;
using Metadata = std::vector<std::pair<String, String>, Allocator<std::pair<String, String>>>;

// The words of a comma-separated list ("a,b", as the "tags" and "scopes"
// options and rules write them); empty ones are dropped.
Tags split_list(std::string_view list);

// One call as the hooks see it. A synchronous hook works on the call's own
// event; an async one on a snapshot, which it may read but not change.
struct Event {
  Kind kind = Kind::kBefore;
  String provider;
  const providers::ChatRequest* request = nullptr;
  std::string_view default_model;                 // the client's, for a request naming none
  const providers::Response* response = nullptr;  // after; error when one came
  llmkit_status status = LLMKIT_OK;               // error, finally: the outcome
  String message;                                 // error: why
  Tags tags;
  Metadata metadata;            // before hooks may add to it; later hooks see it
  std::int64_t elapsed_us = 0;  // after, error, finally: since the call began
  std::optional<double> cost_usd;
  bool read_only = false;  // an async hook's copy
  String failure;          // why the running hook failed, when it says

  // Set by a before hook: the call ends here, with this answer (served
  // without a provider call) or this status.
  std::unique_ptr<providers::Response> answer;
  llmkit_status rejected = LLMKIT_OK;
  String reject_message;

  // For a synchronous before hook: the request to change, from then on
  // `request` too. Copied on first use, so that a call whose hooks only
  // read it never copies it. nullptr for any other hook.
  providers::ChatRequest* edit() {
    if (edit_to_ == nullptr) return nullptr;
    if (!*copied_) {
      *edit_to_ = *request;
      *copied_ = true;
    }
    request = edit_to_;
    return edit_to_;
  }
  // The before round's: edit() copies `request` into `to`, unless `*copied`
  // says it holds the request already, and sets `*copied`. nullptr ends it.
  void allow_edits(providers::ChatRequest* to, bool* copied) {
    edit_to_ = to;
    copied_ = copied;
  }

  // The model the call goes to.
  std::string_view model() const {
    return request != nullptr && !request->model.empty() ? std::string_view(request->model)
                                                         : default_model;
  }

  // What a rule sees of it.
  CallFacts facts() const {
    return {provider,
            model(),
            tags,
            metadata,
            kind == Kind::kBefore ? std::nullopt : std::optional<llmkit_status>(status),
            this};
  }

  // A read-only copy for async hooks, owning what it points to (so never
  // moved: `request` and `response` point into it).
  std::shared_ptr<Event> snapshot() const;

 private:
  providers::ChatRequest* edit_to_ = nullptr;
  bool* copied_ = nullptr;
  String own_model_;
  std::optional<providers::ChatRequest> own_request_;
  std::optional<providers::Response> own_response_;
};

}  // namespace llmkit::hooks
