#include "http/headers.h"

#include <algorithm>
#include <cstring>

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
  // One resize and copies into it: appending piece by piece was half the
  // header callback's instructions.
  const std::size_t at = text_.size();
  text_.resize(at + name.size() + value.size() + 2);
  char* p = text_.data() + at;
  for (const char c : name) *p++ = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  *p++ = ':';
  std::memcpy(p, value.data(), value.size());
  p[value.size()] = '\n';
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
