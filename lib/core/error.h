// The core's one error type. Code inside lib/ throws llmkit::Error; only
// lib/c_api catches it and turns it into an llmkit_status plus message.
#pragma once

#include <stdexcept>
#include <string>

#include "llmkit.h"

namespace llmkit {

class Error : public std::runtime_error {
 public:
  Error(llmkit_status status, const std::string& message)
      : std::runtime_error(message), status_(status) {}

  llmkit_status status() const noexcept { return status_; }

 private:
  llmkit_status status_;
};

[[noreturn]] inline void fail(llmkit_status status, const std::string& message) {
  throw Error(status, message);
}

}  // namespace llmkit
