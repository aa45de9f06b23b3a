/* `llmkit replay` and `llmkit chat`: provider answers through the public
 * API only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Exit codes of replay and chat beyond 0, 1 and 2. */
enum { EXIT_PROVIDER_ERROR = 3 };

static int replay_embeddings(const char* provider, const char* body, size_t len) {
  llmkit_vectors* v = NULL;
  llmkit_status st = llmkit_vectors_parse(provider, body, len, &v);
  size_t i, k;
  if (st != LLMKIT_OK) {
    fprintf(stderr, "llmkit: %s: %s\n", llmkit_status_str(st), llmkit_last_error());
    return st == LLMKIT_PROVIDER_ERROR || st == LLMKIT_INVALID_ARGUMENT ? 2 : EXIT_PROVIDER_ERROR;
  }
  fputs("{\"embeddings\":[", stdout);
  for (i = 0; i < llmkit_vectors_count(v); ++i) {
    const float* values;
    size_t dims;
    llmkit_vectors_get(v, i, &values, &dims);
    fputs(i ? ",[" : "[", stdout);
    for (k = 0; k < dims; ++k) printf(k ? ",%.9g" : "%.9g", (double)values[k]);
    putchar(']');
  }
  printf("],\"usage\":{\"input_tokens\":%lld}}\n", (long long)llmkit_vectors_input_tokens(v));
  llmkit_vectors_free(v);
  return 0;
}

int replay(int argc, char** argv) {
  const char *provider = NULL, *file = NULL, *json;
  int stream = 0, embeddings = 0, i, rc;
  llmkit_response* response = NULL;
  llmkit_status st;
  size_t len, json_len;
  char* body;

  for (i = 0; i < argc; ++i) {
    if (strcmp(argv[i], "--provider") == 0 && i + 1 < argc) {
      provider = argv[++i];
    } else if (strcmp(argv[i], "--stream") == 0) {
      stream = 1;
    } else if (strcmp(argv[i], "--embeddings") == 0) {
      embeddings = 1;
    } else if (file == NULL && argv[i][0] != '-') {
      file = argv[i];
    } else {
      return usage(stderr);
    }
  }
  if (provider == NULL || file == NULL) return usage(stderr);
  body = read_all(file, &len);
  if (body == NULL) return 2;
  if (embeddings) {
    rc = replay_embeddings(provider, body, len);
    free(body);
    return rc;
  }
  st = llmkit_response_parse(provider, body, len, stream, &response);
  free(body);
  if (response == NULL) {
    fprintf(stderr, "llmkit: %s: %s\n", llmkit_status_str(st), llmkit_last_error());
    return 2;
  }
  llmkit_response_json(response, &json, &json_len);
  fwrite(json, 1, json_len, stdout);
  putchar('\n');
  llmkit_response_free(response);
  return st == LLMKIT_OK ? 0 : EXIT_PROVIDER_ERROR;
}

static llmkit_status print_chunk(const llmkit_chunk* chunk, void* user_data) {
  size_t len;
  const char* text = llmkit_chunk_text(chunk, &len);
  (void)user_data;
  if (llmkit_chunk_get_kind(chunk) == LLMKIT_CHUNK_TEXT) {
    fwrite(text, 1, len, stdout);
    fflush(stdout);
  }
  return LLMKIT_OK;
}

int chat(int argc, char** argv) {
  const char *provider = NULL, *model = NULL, *base_url = NULL, *prompt = NULL, *text;
  int stream = 0, i;
  llmkit_options* options = NULL;
  llmkit_client* client = NULL;
  llmkit_request* request = NULL;
  llmkit_response* response = NULL;
  llmkit_status st;
  double input = 0, output = 0, latency = 0, first = -1;

  for (i = 0; i < argc; ++i) {
    if (strcmp(argv[i], "--provider") == 0 && i + 1 < argc) {
      provider = argv[++i];
    } else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) {
      model = argv[++i];
    } else if (strcmp(argv[i], "--base-url") == 0 && i + 1 < argc) {
      base_url = argv[++i];
    } else if (strcmp(argv[i], "--stream") == 0) {
      stream = 1;
    } else if (prompt == NULL && argv[i][0] != '-') {
      prompt = argv[i];
    } else {
      return usage(stderr);
    }
  }
  if (provider == NULL || model == NULL || prompt == NULL) return usage(stderr);
  st = llmkit_options_new(&options);
  if (st == LLMKIT_OK) st = llmkit_options_set(options, "provider", provider);
  if (st == LLMKIT_OK && base_url) st = llmkit_options_set(options, "base_url", base_url);
  if (st == LLMKIT_OK) st = llmkit_client_new(options, &client);
  if (st == LLMKIT_OK) st = llmkit_request_new(&request);
  if (st == LLMKIT_OK) st = llmkit_request_set(request, "model", model);
  if (st == LLMKIT_OK) st = llmkit_request_add_message(request, "user", prompt);
  if (st != LLMKIT_OK) {
    fail(st);
  } else {
    st = llmkit_client_chat(client, request, NULL, NULL, stream ? print_chunk : NULL, NULL,
                            &response);
    if (response != NULL) {
      if (!stream && llmkit_response_get(response, "text", &text, NULL) == LLMKIT_OK) {
        fputs(text, stdout);
      }
      putchar('\n');
      llmkit_response_number(response, "input_tokens", &input);
      llmkit_response_number(response, "output_tokens", &output);
      llmkit_response_number(response, "latency_ms", &latency);
      llmkit_response_number(response, "first_token_ms", &first);
      fprintf(stderr, "finish %s, %.0f input tokens, %.0f output tokens, %.1f ms",
              llmkit_finish_reason_str(llmkit_response_finish_reason(response)), input, output,
              latency);
      if (first >= 0) fprintf(stderr, ", first token after %.1f ms", first);
      fputc('\n', stderr);
    }
    if (st != LLMKIT_OK) fail(st);
  }
  llmkit_response_free(response);
  llmkit_request_free(request);
  llmkit_client_free(client);
  llmkit_options_free(options);
  if (st == LLMKIT_OK) return 0;
  return response != NULL ? EXIT_PROVIDER_ERROR : 1;
}
