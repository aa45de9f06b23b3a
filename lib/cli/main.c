/* The `llmkit` command-line tool. Plain C99 over the public API only, so it
 * is also proof that the C API is enough for a real program. */
#include <stdio.h>
#include <string.h>

#include "llmkit.h"

static int usage(FILE* out) {
  fputs(
      "usage: llmkit <command> [args]\n"
      "\n"
      "commands:\n"
      "  version     print the library version\n"
      "  statuses    list every status code with its name\n"
      "  help        show this text\n",
      out);
  return out == stdout ? 0 : 2;
}

static int statuses(void) {
  /* Walk codes until the library no longer knows one, so this list can
   * never drift from the header. */
  int code;
  for (code = 0;; ++code) {
    const char* name = llmkit_status_str((llmkit_status)code);
    if (strcmp(name, "UNKNOWN") == 0) break;
    printf("%2d %s\n", code, name);
  }
  return 0;
}

int main(int argc, char** argv) {
  const char* cmd;
  if (argc < 2) return usage(stderr);
  cmd = argv[1];
  if (strcmp(cmd, "version") == 0) {
    printf("llmkit %s\n", llmkit_version());
    return 0;
  }
  if (strcmp(cmd, "statuses") == 0) return statuses();
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    return usage(stdout);
  }
  fprintf(stderr, "llmkit: unknown command '%s'\n", cmd);
  return usage(stderr);
}
