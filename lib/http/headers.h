// A response head's fields, kept in one buffer: copying a head costs one
// allocation, where a vector of string pairs cost two per field (the header
// callback was 5% of a plain chat call's instructions under callgrind).
#pragma once

#include <cstddef>
#include <iterator>
#include <string_view>

#include "core/alloc.h"

namespace llmkit::http {

class Headers {
 public:
  struct Field {
    std::string_view name;  // lower case
    std::string_view value;
  };

  // Forward iteration over the fields, in the order they came.
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Field;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Field;

    Iterator() = default;
    explicit Iterator(std::string_view rest) : rest_(rest) {}
    Field operator*() const;
    Iterator& operator++();
    Iterator operator++(int) {
      Iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const Iterator& other) const { return rest_.data() == other.rest_.data(); }

   private:
    std::string_view rest_;  // from this field's start to the buffer's end
  };

  // `name` is lower-cased here; neither may hold a line break, nor `name` a
  // colon (a header line cannot).
  void add(std::string_view name, std::string_view value);
  void clear() noexcept { text_.clear(); }
  bool empty() const noexcept { return text_.empty(); }
  std::size_t size() const noexcept;
  // The value of the first field named `name` (lower case); "" when none.
  std::string_view find(std::string_view name) const noexcept;

  Iterator begin() const { return Iterator(text_); }
  Iterator end() const { return Iterator(std::string_view(text_).substr(text_.size())); }

 private:
  String text_;  // "name:value\n" per field
};

}  // namespace llmkit::http
