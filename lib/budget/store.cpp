#include "budget/store.h"

#include "core/error.h"
#include "core/utf8.h"
#include "pg/connection.h"

namespace llmkit::budget {

std::unique_ptr<Store> make_store(std::string_view spec, std::int64_t timeout_ms) {
  if (spec == "memory") return make_memory_store();
  if (spec.starts_with("redis://") || spec.starts_with("unix://")) {
    return make_redis_store(spec, timeout_ms);
  }
  if (pg::is_url(spec)) return make_pg_store(spec);
  fail(LLMKIT_INVALID_ARGUMENT, "\"budget.store\" " + utf8::quote(spec) +
                                    " is not \"memory\", a redis:// URL or a postgresql:// URL");
}

}  // namespace llmkit::budget
