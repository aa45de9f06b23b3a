/* The response cache from C: the same request spelled two ways is one
 * entry; a cached answer replays as a stream; an embeddings batch sends
 * only the inputs the cache lacks. The "provider" is a function here, so
 * this runs offline. Build: cc cache.c $(pkg-config --cflags --libs llmkit) */
#include <stdio.h>
#include <string.h>

#include <llmkit.h>

static int check(llmkit_status st) {
  if (st != LLMKIT_OK) fprintf(stderr, "llmkit: %s\n", llmkit_last_error());
  return st == LLMKIT_OK;
}

/* Stands in for a provider call. */
static const char* provider_chat(void) {
  return "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,"
         "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
         "\"assistant\",\"content\":\"Paris is the capital of France.\"},"
         "\"finish_reason\":\"stop\"}]}";
}

static void chat(llmkit_cache* cache, const char* request) {
  char key[LLMKIT_CACHE_KEY_SIZE];
  llmkit_cache_use use;
  llmkit_cache_value* value = NULL;
  int fill = 0;
  if (!check(llmkit_cache_key(cache, "tenant-1", "openai", request, strlen(request), NULL, key,
                              &use)) ||
      !check(llmkit_cache_lookup(cache, key, 10000, NULL, &value, &fill))) {
    return;
  }
  if (value != NULL) {
    const char* data;
    size_t len;
    llmkit_cache_value_data(value, &data, &len);
    printf("hit  %.8s...: %zu bytes, replayed as a stream:", key, len);
    llmkit_replay* replay;
    if (check(llmkit_replay_new(data, len, 8, &replay))) {
      const char* chunk;
      size_t n = 0;
      while (llmkit_replay_next(replay, &chunk, &len) == LLMKIT_OK && chunk != NULL) ++n;
      printf(" %zu chunks\n", n);
      llmkit_replay_free(replay);
    }
    llmkit_cache_value_free(value);
    return;
  }
  printf("miss %.8s...: asking the provider\n", key);
  const char* answer = provider_chat();
  check(llmkit_cache_put(cache, key, answer, strlen(answer), 0));
}

static void embed(llmkit_cache* cache, const char* request) {
  llmkit_embeddings* batch;
  size_t misses;
  const char* upstream;
  size_t len;
  if (!check(
          llmkit_embeddings_new(cache, "tenant-1", "openai", request, strlen(request), &batch))) {
    return;
  }
  llmkit_embeddings_upstream(batch, &misses, &upstream, &len);
  printf("embeddings: %zu to ask for: %.*s\n", misses, (int)len, upstream ? upstream : "");
  /* Stands in for the provider: one vector per input asked for. */
  char answer[512] = "{\"data\":[";
  for (size_t i = 0; i < misses; ++i) {
    char item[96];
    snprintf(item, sizeof item, "%s{\"index\":%zu,\"embedding\":[%zu]}", i ? "," : "", i, i);
    strcat(answer, item);
  }
  strcat(answer, "],\"usage\":{\"prompt_tokens\":2,\"total_tokens\":2}}");
  const char* merged;
  if (check(llmkit_embeddings_complete(batch, misses ? answer : NULL, misses ? strlen(answer) : 0,
                                       0, &merged, &len))) {
    size_t items = 0;
    for (const char* p = merged; (p = strstr(p, "\"index\":")) != NULL; ++p) ++items;
    printf("embeddings: %zu vectors in the answer, in the order asked\n", items);
  }
  llmkit_embeddings_free(batch);
}

int main(void) {
  llmkit_options* options;
  llmkit_cache* cache;
  if (!check(llmkit_options_new(&options)) || !check(llmkit_cache_new(options, &cache))) return 1;
  chat(cache,
       "{\"model\":\"gpt-4o-mini\",\"temperature\":0,"
       "\"messages\":[{\"role\":\"user\",\"content\":\"Capital of France?\"}]}");
  /* The same request: other key order, 0.0 for 0, a stream flag. */
  chat(cache,
       "{\"messages\":[{\"content\":\"Capital of France?\",\"role\":\"user\"}],"
       "\"stream\":true,\"temperature\":0.0,\"model\":\"gpt-4o-mini\"}");
  embed(cache, "{\"model\":\"text-embedding-3-small\",\"input\":[\"a\",\"b\"]}");
  embed(cache, "{\"model\":\"text-embedding-3-small\",\"input\":[\"b\",\"c\",\"a\"]}");
  uint64_t hits, misses;
  llmkit_cache_stat(cache, "hits", &hits);
  llmkit_cache_stat(cache, "misses", &misses);
  printf("hits %llu, misses %llu\n", (unsigned long long)hits, (unsigned long long)misses);
  llmkit_cache_free(cache);
  llmkit_options_free(options);
  return 0;
}
