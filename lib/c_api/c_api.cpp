// The C boundary: the only file that implements include/llmkit.h.
//
// Every exported function turns handles into core objects, runs the core
// inside guard(), and turns any exception into an llmkit_status plus the
// thread's last-error message. No exception ever leaves this file.
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "core/alloc.h"
#include "core/error.h"
#include "core/utf8.h"
#include "llmkit.h"
#include "options/options.h"

// The opaque handle types are the core objects themselves.
struct llmkit_options : llmkit::Options {};

namespace {

thread_local llmkit::String t_error_storage;
thread_local const char* t_error = "";

void clear_error() noexcept {
  t_error = "";
}

llmkit_status set_error(llmkit_status status, std::string_view message) noexcept {
  try {
    t_error_storage.assign(message.data(), message.size());
    t_error = t_error_storage.c_str();
  } catch (...) {
    t_error = "out of memory while recording an error";
  }
  return status;
}

template <class F>
llmkit_status guard(F&& body) noexcept {
  try {
    body();
    clear_error();
    return LLMKIT_OK;
  } catch (const llmkit::Error& e) {
    return set_error(e.status(), e.what());
  } catch (const std::bad_alloc&) {
    return set_error(LLMKIT_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return set_error(LLMKIT_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return set_error(LLMKIT_INTERNAL, "internal error: unknown exception");
  }
}

template <class T>
T& require(T* p, const char* name) {
  if (p == nullptr) llmkit::fail(LLMKIT_INVALID_ARGUMENT, std::string(name) + " is NULL");
  return *p;
}

const char* require_str(const char* s, const char* name) {
  return &require(s, name);
}

}  // namespace

/* ---- version ---------------------------------------------------------- */

extern "C" const char* llmkit_version(void) {
  return LLMKIT_VERSION_STRING;
}

extern "C" int llmkit_version_number(void) {
  return LLMKIT_VERSION_NUMBER;
}

/* ---- errors ------------------------------------------------------------ */

extern "C" const char* llmkit_status_str(llmkit_status status) {
  switch (status) {
    case LLMKIT_OK:
      return "OK";
    case LLMKIT_INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case LLMKIT_NOT_FOUND:
      return "NOT_FOUND";
    case LLMKIT_RATE_LIMITED:
      return "RATE_LIMITED";
    case LLMKIT_TIMEOUT:
      return "TIMEOUT";
    case LLMKIT_NETWORK:
      return "NETWORK";
    case LLMKIT_PROVIDER_ERROR:
      return "PROVIDER_ERROR";
    case LLMKIT_AUTH:
      return "AUTH";
    case LLMKIT_CANCELLED:
      return "CANCELLED";
    case LLMKIT_OUT_OF_MEMORY:
      return "OUT_OF_MEMORY";
    case LLMKIT_INTERNAL:
      return "INTERNAL";
    case LLMKIT_UNSUPPORTED:
      return "UNSUPPORTED";
    case LLMKIT_BUDGET_EXCEEDED:
      return "BUDGET_EXCEEDED";
    case LLMKIT_QUEUE_FULL:
      return "QUEUE_FULL";
    case LLMKIT_UNAVAILABLE:
      return "UNAVAILABLE";
  }
  return "UNKNOWN";
}

extern "C" const char* llmkit_last_error(void) {
  return t_error;
}

/* ---- options ------------------------------------------------------------ */

extern "C" llmkit_status llmkit_options_new(llmkit_options** out) {
  return guard([&] {
    require(out, "out");
    *out = llmkit::create<llmkit_options>();
  });
}

extern "C" llmkit_status llmkit_options_copy(const llmkit_options* options, llmkit_options** out) {
  return guard([&] {
    const auto& src = require(options, "options");
    require(out, "out");
    *out = llmkit::create<llmkit_options>(src);
  });
}

extern "C" void llmkit_options_free(llmkit_options* options) {
  llmkit::destroy(options);
}

extern "C" llmkit_status llmkit_options_set(llmkit_options* options, const char* key,
                                            const char* value) {
  return guard([&] {
    auto& o = require(options, "options");
    o.set(require_str(key, "key"), require_str(value, "value"));
  });
}

extern "C" llmkit_status llmkit_options_unset(llmkit_options* options, const char* key) {
  return guard([&] {
    auto& o = require(options, "options");
    const char* k = require_str(key, "key");
    if (!o.unset(k))
      llmkit::fail(LLMKIT_NOT_FOUND, "option " + llmkit::utf8::quote(k) + " is not set");
  });
}

extern "C" llmkit_status llmkit_options_get(const llmkit_options* options, const char* key,
                                            const char** value) {
  return guard([&] {
    const auto& o = require(options, "options");
    const char* k = require_str(key, "key");
    require(value, "value");
    const llmkit::String* v = o.find(k);
    if (v == nullptr)
      llmkit::fail(LLMKIT_NOT_FOUND, "option " + llmkit::utf8::quote(k) + " is not set");
    *value = v->c_str();
  });
}

extern "C" llmkit_status llmkit_options_count(const llmkit_options* options, size_t* count) {
  return guard([&] {
    const auto& o = require(options, "options");
    require(count, "count") = o.size();
  });
}
