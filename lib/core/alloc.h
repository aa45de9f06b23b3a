// Allocation for the core's own objects and containers.
//
// With LLMKIT_WITH_MIMALLOC (the default build) everything here goes through
// mimalloc's API; the host process's malloc/new are never replaced (the
// library is linked so that glibc's malloc and libstdc++'s operator new keep
// precedence, see CMakeLists.txt, and test/integration/host_malloc_test.sh
// checks it). Sanitizer builds turn mimalloc off so ASan sees every
// allocation the core makes.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#ifdef LLMKIT_WITH_MIMALLOC
#  include <mimalloc.h>
#endif

namespace llmkit {

#ifdef LLMKIT_WITH_MIMALLOC
template <class T>
using Allocator = mi_stl_allocator<T>;

inline void* raw_alloc(std::size_t n) {
  void* p = mi_malloc(n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
inline void raw_free(void* p) noexcept {
  mi_free(p);
}
#else
template <class T>
using Allocator = std::allocator<T>;

inline void* raw_alloc(std::size_t n) {
  return ::operator new(n);
}
inline void raw_free(void* p) noexcept {
  ::operator delete(p);
}
#endif

using String = std::basic_string<char, std::char_traits<char>, Allocator<char>>;
template <class T>
using Vector = std::vector<T, Allocator<T>>;

inline String make_string(std::string_view s) {
  return String(s.data(), s.size());
}

// Creates a T in core-owned memory. Pair with destroy(); handles given out
// through the C API are made this way.
template <class T, class... Args>
T* create(Args&&... args) {
  void* mem = raw_alloc(sizeof(T));
  try {
    return new (mem) T(std::forward<Args>(args)...);
  } catch (...) {
    raw_free(mem);
    throw;
  }
}

template <class T>
void destroy(T* p) noexcept {
  if (p == nullptr) return;
  p->~T();
  raw_free(p);
}

// Owning pointer for objects made with create().
template <class T>
struct Destroy {
  void operator()(T* p) const noexcept { destroy(p); }
};
template <class T>
using Unique = std::unique_ptr<T, Destroy<T>>;

}  // namespace llmkit
