/* bindings/llmkit.i — the one SWIG interface behind the Go, Ruby and C#
 * bindings. The C API is declared once, from include/llmkit.h; each
 * language's section adds only what makes it native: how an llmkit_status
 * becomes an error, how out-parameters become return values, how handles
 * are owned, and its naming. */
%module llmkit

%{
#include "llmkit.h"
%}

#define LLMKIT_API

/* uint32_t, uint64_t, int64_t ... as the integers they are. */
%include <stdint.i>

#if defined(SWIGGO)
%include "go/llmkit_go.swg"
#elif defined(SWIGRUBY)
%include "ruby/llmkit_ruby.swg"
#elif defined(SWIGCSHARP)
%include "csharp/llmkit_csharp.swg"
#endif

/* Costs reach the bindings as JSON (llmkit_costs_json); the row index of
 * C's accessors that reads the total is C's alone. */
%ignore LLMKIT_COSTS_TOTAL;

/* The scrape server stays C's for now: a binding's server would have to
 * outlive nothing but its client, which each language's owner of the
 * client would have to enforce. Go wraps it (its Close is explicit). */
#if !defined(SWIGGO)
%ignore llmkit_client_serve_metrics;
%ignore llmkit_traces_serve_metrics;
%ignore llmkit_metrics_server_port;
%ignore llmkit_metrics_server_free;
%ignore llmkit_metrics_server;
#endif

%include "llmkit.h"
