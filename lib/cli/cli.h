/* What the commands of the `llmkit` tool share. */
#ifndef LLMKIT_CLI_H
#define LLMKIT_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "llmkit.h"

/* Prints the usage to `out`; returns 0 for stdout, 2 otherwise. */
int usage(FILE* out);
/* Prints the status and the last error to stderr; returns 1. */
int fail(llmkit_status st);
/* Reads all of `path` (stdin when NULL) into a malloc'd buffer of *len
 * bytes; NULL (after a message) when it cannot. */
char* read_all(const char* path, size_t* len);

int replay(int argc, char** argv);
int chat(int argc, char** argv);
int costs(int argc, char** argv);
int serve_metrics(int argc, char** argv);

#endif
