#include "stream/sse.h"

#include <cstring>

#include "core/error.h"

namespace llmkit::stream {

void SseParser::feed(std::string_view bytes, Handler& handler) {
  if (!started_ && !bytes.empty()) {
    // A UTF-8 byte order mark may open the stream; it may itself be split.
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    const std::size_t have = line_.size();
    const std::size_t n = std::min(kBom.size() - have, bytes.size());
    if (kBom.substr(have, n) == bytes.substr(0, n)) {
      line_.append(bytes.data(), n);
      bytes.remove_prefix(n);
      if (line_.size() < kBom.size()) return;
      line_.clear();
    }
    started_ = true;
  }
  while (!bytes.empty()) {
    if (skip_lf_ && bytes.front() == '\n') bytes.remove_prefix(1);
    skip_lf_ = false;
    const char* end = static_cast<const char*>(std::memchr(bytes.data(), '\n', bytes.size()));
    const char* cr = static_cast<const char*>(std::memchr(bytes.data(), '\r', bytes.size()));
    if (cr != nullptr && (end == nullptr || cr < end)) end = cr;
    if (end == nullptr) {
      if (line_.size() + data_.size() + bytes.size() > max_event_bytes_) {
        fail(LLMKIT_PROVIDER_ERROR,
             "a stream event is larger than " + std::to_string(max_event_bytes_) + " bytes");
      }
      line_.append(bytes.data(), bytes.size());
      return;
    }
    const auto n = static_cast<std::size_t>(end - bytes.data());
    skip_lf_ = *end == '\r';
    if (line_.empty()) {
      line(bytes.substr(0, n), handler);
    } else {
      line_.append(bytes.data(), n);
      const String whole = std::move(line_);
      line_.clear();
      line(whole, handler);
    }
    bytes.remove_prefix(n + 1);
  }
}

void SseParser::line(std::string_view text, Handler& handler) {
  if (text.empty()) {
    if (has_data_) handler.on_event(event_, data_);
    event_.clear();
    data_.clear();
    has_data_ = false;
    return;
  }
  if (text.front() == ':') return;  // a comment (keep-alive)
  const std::size_t colon = text.find(':');
  std::string_view field = text.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = text.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (data_.size() + value.size() > max_event_bytes_) {
      fail(LLMKIT_PROVIDER_ERROR,
           "a stream event is larger than " + std::to_string(max_event_bytes_) + " bytes");
    }
    if (has_data_) data_.push_back('\n');
    data_.append(value.data(), value.size());
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value.data(), value.size());
  }
  // "id" and "retry" steer browser reconnection; no provider needs them.
}

}  // namespace llmkit::stream
