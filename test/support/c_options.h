// An llmkit_options for C API tests, freed at scope end.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "llmkit.h"

namespace llmkit::test {

struct COptions {
  llmkit_options* o = nullptr;
  COptions() { llmkit_options_new(&o); }
  ~COptions() { llmkit_options_free(o); }
  COptions(COptions&& other) noexcept : o(std::exchange(other.o, nullptr)) {}
  COptions(const COptions&) = delete;
  COptions& operator=(const COptions&) = delete;
  COptions& operator=(COptions&&) = delete;
  COptions& set(const char* k, const std::string& v) {
    EXPECT_EQ(llmkit_options_set(o, k, v.c_str()), LLMKIT_OK) << k;
    return *this;
  }
};

}  // namespace llmkit::test
