/* `llmkit serve-metrics`: the call metrics of a traces table over HTTP for
 * Prometheus to scrape, until SIGINT or SIGTERM. A process of its own sees
 * no client's memory, so it reads what every client wrote to the table
 * (docs/metrics.md says why, and what only a live client can serve). */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int serve_metrics(int argc, char** argv) {
  const char *db = NULL, *address = "127.0.0.1", *text;
  long port = -1;
  llmkit_metrics_server* server;
  llmkit_status st;
  sigset_t stop;
  int i, sig;

  for (i = 0; i < argc; ++i) {
    if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
      db = argv[++i];
    } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      char* end;
      port = strtol(argv[++i], &end, 10);
      if (*end != '\0' || port < 0 || port > 65535) port = -2;
    } else if (strcmp(argv[i], "--address") == 0 && i + 1 < argc) {
      address = argv[++i];
    } else {
      return usage(stderr);
    }
  }
  if (db == NULL || port < 0) {
    fputs(port == -2 ? "llmkit: --port takes 0 to 65535\n"
                     : "llmkit: serve-metrics needs --db DB and --port N\n",
          stderr);
    return 2;
  }
  /* Read the table once first: a wrong path fails here, not at each scrape. */
  if ((st = llmkit_traces_metrics(db, &text, NULL)) != LLMKIT_OK) return fail(st);
  /* Blocked before the server's thread starts, so that only sigwait sees them. */
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  if ((st = llmkit_traces_serve_metrics(db, address, (int)port, &server)) != LLMKIT_OK) {
    return fail(st);
  }
  printf("serving http://%s%s%s:%d/metrics\n", strchr(address, ':') ? "[" : "", address,
         strchr(address, ':') ? "]" : "", llmkit_metrics_server_port(server));
  fflush(stdout);
  sigwait(&stop, &sig);
  llmkit_metrics_server_free(server);
  return 0;
}
