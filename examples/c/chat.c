/* Provider calls from C: one client per provider, a whole answer, a stream
 * printed as it arrives, the cost of each, a 429 cured by a retry, a
 * rate-limited answer whose retry hint passes the call's deadline, a cut
 * stream, and embeddings. Run against test/upstream/upstream.py (what
 * `make demo` does), or a real provider.
 * Build: cc chat.c $(pkg-config --cflags --libs llmkit)
 * Usage: ./chat BASE [--timing]   (BASE: the upstream's http://127.0.0.1:PORT) */
#include <stdio.h>
#include <string.h>

#include <llmkit.h>

static llmkit_client* client_for(const char* provider, const char* base) {
  char url[256];
  llmkit_options* o = NULL;
  llmkit_client* c = NULL;
  snprintf(url, sizeof url, "%s%s", base,
           strcmp(provider, "openai") == 0   ? "/v1"
           : strcmp(provider, "gemini") == 0 ? "/v1beta"
                                             : "");
  if (llmkit_options_new(&o) == LLMKIT_OK &&
      llmkit_options_set(o, "provider", provider) == LLMKIT_OK &&
      llmkit_options_set(o, "base_url", url) == LLMKIT_OK &&
      llmkit_options_set(o, "api_key", "sk-demo") == LLMKIT_OK &&
      llmkit_options_set(o, "model", "demo-model") == LLMKIT_OK &&
      llmkit_client_new(o, &c) != LLMKIT_OK) {
    fprintf(stderr, "llmkit: %s\n", llmkit_last_error());
  }
  llmkit_options_free(o);
  return c;
}

static int timing; /* --timing: print time to first token (varies run to run) */

static llmkit_status count_piece(const llmkit_chunk* chunk, void* user_data) {
  if (llmkit_chunk_get_kind(chunk) == LLMKIT_CHUNK_TEXT) ++*(int*)user_data;
  return LLMKIT_OK;
}

/* The first line of `text`, at most 40 bytes of it, cut between characters. */
static void print_short(const char* text) {
  size_t line = strcspn(text, "\n"), n = line < 40 ? line : 40;
  while (n > 0 && n < line && ((unsigned char)text[n] & 0xC0) == 0x80) --n;
  printf("%.*s%s", (int)n, text, n < line || text[line] ? "..." : "");
}

/* One call; `fault` (may be NULL) asks the test upstream for a failure. */
static void chat(llmkit_client* c, const char* provider, int stream, const char* fault,
                 const char* deadline_ms) {
  llmkit_request* req = NULL;
  llmkit_options* call = NULL;
  llmkit_response* res = NULL;
  llmkit_status st;
  const char* text = "";
  double in = 0, out = 0, retry = -1, first = -1, cost = -1, attempts = 1;
  int pieces = 0;
  llmkit_request_new(&req);
  llmkit_request_set(req, "system", "Answer briefly.");
  llmkit_request_add_message(req, "user", "Say hello.");
  llmkit_options_new(&call);
  if (fault) llmkit_options_set(call, "header.x-upstream-fault", fault);
  if (deadline_ms) llmkit_options_set(call, "deadline_ms", deadline_ms);
  printf("%-9s %s%s: ", provider, stream ? "stream" : "whole", fault ? " (injected fault)" : "");
  char why[256];
  st = llmkit_client_chat(c, req, call, NULL, stream ? count_piece : NULL, &pieces, &res);
  snprintf(why, sizeof why, "%s", llmkit_last_error()); /* the next call clears it */
  if (res != NULL) {
    llmkit_response_get(res, "text", &text, NULL);
    llmkit_response_number(res, "input_tokens", &in);
    llmkit_response_number(res, "output_tokens", &out);
    llmkit_response_number(res, "retry_after_ms", &retry);
    llmkit_response_number(res, "first_token_ms", &first);
    llmkit_response_number(res, "cost_usd", &cost);
    llmkit_response_number(res, "attempts", &attempts);
  }
  if (st == LLMKIT_OK) {
    print_short(text);
    printf(" [%s, %.0f in / %.0f out tokens",
           llmkit_finish_reason_str(llmkit_response_finish_reason(res)), in, out);
    if (stream) printf(", %d pieces", pieces);
    if (stream && timing) printf(", first token after %.2f ms", first);
    if (cost >= 0) printf(", $%.6f", cost);
    if (attempts > 1) printf(", %.0f tries", attempts);
    puts("]");
  } else {
    printf("%s: %s", llmkit_status_str(st), why);
    if (retry >= 0) printf(" (retry after %.0f ms)", retry);
    putchar('\n');
  }
  llmkit_response_free(res);
  llmkit_options_free(call);
  llmkit_request_free(req);
}

int main(int argc, char** argv) {
  static const char* const providers[] = {"openai", "anthropic", "gemini", "ollama"};
  const char* texts[] = {"first", "second", "third"};
  size_t lens[] = {5, 6, 5}, i;
  llmkit_vectors* v = NULL;
  llmkit_client* c;
  if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--timing") != 0)) {
    fputs("usage: chat http://127.0.0.1:PORT [--timing]   (test/upstream/upstream.py)\n", stderr);
    return 2;
  }
  timing = argc == 3;
  for (i = 0; i < 4; ++i) {
    c = client_for(providers[i], argv[1]);
    if (c == NULL) return 1;
    chat(c, providers[i], 0, NULL, NULL);
    chat(c, providers[i], 1, NULL, NULL);
    llmkit_client_free(c);
  }
  c = client_for("openai", argv[1]);
  if (c == NULL) return 1;
  chat(c, "openai", 0, "status=429,retry_after_ms=200,times=1,id=chat-example", NULL);
  chat(c, "openai", 0, "status=429,retry_after=2", "1000");
  chat(c, "openai", 1, "truncate", NULL);
  if (llmkit_client_embed(c, NULL, texts, lens, 3, NULL, NULL, &v) == LLMKIT_OK) {
    for (i = 0; i < llmkit_vectors_count(v); ++i) {
      const float* values;
      size_t dims;
      llmkit_vectors_get(v, i, &values, &dims);
      printf("embedding %zu (\"%s\"): %zu dimensions, first %.0f\n", i, texts[i], dims, values[0]);
    }
  }
  llmkit_vectors_free(v);
  llmkit_client_free(c);
  return 0;
}
