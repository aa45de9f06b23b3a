/* The `llmkit` command-line tool. Plain C99 over the public API only, so it
 * is also proof that the C API is enough for a real program. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "llmkit.h"

int usage(FILE* out) {
  fputs(
      "usage: llmkit <command> [args]\n"
      "\n"
      "commands:\n"
      "  version     print the library version\n"
      "  statuses    list every status code with its name\n"
      "  tokens encode|count|decode (--encoding NAME | --model NAME) [FILE]\n"
      "              encode: text to ids, one line separated by spaces\n"
      "              count:  text to its number of tokens\n"
      "              decode: ids (separated by white space) to text\n"
      "              reads FILE, or standard input without one; special-token\n"
      "              text is ordinary text\n"
      "  replay --provider P [--stream] [--embeddings] FILE\n"
      "              parse a recorded answer of provider P (openai, anthropic,\n"
      "              gemini, ollama) and print it normalised as one JSON object;\n"
      "              exit 0 for an answer, 3 for an error answer, 2 when FILE is\n"
      "              no answer\n"
      "  chat --provider P --model M [--base-url URL] [--stream] PROMPT\n"
      "              call the provider (its key from the usual environment\n"
      "              variable) and print the answer's text; a summary goes to\n"
      "              stderr; exit 3 for an error answer\n"
      "  costs --db DB [--by GROUPS] [--per hour|day] [--since T] [--until T]\n"
      "        [--top N] [--application A] [--model M] [--caller C] [--json]\n"
      "              sum cost, tokens and requests from the traces in DB (a SQLite\n"
      "              file or a postgresql:// URL), grouped by GROUPS (comma-separated\n"
      "              among application, model, provider, caller, deployment; default\n"
      "              model), costliest first; T is a duration back from now (24h,\n"
      "              7d), Unix seconds or an ISO-8601 UTC time; an aligned table, or\n"
      "              JSON with --json; exit 2 for a bad flag or value\n"
      "  serve-metrics --db DB --port N [--address A]\n"
      "              serve the call metrics of the traces in DB as Prometheus text\n"
      "              at http://A:N/metrics (A default 127.0.0.1; N 0: a free port,\n"
      "              printed first), until SIGINT or SIGTERM\n"
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

int fail(llmkit_status st) {
  fprintf(stderr, "llmkit: %s: %s\n", llmkit_status_str(st), llmkit_last_error());
  return 1;
}

char* read_all(const char* path, size_t* len) {
  FILE* f = path ? fopen(path, "rb") : stdin;
  size_t cap = 1 << 16, n = 0, got;
  char* buf;
  if (f == NULL) {
    perror(path);
    return NULL;
  }
  buf = malloc(cap);
  while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      char* bigger = realloc(buf, cap *= 2);
      if (bigger == NULL) free(buf);
      buf = bigger;
    }
  }
  if (ferror(f)) {
    perror(path ? path : "stdin");
    free(buf);
    buf = NULL;
  }
  if (path) fclose(f);
  *len = n;
  return buf;
}

static int tokens(int argc, char** argv) {
  const char *op, *encoding = NULL, *model = NULL, *file = NULL;
  llmkit_tokenizer* tok;
  llmkit_status st;
  char* text;
  size_t len;
  int i, rc = 0;

  if (argc < 1) return usage(stderr);
  op = argv[0];
  for (i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--encoding") == 0 && i + 1 < argc) {
      encoding = argv[++i];
    } else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) {
      model = argv[++i];
    } else if (file == NULL && argv[i][0] != '-') {
      file = argv[i];
    } else {
      return usage(stderr);
    }
  }
  if ((encoding == NULL) == (model == NULL)) {
    fputs("llmkit: give exactly one of --encoding and --model\n", stderr);
    return 2;
  }
  if (model != NULL && (st = llmkit_encoding_for_model(model, &encoding)) != LLMKIT_OK) {
    return fail(st);
  }
  if ((st = llmkit_tokenizer_new(encoding, &tok)) != LLMKIT_OK) return fail(st);
  text = read_all(file, &len);
  if (text == NULL) {
    llmkit_tokenizer_free(tok);
    return 1;
  }

  if (strcmp(op, "count") == 0) {
    size_t count;
    st = llmkit_tokenizer_count(tok, text, len, LLMKIT_SPECIAL_AS_TEXT, &count);
    if (st == LLMKIT_OK) printf("%zu\n", count);
  } else if (strcmp(op, "encode") == 0) {
    uint32_t* ids = malloc((len ? len : 1) * sizeof *ids); /* len ids always suffice */
    size_t n, k;
    st = ids ? llmkit_tokenizer_encode(tok, text, len, LLMKIT_SPECIAL_AS_TEXT, ids, len, &n)
             : LLMKIT_OUT_OF_MEMORY;
    for (k = 0; st == LLMKIT_OK && k < n; ++k) printf(k ? " %u" : "%u", (unsigned)ids[k]);
    if (st == LLMKIT_OK) putchar('\n');
    free(ids);
  } else if (strcmp(op, "decode") == 0) {
    uint32_t* ids = malloc((len / 2 + 1) * sizeof *ids); /* each id takes >= 2 bytes */
    size_t n = 0, out_len = 0;
    char *p = text, *end = text + len, *out = NULL;
    st = ids ? LLMKIT_OK : LLMKIT_OUT_OF_MEMORY;
    while (st == LLMKIT_OK) {
      unsigned long v;
      char* next;
      while (p < end && strchr(" \t\r\n", *p) && *p) ++p;
      if (p >= end) break;
      v = strtoul(p, &next, 10);
      if (next == p || next > end || v > 0xFFFFFFFFul) {
        fprintf(stderr, "llmkit: not a token id at byte %ld\n", (long)(p - text));
        rc = 1;
        break;
      }
      ids[n++] = (uint32_t)v;
      p = next;
    }
    if (st == LLMKIT_OK && rc == 0) st = llmkit_tokenizer_decode(tok, ids, n, NULL, 0, &out_len);
    if (st == LLMKIT_OK && rc == 0) {
      out = malloc(out_len ? out_len : 1);
      st =
          out ? llmkit_tokenizer_decode(tok, ids, n, out, out_len, &out_len) : LLMKIT_OUT_OF_MEMORY;
      if (st == LLMKIT_OK) fwrite(out, 1, out_len, stdout);
    }
    free(out);
    free(ids);
  } else {
    rc = usage(stderr);
  }
  if (st != LLMKIT_OK) rc = fail(st);
  free(text);
  llmkit_tokenizer_free(tok);
  return rc;
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
  if (strcmp(cmd, "tokens") == 0) return tokens(argc - 2, argv + 2);
  if (strcmp(cmd, "replay") == 0) return replay(argc - 2, argv + 2);
  if (strcmp(cmd, "chat") == 0) return chat(argc - 2, argv + 2);
  if (strcmp(cmd, "costs") == 0) return costs(argc - 2, argv + 2);
  if (strcmp(cmd, "serve-metrics") == 0) return serve_metrics(argc - 2, argv + 2);
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    return usage(stdout);
  }
  fprintf(stderr, "llmkit: unknown command '%s'\n", cmd);
  return usage(stderr);
}
