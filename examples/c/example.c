/* The README's C example: version, options and the error model. */
#include <stdio.h>

#include <llmkit.h>

int main(void) {
  llmkit_options* opts;
  const char* model;
  llmkit_status st;

  printf("llmkit %s\n", llmkit_version());
  if (llmkit_options_new(&opts) != LLMKIT_OK) return 1;
  llmkit_options_set(opts, "model", "gpt-4o-mini");
  if (llmkit_options_get(opts, "model", &model) == LLMKIT_OK) printf("model = %s\n", model);

  st = llmkit_options_get(opts, "temperature", &model);
  if (st != LLMKIT_OK) printf("error %s: %s\n", llmkit_status_str(st), llmkit_last_error());

  llmkit_options_free(opts);
  return 0;
}
