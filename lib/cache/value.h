// A cached value: immutable bytes with a reference count, so a reader keeps
// its copy-free view while the entry is replaced or evicted. It is the C
// API's llmkit_cache_value itself.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstring>
#include <new>
#include <string_view>
#include <utility>

#include "core/alloc.h"

struct llmkit_cache_value {
  // A value holding a copy of `bytes`, with one reference (the caller's).
  static llmkit_cache_value* make(std::string_view bytes) {
    void* mem = llmkit::raw_alloc(sizeof(llmkit_cache_value) + bytes.size());
    auto* v = new (mem) llmkit_cache_value(bytes.size());
    if (!bytes.empty()) std::memcpy(v->data(), bytes.data(), bytes.size());
    return v;
  }

  void ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void unref() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      this->~llmkit_cache_value();
      llmkit::raw_free(this);
    }
  }

  std::string_view bytes() const noexcept { return {data(), size_}; }
  std::size_t size() const noexcept { return size_; }

 private:
  explicit llmkit_cache_value(std::size_t size) : size_(size) {}
  char* data() noexcept { return reinterpret_cast<char*>(this + 1); }
  const char* data() const noexcept { return reinterpret_cast<const char*>(this + 1); }

  std::atomic<std::size_t> refs_{1};
  std::size_t size_;
};

namespace llmkit::cache {

using Value = ::llmkit_cache_value;

// Owns one reference.
class ValueRef {
 public:
  ValueRef() = default;
  explicit ValueRef(Value* v) noexcept : v_(v) {}
  ValueRef(const ValueRef& o) noexcept : v_(o.v_) {
    if (v_ != nullptr) v_->ref();
  }
  ValueRef(ValueRef&& o) noexcept : v_(o.v_) { o.v_ = nullptr; }
  ValueRef& operator=(ValueRef o) noexcept {
    std::swap(v_, o.v_);
    return *this;
  }
  ~ValueRef() {
    if (v_ != nullptr) v_->unref();
  }

  Value* get() const noexcept { return v_; }
  Value* release() noexcept { return std::exchange(v_, nullptr); }
  explicit operator bool() const noexcept { return v_ != nullptr; }
  const Value* operator->() const noexcept { return v_; }

 private:
  Value* v_ = nullptr;
};

}  // namespace llmkit::cache
