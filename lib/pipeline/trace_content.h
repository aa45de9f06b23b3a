// A call's prompt and answer as the OpenTelemetry GenAI attributes
// gen_ai.input.messages and gen_ai.output.messages hold them: JSON arrays
// of {"role", "parts": [{"type": "text", "content"}, ...]}. Written into
// trace records only with the client option "trace.content".
#pragma once

#include "core/alloc.h"
#include "providers/request.h"
#include "providers/response.h"

namespace llmkit::pipeline {

String input_messages(const providers::ChatRequest& request);
String output_messages(const providers::Response& response);

}  // namespace llmkit::pipeline
