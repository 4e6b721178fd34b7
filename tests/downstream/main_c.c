/* The C API from a downstream C program built against the installed recdb
 * (find_package(recdb), recdb::recdb_c). */
#include <recdb/c.h>

#include <stdio.h>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  recdb_options_t* options = recdb_options_create();
  recdb_options_set_create_if_missing(options, 1);
  recdb_t* db = NULL;
  char* err = NULL;
  recdb_status_t s = recdb_open(options, argv[1], &db, &err);
  recdb_options_destroy(options);
  if (s != RECDB_OK) return fprintf(stderr, "%s\n", err), recdb_free(err), 1;
  recdb_stats_t stats;
  s = recdb_get_stats(db, &stats, &err);
  if (s != RECDB_OK) return fprintf(stderr, "%s\n", err), recdb_free(err), 1;
  printf("downstream C ok: %lld events\n", (long long)stats.events);
  return recdb_close(db, NULL) == RECDB_OK ? 0 : 1;
}
