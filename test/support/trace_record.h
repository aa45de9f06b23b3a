// A trace record as the pipeline makes it for a successful chat, every
// column set: for the sinks' tests and the trace benchmark.
#pragma once

#include "trace/record.h"

namespace llmkit::test {

inline trace::Record sample_record() {
  trace::Record r;
  r.call_id = make_string("7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c2e");
  r.time_us = 1'700'000'000'000'001;
  r.application = make_string("shop");
  r.scope = make_string("production");
  r.tags = make_string(R"(["x","y"])");
  r.metadata = make_string(R"({"user":"u1"})");
  r.caller = make_string("team-search");
  r.provider = make_string("openai");
  r.request_model = make_string("gpt-4o-mini");
  r.response_model = make_string("gpt-4o-mini-2024-07-18");
  r.response_id = make_string("chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT");
  r.deployment = make_string("east");
  r.status = make_string("ok");
  r.finish_reasons = make_string(R"(["stop"])");
  r.input_tokens = 120;
  r.output_tokens = 30;
  r.cache_read_tokens = 100;
  r.cache_creation_tokens = 7;
  r.reasoning_tokens = 5;
  r.cost_usd = 0.000123456789;
  r.latency_ms = 12.5;
  r.ttft_ms = 3.25;
  r.retries = 2;
  r.fallback = true;
  r.input_messages = make_string(R"([{"role":"user","parts":[{"type":"text","content":"hi"}]}])");
  return r;
}

}  // namespace llmkit::test
