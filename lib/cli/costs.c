/* `llmkit costs`: the traces table summed, through llmkit_costs_query(),
 * as an aligned table or as its JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The figures, in the order llmkit_costs_number() names them. */
static const char* const kFigures[] = {
    "requests",         "errors",        "cache_hits",          "unpriced",
    "input_tokens",     "output_tokens", "cached_input_tokens", "cache_write_tokens",
    "reasoning_tokens", "cost_usd"};
enum { N_FIGURES = sizeof kFigures / sizeof kFigures[0], MAX_GROUPS = 6, CELL = 64 };

/* The flags that become query options of the same name. */
static const char* const kQueryFlags[] = {"by",  "per",         "since", "until",
                                          "top", "application", "model", "caller"};

/* Copies `text` into a cell, cut to fit. */
static void put(char* cell, const char* text) {
  size_t len = strlen(text);
  if (len >= CELL) len = CELL - 1;
  memcpy(cell, text, len);
  cell[len] = '\0';
}

/* The column names of the groups: --by's words, then "time" with --per. */
static int group_names(const char* by, int per, char names[MAX_GROUPS][CELL]) {
  int n = 0;
  while (*by != '\0' && n < MAX_GROUPS - 1) {
    size_t len = strcspn(by, ",");
    if (len >= CELL) len = CELL - 1;
    memcpy(names[n], by, len);
    names[n++][len] = '\0';
    by += strcspn(by, ",");
    if (*by == ',') ++by;
  }
  if (per) strcpy(names[n++], "time");
  return n;
}

/* Fills row `r` (the header when r is 0, the total when `row` is
 * LLMKIT_COSTS_TOTAL) of `cells`: the groups, then the figures. */
static void fill_row(const llmkit_costs* costs, size_t row, int n_groups,
                     char names[MAX_GROUPS][CELL], char (*cells)[CELL]) {
  int c;
  for (c = 0; c < n_groups; ++c) {
    const char* v = "";
    if (row == LLMKIT_COSTS_TOTAL) {
      v = c == 0 ? "total" : "";
    } else if (names[c][0] == '\0') {
      v = " "; /* the column that only names the total */
    } else if (llmkit_costs_get(costs, row, names[c], &v) != LLMKIT_OK) {
      v = "?";
    }
    put(cells[c], *v ? v : "-");
  }
  for (c = 0; c < N_FIGURES; ++c) {
    double v = 0;
    llmkit_costs_number(costs, row, kFigures[c], &v);
    snprintf(cells[n_groups + c], CELL, c == N_FIGURES - 1 ? "%.6f" : "%.0f", v);
  }
}

static int print_table(const llmkit_costs* costs, const char* by, int per) {
  char names[MAX_GROUPS][CELL];
  int n_groups = group_names(by, per, names);
  int n_cols;
  size_t n_rows;
  char(*cells)[CELL];
  int width[MAX_GROUPS + N_FIGURES] = {0};
  size_t r;
  int c;
  if (n_groups == 0) names[n_groups++][0] = '\0';
  n_cols = n_groups + N_FIGURES;
  n_rows = llmkit_costs_count(costs) + 2; /* header and total */
  cells = calloc(n_rows * (size_t)n_cols, CELL);
  if (cells == NULL) {
    fputs("llmkit: out of memory\n", stderr);
    return 1;
  }
  for (c = 0; c < n_groups; ++c) put(cells[c], names[c]);
  for (c = 0; c < N_FIGURES; ++c) put(cells[n_groups + c], kFigures[c]);
  for (r = 1; r + 1 < n_rows; ++r) fill_row(costs, r - 1, n_groups, names, cells + r * n_cols);
  fill_row(costs, LLMKIT_COSTS_TOTAL, n_groups, names, cells + (n_rows - 1) * n_cols);
  for (r = 0; r < n_rows; ++r) {
    for (c = 0; c < n_cols; ++c) {
      const int len = (int)strlen(cells[r * n_cols + c]);
      if (len > width[c]) width[c] = len;
    }
  }
  for (r = 0; r < n_rows; ++r) {
    for (c = 0; c < n_cols; ++c) {
      /* Groups read left-aligned, figures right-aligned. */
      printf(c < n_groups ? "%-*s" : "%*s", width[c], cells[r * n_cols + c]);
      fputs(c + 1 < n_cols ? "  " : "\n", stdout);
    }
  }
  free(cells);
  return 0;
}

int costs(int argc, char** argv) {
  const char *db = NULL, *by = "model";
  int as_json = 0, per = 0, i, rc;
  llmkit_options* query;
  llmkit_costs* result = NULL;
  llmkit_status st;

  if ((st = llmkit_options_new(&query)) != LLMKIT_OK) return fail(st);
  for (i = 0; i < argc; ++i) {
    size_t k, matched = 0;
    if (strcmp(argv[i], "--json") == 0) {
      as_json = 1;
      continue;
    }
    if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
      db = argv[++i];
      continue;
    }
    for (k = 0; k < sizeof kQueryFlags / sizeof kQueryFlags[0]; ++k) {
      if (strncmp(argv[i], "--", 2) != 0 || strcmp(argv[i] + 2, kQueryFlags[k]) != 0) continue;
      if (i + 1 >= argc) break;
      if (strcmp(kQueryFlags[k], "by") == 0) by = argv[i + 1];
      if (strcmp(kQueryFlags[k], "per") == 0) per = 1;
      if ((st = llmkit_options_set(query, kQueryFlags[k], argv[++i])) != LLMKIT_OK) {
        llmkit_options_free(query);
        return fail(st);
      }
      matched = 1;
      break;
    }
    if (!matched) {
      llmkit_options_free(query);
      if (strncmp(argv[i], "--", 2) == 0 && i + 1 == argc) {
        fprintf(stderr, "llmkit: costs: %s needs a value (or is no flag of costs)\n", argv[i]);
        return 2;
      }
      return usage(stderr);
    }
  }
  if (db == NULL) {
    llmkit_options_free(query);
    fputs("llmkit: costs needs --db (a SQLite file or a postgresql:// URL)\n", stderr);
    return 2;
  }
  st = llmkit_costs_query(db, query, &result);
  llmkit_options_free(query);
  if (st != LLMKIT_OK) return st == LLMKIT_INVALID_ARGUMENT ? (fail(st), 2) : fail(st);
  if (as_json) {
    const char* json;
    size_t len;
    llmkit_costs_json(result, &json, &len);
    fwrite(json, 1, len, stdout);
    putchar('\n');
    rc = 0;
  } else {
    rc = print_table(result, by, per);
  }
  llmkit_costs_free(result);
  return rc;
}
