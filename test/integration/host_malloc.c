/* A host program linked with llmkit: its malloc and operator new must not
 * be replaced by mimalloc, while llmkit's own objects live in mimalloc's
 * heap (when the library was built with mimalloc). Exit 0 = all true. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmkit.h"

/* The file name of the library that provides `symbol` to this process. */
static const char* provider(const char* symbol) {
  Dl_info info;
  void* addr = dlsym(RTLD_DEFAULT, symbol);
  if (addr == NULL || dladdr(addr, &info) == 0 || info.dli_fname == NULL) return "?";
  printf("%s comes from %s\n", symbol, info.dli_fname);
  return info.dli_fname;
}

int main(int argc, char** argv) {
  int want_mimalloc = argc > 1 && strcmp(argv[1], "mimalloc") == 0;
  int (*in_mi_heap)(const void*) = NULL;
  llmkit_options* opts = NULL;
  void* host = malloc(64);
  int ok = 1;

  if (llmkit_options_new(&opts) != LLMKIT_OK) return 2;
  *(void**)&in_mi_heap = dlsym(RTLD_DEFAULT, "mi_is_in_heap_region");

  /* Whatever provides malloc, free and operator new (glibc, or a
   * sanitizer's interceptors), it is never mimalloc. */
  const char* symbols[] = {"malloc", "free", "_Znwm", "_ZdlPv"};
  for (size_t i = 0; i < sizeof symbols / sizeof *symbols; ++i) {
    if (strstr(provider(symbols[i]), "mimalloc") != NULL) {
      printf("FAIL: %s is mimalloc's\n", symbols[i]);
      ok = 0;
    }
  }
  if (want_mimalloc) {
    if (in_mi_heap == NULL) {
      puts("FAIL: mimalloc is not loaded");
      ok = 0;
    } else {
      if (strstr(provider("malloc"), "libc.so") == NULL) {
        puts("FAIL: malloc is not glibc's");
        ok = 0;
      }
      if (in_mi_heap(host)) {
        puts("FAIL: host malloc returned mimalloc memory");
        ok = 0;
      }
      if (!in_mi_heap(opts)) {
        puts("FAIL: llmkit objects are not in mimalloc's heap");
        ok = 0;
      }
    }
  }
  llmkit_options_free(opts);
  free(host);
  puts(ok ? "host malloc: ok" : "host malloc: FAILED");
  return ok ? 0 : 1;
}
