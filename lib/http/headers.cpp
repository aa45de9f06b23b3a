#include "http/headers.h"

#include <algorithm>

namespace llmkit::http {

Headers::Field Headers::Iterator::operator*() const {
  const std::string_view line = rest_.substr(0, rest_.find('\n'));
  const auto colon = line.find(':');
  return {line.substr(0, colon), line.substr(colon + 1)};
}

Headers::Iterator& Headers::Iterator::operator++() {
  rest_.remove_prefix(std::min(rest_.find('\n') + 1, rest_.size()));
  return *this;
}

void Headers::add(std::string_view name, std::string_view value) {
  constexpr std::size_t kTypicalHead = 512;  // a provider's head in one allocation
  if (text_.capacity() < kTypicalHead) text_.reserve(kTypicalHead);
  const std::size_t at = text_.size();
  text_.append(name.data(), name.size());
  for (auto c = text_.begin() + static_cast<std::ptrdiff_t>(at); c != text_.end(); ++c) {
    if (*c >= 'A' && *c <= 'Z') *c = static_cast<char>(*c - 'A' + 'a');
  }
  text_.push_back(':');
  text_.append(value.data(), value.size());
  text_.push_back('\n');
}

std::size_t Headers::size() const noexcept {
  return static_cast<std::size_t>(std::count(text_.begin(), text_.end(), '\n'));
}

std::string_view Headers::find(std::string_view name) const noexcept {
  for (const Field f : *this) {
    if (f.name == name) return f.value;
  }
  return {};
}

}  // namespace llmkit::http
