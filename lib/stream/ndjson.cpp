#include "stream/ndjson.h"

#include <cstring>
#include <string>

#include "core/error.h"

namespace llmkit::stream {

void NdjsonParser::feed(std::string_view bytes, Handler& handler) {
  while (!bytes.empty()) {
    const char* end = static_cast<const char*>(std::memchr(bytes.data(), '\n', bytes.size()));
    if (end == nullptr) {
      if (line_.size() + bytes.size() > max_line_bytes_) {
        fail(LLMKIT_PROVIDER_ERROR,
             "a stream line is longer than " + std::to_string(max_line_bytes_) + " bytes");
      }
      line_.append(bytes.data(), bytes.size());
      return;
    }
    const auto n = static_cast<std::size_t>(end - bytes.data());
    if (line_.empty()) {
      emit(bytes.substr(0, n), handler);
    } else {
      line_.append(bytes.data(), n);
      const String whole = std::move(line_);
      line_.clear();
      emit(whole, handler);
    }
    bytes.remove_prefix(n + 1);
  }
}

void NdjsonParser::emit(std::string_view line, Handler& handler) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  if (line.find_first_not_of(" \t") == std::string_view::npos) return;
  handler.on_line(line);
}

}  // namespace llmkit::stream
