#include "hooks/event.h"

#include <algorithm>

namespace llmkit::hooks {

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::kAfter:
      return "after";
    case Kind::kError:
      return "error";
    case Kind::kFinally:
      return "finally";
    case Kind::kBefore:
      break;
  }
  return "before";
}

Tags split_list(std::string_view list) {
  Tags out;
  out.reserve(static_cast<std::size_t>(std::count(list.begin(), list.end(), ',')) + 1);
  while (!list.empty()) {
    const auto comma = std::min(list.find(','), list.size());
    if (comma > 0) out.push_back(make_string(list.substr(0, comma)));
    list.remove_prefix(std::min(comma + 1, list.size()));
  }
  return out;
}

std::shared_ptr<Event> Event::snapshot() const {
  auto copy = std::allocate_shared<Event>(Allocator<Event>());
  copy->kind = kind;
  copy->provider = provider;
  copy->own_model_ = make_string(model());
  copy->default_model = copy->own_model_;
  if (request != nullptr) {
    copy->request = &copy->own_request_.emplace(*request);
    copy->own_request_->model = copy->own_model_;
  }
  if (response != nullptr) {
    copy->response = &copy->own_response_.emplace(*response);
  }
  copy->status = status;
  copy->message = message;
  copy->tags = tags;
  copy->metadata = metadata;
  copy->elapsed_us = elapsed_us;
  copy->cost_usd = cost_usd;
  copy->read_only = true;
  return copy;
}

}  // namespace llmkit::hooks
