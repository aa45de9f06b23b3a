/* The whole call pipeline from C, `make demo`'s main job: one hooks set in
 * two scopes, a client routing among two deployments with a fallback rule,
 * a response cache, a per-caller rate limit, a retry after a 429, a
 * fallback after a 500, a stream's time to first token, and what each call
 * cost. Run against test/upstream/upstream.py (as `make demo` does).
 * Build: cc pipeline.c $(pkg-config --cflags --libs llmkit)
 * Usage: ./pipeline BASE [--timing]   (BASE: the upstream's http://127.0.0.1:PORT) */
#include <stdio.h>
#include <string.h>

#include <llmkit.h>

static int timing; /* --timing: print time to first token (varies run to run) */

#define CHECK(call)                                            \
  do {                                                         \
    llmkit_status st_ = (call);                                \
    if (st_ != LLMKIT_OK) {                                    \
      fprintf(stderr, "%s: %s\n", #call, llmkit_last_error()); \
      return 1;                                                \
    }                                                          \
  } while (0)

/* Hooks: each prints what it sees; `user_data` is the hook's label. */
static llmkit_status audit(llmkit_hook_event* e, void* user_data) {
  const llmkit_response* res = llmkit_hook_event_response(e);
  const char* deployment = "";
  double cost = -1, cached = 0;
  llmkit_response_get(res, "deployment", &deployment, NULL);
  llmkit_response_number(res, "cost_usd", &cost);
  llmkit_response_number(res, "cached", &cached);
  printf("    hook %s: answered by %s, $%.6f%s\n", (const char*)user_data,
         cached ? "the cache" : deployment, cost, cached ? " (cached)" : "");
  return LLMKIT_OK;
}

/* A message without its retry hint, which varies from run to run. */
static int hintless(const char* message) {
  const char* hint = strstr(message, ": retry after");
  return hint ? (int)(hint - message) : (int)strlen(message);
}

static llmkit_status failed(llmkit_hook_event* e, void* user_data) {
  const char* message = "";
  llmkit_hook_event_get(e, "message", &message, NULL);
  printf("    hook %s: %.*s\n", (const char*)user_data, hintless(message), message);
  return LLMKIT_OK;
}

static llmkit_status tag_team(llmkit_hook_event* e, void* user_data) {
  (void)user_data;
  return llmkit_hook_event_set_meta(e, "team", "search");
}

static llmkit_status count_piece(const llmkit_chunk* chunk, void* user_data) {
  if (llmkit_chunk_get_kind(chunk) == LLMKIT_CHUNK_TEXT) ++*(int*)user_data;
  return LLMKIT_OK;
}

/* One call: `prompt`, and call options as "key=value" pairs (NULL-ended). */
static void call(llmkit_client* c, const char* what, const char* prompt, int stream,
                 const char* const* opts) {
  llmkit_request* req = NULL;
  llmkit_options* o = NULL;
  llmkit_response* res = NULL;
  const char* deployment = "";
  double cost = -1, attempts = 0, cached = 0, first = -1;
  int pieces = 0;
  char why[200];
  llmkit_request_new(&req);
  llmkit_request_set(req, "model", "chat");
  llmkit_request_add_message(req, "user", prompt);
  llmkit_options_new(&o);
  for (; opts && *opts; opts += 2) llmkit_options_set(o, opts[0], opts[1]);
  printf("%s\n", what);
  llmkit_status st =
      llmkit_client_chat(c, req, o, NULL, stream ? count_piece : NULL, &pieces, &res);
  snprintf(why, sizeof why, "%s", llmkit_last_error());
  if (res != NULL) {
    llmkit_response_get(res, "deployment", &deployment, NULL);
    llmkit_response_number(res, "cost_usd", &cost);
    llmkit_response_number(res, "attempts", &attempts);
    llmkit_response_number(res, "cached", &cached);
    llmkit_response_number(res, "first_token_ms", &first);
  }
  if (st == LLMKIT_OK) {
    printf("  ok: %s, %.0f %s, $%.6f", cached ? "from the cache" : deployment, attempts,
           attempts == 1 ? "try" : "tries", cost);
    if (stream) printf(", %d pieces", pieces);
    if (stream && timing) printf(", first token after %.2f ms", first);
    putchar('\n');
  } else {
    printf("  %s: %.*s\n", llmkit_status_str(st), hintless(why), why);
  }
  llmkit_response_free(res);
  llmkit_options_free(o);
  llmkit_request_free(req);
}

/* A client in `scope`: two deployments on the upstream, "chat" falling back
 * to "backup" on server errors, rate limits and overload. */
static llmkit_client* client_in(const char* base, const char* scope) {
  char deployments[1024];
  llmkit_options* o = NULL;
  llmkit_client* c = NULL;
  snprintf(deployments, sizeof deployments,
           "[{\"name\": \"primary\", \"provider\": \"openai\", \"base_url\": \"%s/v1\","
           "  \"api_key\": \"sk-demo\", \"model\": \"gpt-4o-mini\", \"group\": \"chat\"},"
           " {\"name\": \"backup\", \"provider\": \"anthropic\", \"base_url\": \"%s\","
           "  \"api_key\": \"sk-demo\", \"model\": \"claude-3-5-haiku-latest\"}]",
           base, base);
  if (llmkit_options_new(&o) != LLMKIT_OK ||
      llmkit_options_set(o, "deployments", deployments) != LLMKIT_OK ||
      llmkit_options_set(o, "fallbacks",
                         "[{\"from\": \"chat\", \"to\": [\"backup\"],"
                         "  \"on\": [\"server\", \"rate_limited\", \"overloaded\"]}]") !=
          LLMKIT_OK ||
      llmkit_options_set(o, "scopes", scope) != LLMKIT_OK ||
      llmkit_options_set(o, "retry.attempts", "2") != LLMKIT_OK ||
      llmkit_options_set(o, "retry.base_ms", "20") != LLMKIT_OK ||
      llmkit_client_new(o, &c) != LLMKIT_OK) {
    fprintf(stderr, "llmkit: %s\n", llmkit_last_error());
  }
  llmkit_options_free(o);
  return c;
}

int main(int argc, char** argv) {
  llmkit_hooks* hooks = NULL;
  llmkit_cache* cache = NULL;
  llmkit_ratelimiter* limiter = NULL;
  llmkit_options* o = NULL;
  llmkit_client *prod, *eval;
  uint64_t ids[4];
  if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--timing") != 0)) {
    fputs("usage: pipeline http://127.0.0.1:PORT [--timing]   (test/upstream/upstream.py)\n",
          stderr);
    return 2;
  }
  timing = argc == 3;

  /* Hooks in two scopes, and one global. */
  CHECK(llmkit_hooks_new(NULL, &hooks));
  CHECK(llmkit_hooks_add(hooks, LLMKIT_HOOK_BEFORE, NULL, NULL, 0, tag_team, NULL, &ids[0]));
  CHECK(llmkit_hooks_add(hooks, LLMKIT_HOOK_AFTER, "production", "meta.team:search", 0, audit,
                         "production/audit", &ids[1]));
  CHECK(llmkit_hooks_add(hooks, LLMKIT_HOOK_ERROR, "production", "status:rate_limited", 0, failed,
                         "production/limited", &ids[2]));
  CHECK(llmkit_hooks_add(hooks, LLMKIT_HOOK_AFTER, "evaluation", "tag:graded", 0, audit,
                         "evaluation/grade", &ids[3]));

  /* A cache, and two calls a minute per caller. */
  CHECK(llmkit_options_new(&o));
  CHECK(llmkit_cache_new(o, &cache));
  CHECK(llmkit_options_set(o, "requests", "2"));
  CHECK(llmkit_ratelimiter_new(o, &limiter));
  llmkit_options_free(o);

  prod = client_in(argv[1], "production");
  eval = client_in(argv[1], "evaluation");
  if (prod == NULL || eval == NULL) return 1;
  CHECK(llmkit_client_set_hooks(prod, hooks));
  CHECK(llmkit_client_set_hooks(eval, hooks));
  CHECK(llmkit_client_set_cache(prod, cache));

  puts("== production client: deployments primary (OpenAI) and backup (Anthropic)");
  call(prod, "a call", "Say hello.", 0, NULL);
  call(prod, "the same call again", "Say hello.", 0, NULL);
  {
    static const char* const fault[] = {"header.x-upstream-fault",
                                        "status=429,retry_after_ms=50,times=1,id=demo-429", NULL};
    call(prod, "a 429 once, then a retry", "Say hello twice.", 0, fault);
  }
  {
    static const char* const fault[] = {"header.x-upstream-fault", "status=500,times=2,id=demo-500",
                                        NULL};
    call(prod, "a 500 on both tries of primary, then the fallback", "Say hello thrice.", 0, fault);
  }
  call(prod, "a stream", "Count to three.", 1, NULL);
  CHECK(llmkit_client_set_ratelimiter(prod, limiter)); /* for the calls from now on */
  {
    static const char* const alice[] = {"caller", "alice", "cache", "bypass", NULL};
    static const char* const bob[] = {"caller", "bob", "cache", "bypass", NULL};
    call(prod, "alice, call 1 of 2 a minute", "Hi from alice.", 0, alice);
    call(prod, "alice, call 2", "Hi from alice.", 0, alice);
    call(prod, "alice, call 3", "Hi from alice.", 0, alice);
    call(prod, "bob, call 1", "Hi from bob.", 0, bob);
  }
  puts("== evaluation client: same hooks, its own scope");
  {
    static const char* const graded[] = {"tags", "graded", NULL};
    call(eval, "a graded call", "Say hello.", 0, graded);
  }

  puts("== hook stats");
  {
    static const char* const names[] = {"global/tag", "production/audit", "production/limited",
                                        "evaluation/grade"};
    int i;
    for (i = 0; i < 4; ++i) {
      int64_t calls = 0, errors = 0;
      llmkit_hooks_stat(hooks, ids[i], "calls", &calls);
      llmkit_hooks_stat(hooks, ids[i], "errors", &errors);
      printf("%-19s %lld calls, %lld errors\n", names[i], (long long)calls, (long long)errors);
    }
  }
  /* Clients first: the cache and the limiter must outlive them. */
  llmkit_client_free(prod);
  llmkit_client_free(eval);
  llmkit_hooks_free(hooks);
  llmkit_ratelimiter_free(limiter);
  llmkit_cache_free(cache);
  return 0;
}
