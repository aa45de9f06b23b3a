/* One rate limit for every process on the host: five requests a minute per
 * key, kept in shared memory under the name given. Run it twice with the
 * same name and the second run gets what the first left.
 * usage: ratelimit NAME [N]   (asks N times for "user-42", default 3) */
#include <llmkit.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  llmkit_options* opts;
  llmkit_ratelimiter* rl;
  int i, n = argc > 2 ? atoi(argv[2]) : 3;
  if (argc < 2) return fprintf(stderr, "usage: ratelimit NAME [N]\n"), 2;

  llmkit_options_new(&opts);
  llmkit_options_set(opts, "requests", "5"); /* a minute */
  llmkit_options_set(opts, "backend", "shm");
  llmkit_options_set(opts, "shm.name", argv[1]);
  if (llmkit_ratelimiter_new(opts, &rl) != LLMKIT_OK) {
    return fprintf(stderr, "%s\n", llmkit_last_error()), 1;
  }
  llmkit_options_free(opts);

  for (i = 1; i <= n; i++) {
    int allowed;
    int64_t retry_ms, left;
    if (llmkit_ratelimiter_check(rl, "user-42", 7, 0, &allowed, &retry_ms, &left, NULL) !=
        LLMKIT_OK) {
      return fprintf(stderr, "%s\n", llmkit_last_error()), 1;
    }
    if (allowed) {
      printf("request %d: admitted, %lld left this minute\n", i, (long long)left);
    } else {
      printf("request %d: refused, retry in %lld s\n", i, (long long)((retry_ms + 999) / 1000));
    }
  }
  llmkit_ratelimiter_free(rl);
  return 0;
}
