// The status a core call ends with: OK, or that of the llmkit::Error it throws.
#pragma once

#include "core/error.h"

template <class F>
llmkit_status status_of(F&& f) {
  try {
    f();
    return LLMKIT_OK;
  } catch (const llmkit::Error& e) {
    return e.status();
  }
}
