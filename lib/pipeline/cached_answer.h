// How a client's cache holds an answer: a binary record of what a hit
// gives back (text, reasoning, thinking blocks, tool calls, finish reason,
// usage, and the model, id and raw finish reason append_json leaves out).
// Lengths, not JSON: writing the answer as JSON was 5k of the 17k
// instructions every stage of the pipeline added to a call, and reading it
// back a simdjson parse (bench/pipeline_instructions.sh).
#pragma once

#include <memory>
#include <string_view>

#include "core/alloc.h"
#include "providers/response.h"

namespace llmkit::pipeline {

// The record of `r`, an answer (not an error).
String encode_answer(const providers::Response& r);

// The answer `record` holds, or null when it is not a record encode_answer
// wrote: another writer's bytes, another version's, a truncated or
// corrupted one. Every string it gives back is valid UTF-8.
std::unique_ptr<providers::Response> decode_answer(std::string_view record);

}  // namespace llmkit::pipeline
