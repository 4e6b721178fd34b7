/* The bar scenario of tests/capi/ml100k_reference.cc through the C API:
 * import ml-100k, train, recommend for user 1, forget user 2, retrain with
 * the stored weights, recommend again. The items (in order), their scores
 * (bit for bit, as %.17g) and the forgotten event count must equal the C++
 * API's, read from EXPECTED (argv[1], written by ml100k_reference).
 * Exits 77 (skipped) when the reference found no ml-100k. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recdb/c.h"

#define NOW 893300000 /* as ml100k_reference.cc */
#define MAX_LINE 4096

static int RemoveEntry(const char* path, const struct stat* sb, int flag, struct FTW* ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static int Die(const char* what, recdb_status_t s, char* err) {
  fprintf(stderr, "%s: %s: %s\n", what, recdb_status_name(s), err ? err : "");
  recdb_free(err);
  return 1;
}

/* Renders results as the reference does: "TAG ITEM SCORE ...". */
static void Render(const char* tag, const recdb_results_t* r, char* out, size_t n) {
  size_t used = (size_t)snprintf(out, n, "%s", tag);
  for (size_t i = 0; i < recdb_results_count(r) && used < n; ++i) {
    used += (size_t)snprintf(out + used, n - used, " %s %.17g", recdb_results_item(r, i),
                             recdb_results_score(r, i));
  }
}

/* Finds the line of `expected` starting with "TAG " (or equal to TAG). */
static const char* FindLine(char lines[][MAX_LINE], int count, const char* tag) {
  size_t len = strlen(tag);
  for (int i = 0; i < count; ++i) {
    if (strncmp(lines[i], tag, len) == 0 && (lines[i][len] == ' ' || lines[i][len] == '\0')) {
      return lines[i];
    }
  }
  return "";
}

static int Compare(const char* what, const char* got, const char* want) {
  if (strcmp(got, want) == 0) return 0;
  fprintf(stderr, "%s differs from the C++ API:\n  C API: %s\n  C++:   %s\n", what, got, want);
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s EXPECTED\n", argv[0]);
    return 2;
  }
  static char expected[8][MAX_LINE];
  int lines = 0;
  FILE* f = fopen(argv[1], "r");
  if (f == NULL) {
    perror(argv[1]);
    return 1;
  }
  while (lines < 8 && fgets(expected[lines], MAX_LINE, f) != NULL) {
    expected[lines][strcspn(expected[lines], "\n")] = '\0';
    ++lines;
  }
  fclose(f);
  if (lines > 0 && strcmp(expected[0], "skip") == 0) {
    printf("ml-100k not found; skipping\n");
    return 77;
  }
  const char* ml = FindLine(expected, lines, "ml100k");
  if (strlen(ml) < 8) {
    fprintf(stderr, "%s: no ml100k line\n", argv[1]);
    return 1;
  }
  ml += 7;

  const char* tmp = getenv("TMPDIR");
  char base[512], path[1024], data[1024];
  snprintf(base, sizeof base, "%s/recdb_capi_ml_XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(base) == NULL) return perror("mkdtemp"), 1;
  snprintf(path, sizeof path, "%s/db", base);
  snprintf(data, sizeof data, "%s/u.data", ml);

  recdb_options_t* options = recdb_options_create();
  recdb_options_set_create_if_missing(options, 1);
  recdb_options_set_error_if_exists(options, 1);
  recdb_options_set_background_threads(options, 0);
  recdb_t* db = NULL;
  char* err = NULL;
  recdb_status_t s = recdb_open(options, path, &db, &err);
  recdb_options_destroy(options);
  if (s != RECDB_OK) return Die("open", s, err);

  /* 1. import u.data: user item rating timestamp, tab-separated. */
  FILE* in = fopen(data, "r");
  if (in == NULL) return perror(data), 1;
  recdb_events_t* batch = recdb_events_create();
  char user[64], item[64];
  double rating;
  long long ts;
  while (fscanf(in, "%63s %63s %lf %lld", user, item, &rating, &ts) == 4) {
    recdb_events_add(batch, user, item, "rating", (int64_t)ts);
    recdb_events_set_value(batch, rating);
    if (recdb_events_count(batch) == 5000) {
      if ((s = recdb_record_events(db, batch, 0, &err)) != RECDB_OK) return Die("record", s, err);
      recdb_events_clear(batch);
    }
  }
  fclose(in);
  if ((s = recdb_record_events(db, batch, 0, &err)) != RECDB_OK) return Die("record", s, err);
  recdb_events_destroy(batch);

  /* 2-3. train, recommend for user 1. */
  if ((s = recdb_train(db, NULL, NULL, &err)) != RECDB_OK) return Die("train", s, err);
  recdb_recommend_options_t* request = recdb_recommend_options_create();
  recdb_recommend_options_set_k(request, 10);
  recdb_recommend_options_set_now(request, NOW);
  recdb_results_t* results = NULL;
  if ((s = recdb_recommend(db, "1", request, &results, &err)) != RECDB_OK) {
    return Die("recommend", s, err);
  }
  static char got[MAX_LINE];
  int failed = 0;
  Render("before", results, got, sizeof got);
  failed |= Compare("recommend for user 1", got, FindLine(expected, lines, "before"));
  recdb_results_destroy(results);

  /* 4. forget user 2. */
  recdb_erasure_receipt_t receipt;
  if ((s = recdb_forget_user(db, "2", 0, &receipt, &err)) != RECDB_OK) {
    return Die("forget", s, err);
  }
  snprintf(got, sizeof got, "forgot %lld", (long long)receipt.events_removed);
  failed |= Compare("forget user 2", got, FindLine(expected, lines, "forgot"));

  /* 5-6. retrain with the stored weights, recommend again. */
  recdb_train_options_t* reuse = recdb_train_options_create();
  recdb_train_options_set_reuse_stored_weights(reuse, 1);
  if ((s = recdb_train(db, reuse, NULL, &err)) != RECDB_OK) return Die("retrain", s, err);
  recdb_train_options_destroy(reuse);
  if ((s = recdb_recommend(db, "1", request, &results, &err)) != RECDB_OK) {
    return Die("recommend after forget", s, err);
  }
  Render("after", results, got, sizeof got);
  failed |= Compare("recommend after forgetting user 2", got, FindLine(expected, lines, "after"));
  recdb_results_destroy(results);
  recdb_recommend_options_destroy(request);

  if ((s = recdb_close(db, &err)) != RECDB_OK) return Die("close", s, err);
  nftw(base, RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
  if (!failed) printf("C API == C++ API on ml-100k (recommend, forget, recommend)\n");
  return failed;
}
