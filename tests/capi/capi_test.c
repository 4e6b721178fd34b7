/* The C API (recdb/c.h) from C11: every function, its success and its error
 * paths, on a real database in a temporary directory. Exits 0 when every
 * check passes; prints each failed check and exits 1 otherwise. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "recdb/c.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                    \
  do {                                                                 \
    ++checks;                                                          \
    if (!(cond)) {                                                     \
      ++failures;                                                      \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                  \
  } while (0)

/* Checks that `call` returned `want`, printing the message otherwise, and
 * that the message is NULL exactly on success. Frees the message. */
#define EXPECT_STATUS(want, call)                                                   \
  do {                                                                              \
    char* err_ = (char*)1;                                                          \
    recdb_status_t got_ = call_with_err_(&err_, call);                              \
    ++checks;                                                                       \
    if (got_ != (want) || ((got_ == RECDB_OK) != (err_ == NULL))) {                 \
      ++failures;                                                                   \
      fprintf(stderr, "%s:%d: %s returned %s (%s), want %s\n", __FILE__, __LINE__, \
              #call, recdb_status_name(got_), err_ ? err_ : "no message",           \
              recdb_status_name(want));                                             \
    }                                                                               \
    recdb_free(err_);                                                               \
  } while (0)

/* `call` names `err` as its errmsg argument. */
#define call_with_err_(errp, call) (err = (errp), (call))
static char** err;

static int RemoveEntry(const char* path, const struct stat* sb, int flag, struct FTW* ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void RemoveTree(const char* path) { nftw(path, RemoveEntry, 16, FTW_DEPTH | FTW_PHYS); }

/* out = dir + "/" + name; exits if it does not fit in n bytes. */
static void Join(char* out, size_t n, const char* dir, const char* name) {
  size_t a = strlen(dir), b = strlen(name);
  if (a + b + 2 > n) {
    fprintf(stderr, "path too long: %s/%s\n", dir, name);
    exit(1);
  }
  memcpy(out, dir, a);
  out[a] = '/';
  memcpy(out + a + 1, name, b + 1);
}

/* 20 items in two clusters (a0..a9 category A, b0..b9 category B); 40 users,
 * the first 20 view A items, the rest B items. */
static void FillWorld(recdb_t* db) {
  recdb_items_t* items = recdb_items_create();
  char id[16], title[32];
  for (int i = 0; i < 20; ++i) {
    snprintf(id, sizeof id, "%c%d", i < 10 ? 'a' : 'b', i % 10);
    snprintf(title, sizeof title, "%s %d", i < 10 ? "Alpha" : "Beta", i % 10);
    CHECK(recdb_items_add(items, id) == RECDB_OK);
    CHECK(recdb_items_set_title(items, title) == RECDB_OK);
    CHECK(recdb_items_add_category(items, i < 10 ? "A" : "B") == RECDB_OK);
    CHECK(recdb_items_set_attribute_string(items, "cluster", i < 10 ? "a" : "b") == RECDB_OK);
  }
  EXPECT_STATUS(RECDB_OK, recdb_upsert_items(db, items, 0, err));
  recdb_items_destroy(items);

  recdb_events_t* events = recdb_events_create();
  char user[16], item[16];
  for (int u = 0; u < 40; ++u) {
    for (int j = 0; j < 6; ++j) {
      snprintf(user, sizeof user, "u%d", u);
      snprintf(item, sizeof item, "%c%d", u < 20 ? 'a' : 'b', (u + j) % 10);
      CHECK(recdb_events_add(events, user, item, "view", 1700000000 + u * 100 + j) == RECDB_OK);
    }
  }
  CHECK(recdb_events_count(events) == 240);
  EXPECT_STATUS(RECDB_OK, recdb_record_events(db, events, 0, err));
  recdb_events_destroy(events);
}

static void TestStatusAndVersion(void) {
  CHECK(strcmp(recdb_status_name(RECDB_OK), "ok") == 0);
  CHECK(strcmp(recdb_status_name(RECDB_NOT_FOUND), "not_found") == 0);
  CHECK(strcmp(recdb_status_name(RECDB_INVALID_ARGUMENT), "invalid_argument") == 0);
  CHECK(strcmp(recdb_status_name(RECDB_INTERNAL), "internal") == 0);
  /* Enum arguments are ints: any value is a defined input (c.h). */
  CHECK(strcmp(recdb_status_name(99), "unknown") == 0);
  CHECK(strcmp(recdb_status_name(-1), "unknown") == 0);
  CHECK(strlen(recdb_version()) >= 5);
  recdb_free(NULL);
}

static void TestOpenErrors(const char* base) {
  char path[512];
  Join(path, sizeof path, base, "open");
  recdb_t* db = (recdb_t*)1;
  /* Missing and no create_if_missing: NOT_FOUND, *db NULL. */
  EXPECT_STATUS(RECDB_NOT_FOUND, recdb_open(NULL, path, &db, err));
  CHECK(db == NULL);
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_open(NULL, NULL, &db, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_open(NULL, path, NULL, err));

  recdb_options_t* o = recdb_options_create();
  recdb_options_set_create_if_missing(o, 1);
  recdb_options_set_background_threads(o, 0);
  recdb_options_set_retrain_interval_seconds(o, 0);
  recdb_options_set_index_checkpoint_interval_seconds(o, 0);
  recdb_options_set_auto_create_users(o, 1);
  recdb_options_set_auto_create_items(o, 1);
  EXPECT_STATUS(RECDB_OK, recdb_open(o, path, &db, err));
  CHECK(db != NULL);
  /* A second writer on a locked directory fails with a status, not a crash. */
  recdb_t* second = NULL;
  EXPECT_STATUS(RECDB_IO_ERROR, recdb_open(o, path, &second, err));
  CHECK(second == NULL);
  EXPECT_STATUS(RECDB_OK, recdb_close(db, err));
  EXPECT_STATUS(RECDB_OK, recdb_close(NULL, err));

  recdb_options_set_error_if_exists(o, 1);
  EXPECT_STATUS(RECDB_ALREADY_EXISTS, recdb_open(o, path, &db, err));
  recdb_options_set_error_if_exists(o, 0);

  /* Read-only: writes are FAILED_PRECONDITION. */
  recdb_options_set_read_only(o, 1);
  EXPECT_STATUS(RECDB_OK, recdb_open(o, path, &db, err));
  recdb_events_t* ev = recdb_events_create();
  CHECK(recdb_events_add(ev, "u", "i", "view", 1700000000) == RECDB_OK);
  EXPECT_STATUS(RECDB_FAILED_PRECONDITION, recdb_record_events(db, ev, 0, err));
  recdb_events_destroy(ev);
  EXPECT_STATUS(RECDB_OK, recdb_close(db, err));

  /* Without auto-creation an unknown user is INVALID_ARGUMENT. */
  recdb_options_set_read_only(o, 0);
  recdb_options_set_auto_create_users(o, 0);
  recdb_options_set_auto_create_items(o, 0);
  EXPECT_STATUS(RECDB_OK, recdb_open(o, path, &db, err));
  ev = recdb_events_create();
  CHECK(recdb_events_add(ev, "nobody", "nothing", "view", 1700000000) == RECDB_OK);
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_record_events(db, ev, 0, err));
  recdb_events_destroy(ev);
  EXPECT_STATUS(RECDB_OK, recdb_close(db, err));
  recdb_options_destroy(o);
  recdb_options_destroy(NULL);
}

static void TestBuilders(void) {
  recdb_events_t* ev = recdb_events_create();
  CHECK(recdb_events_set_value(ev, 1) == RECDB_FAILED_PRECONDITION);
  CHECK(recdb_events_add_context(ev, "k", "v") == RECDB_FAILED_PRECONDITION);
  CHECK(recdb_events_add(ev, NULL, "i", "view", 0) == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_events_add(NULL, "u", "i", "view", 0) == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_events_add(ev, "u", "i", "view", 0) == RECDB_OK);
  CHECK(recdb_events_add_context(ev, NULL, "v") == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_events_count(ev) == 1);
  recdb_events_clear(ev);
  CHECK(recdb_events_count(ev) == 0);
  CHECK(recdb_events_count(NULL) == 0);
  recdb_events_destroy(ev);

  recdb_items_t* items = recdb_items_create();
  CHECK(recdb_items_set_title(items, "t") == RECDB_FAILED_PRECONDITION);
  CHECK(recdb_items_add(items, NULL) == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_items_add(items, "x") == RECDB_OK);
  CHECK(recdb_items_set_title(items, NULL) == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_items_set_attribute_number(items, NULL, 1) == RECDB_INVALID_ARGUMENT);
  const char* bad_list[] = {"a", NULL};
  CHECK(recdb_items_set_attribute_list(items, "l", bad_list, 2) == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_items_count(items) == 1);
  recdb_items_clear(items);
  CHECK(recdb_items_count(items) == 0);
  recdb_items_destroy(items);

  recdb_users_t* users = recdb_users_create();
  CHECK(recdb_users_set_consent(users, 1, 1, 1) == RECDB_FAILED_PRECONDITION);
  CHECK(recdb_users_add(users, NULL) == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_users_add(users, "x") == RECDB_OK);
  CHECK(recdb_users_set_attribute_string(users, "k", NULL) == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_users_count(users) == 1);
  recdb_users_clear(users);
  CHECK(recdb_users_count(users) == 0);
  recdb_users_destroy(users);

  recdb_recommend_options_t* ro = recdb_recommend_options_create();
  CHECK(recdb_recommend_options_add_context(ro, NULL, "v") == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_recommend_options_add_exclude(ro, NULL) == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_recommend_options_set_weight(ro, NULL, 1) == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_recommend_options_add_session_item(NULL, "a") == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_recommend_options_add_category(ro, NULL) == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_recommend_options_add_attribute_equals(ro, "k", NULL) == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_recommend_options_add_pin(ro, NULL) == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_recommend_options_add_pin(NULL, "a") == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_recommend_options_add_pin(ro, "a") == RECDB_OK);
  CHECK(recdb_recommend_options_set_boost(ro, NULL, 1) == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_recommend_options_set_boost(NULL, "a", 1) == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_recommend_options_set_boost(ro, "a", NAN) == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_recommend_options_set_boost(ro, "a", INFINITY) == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_recommend_options_set_boost(ro, "a", -INFINITY) == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_recommend_options_set_boost(ro, "a", -2.5) == RECDB_OK);
  CHECK(recdb_recommend_options_add_bury(ro, NULL) == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_recommend_options_add_bury(NULL, "a") == RECDB_INVALID_ARGUMENT);
  CHECK(recdb_recommend_options_add_bury(ro, "a") == RECDB_OK);
  recdb_recommend_options_destroy(ro);
}

/* A new database base/name (no background threads), or NULL (counted as a
 * failed check). */
static recdb_t* OpenFresh(const char* base, const char* name) {
  char path[512];
  Join(path, sizeof path, base, name);
  recdb_options_t* o = recdb_options_create();
  recdb_options_set_create_if_missing(o, 1);
  recdb_options_set_background_threads(o, 0);
  recdb_t* db = NULL;
  EXPECT_STATUS(RECDB_OK, recdb_open(o, path, &db, err));
  recdb_options_destroy(o);
  return db;
}

/* Writes, reads, train, recommend, similar, spaces, privacy, snapshots. */
static void TestDatabase(const char* base) {
  char path[512];
  Join(path, sizeof path, base, "db");
  recdb_t* db = OpenFresh(base, "db");
  if (db == NULL) return;

  /* Event types. */
  EXPECT_STATUS(RECDB_OK, recdb_register_event_type(db, "share", 4, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_register_event_type(db, "", 1, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_register_event_type(db, "x", NAN, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_register_event_type(db, NULL, 1, err));

  /* Recommend before any training: FAILED_PRECONDITION, results NULL. */
  recdb_results_t* res = (recdb_results_t*)1;
  EXPECT_STATUS(RECDB_FAILED_PRECONDITION, recdb_recommend(db, "u0", NULL, &res, err));
  CHECK(res == NULL);
  /* Training with no events: FAILED_PRECONDITION. */
  EXPECT_STATUS(RECDB_FAILED_PRECONDITION, recdb_train(db, NULL, NULL, err));

  FillWorld(db);

  /* Items with every field, users with consent and attributes. */
  recdb_items_t* items = recdb_items_create();
  CHECK(recdb_items_add(items, "c0") == RECDB_OK);
  CHECK(recdb_items_set_title(items, "Gamma") == RECDB_OK);
  CHECK(recdb_items_set_description(items, "A third kind") == RECDB_OK);
  CHECK(recdb_items_add_category(items, "C") == RECDB_OK);
  CHECK(recdb_items_set_creator(items, "studio") == RECDB_OK);
  CHECK(recdb_items_set_created_at(items, 1690000000) == RECDB_OK);
  CHECK(recdb_items_set_available(items, 0) == RECDB_OK);
  CHECK(recdb_items_set_attribute_number(items, "price", 9.5) == RECDB_OK);
  CHECK(recdb_items_set_attribute_bool(items, "new", 1) == RECDB_OK);
  const char* tags[] = {"x", "y"};
  CHECK(recdb_items_set_attribute_list(items, "tags", tags, 2) == RECDB_OK);
  EXPECT_STATUS(RECDB_OK, recdb_upsert_items(db, items, 1, err));
  /* An invalid record rejects the batch. */
  CHECK(recdb_items_add(items, "") == RECDB_OK);
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_upsert_items(db, items, 0, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_upsert_items(db, NULL, 0, err));
  recdb_items_destroy(items);

  recdb_users_t* users = recdb_users_create();
  CHECK(recdb_users_add(users, "u0") == RECDB_OK);
  CHECK(recdb_users_set_consent(users, 1, 1, 1) == RECDB_OK);
  CHECK(recdb_users_set_attribute_string(users, "country", "NZ") == RECDB_OK);
  CHECK(recdb_users_set_attribute_number(users, "age", 41) == RECDB_OK);
  CHECK(recdb_users_set_attribute_bool(users, "premium", 0) == RECDB_OK);
  EXPECT_STATUS(RECDB_OK, recdb_upsert_users(db, users, 0, err));
  CHECK(recdb_users_add(users, "") == RECDB_OK);
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_upsert_users(db, users, 0, err));
  recdb_users_destroy(users);

  /* Events with values and context; an unknown type rejects the batch. */
  recdb_events_t* ev = recdb_events_create();
  CHECK(recdb_events_add(ev, "u0", "a9", "share", 1700009000) == RECDB_OK);
  CHECK(recdb_events_set_value(ev, 2.5) == RECDB_OK);
  CHECK(recdb_events_add_context(ev, "device", "mobile") == RECDB_OK);
  EXPECT_STATUS(RECDB_OK, recdb_record_events(db, ev, 0, err));
  CHECK(recdb_events_add(ev, "u0", "a8", "no_such_type", 1700009001) == RECDB_OK);
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_record_events(db, ev, 0, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_record_events(db, NULL, 0, err));
  recdb_events_destroy(ev);

  recdb_stats_t stats;
  EXPECT_STATUS(RECDB_OK, recdb_get_stats(db, &stats, err));
  CHECK(stats.events == 241); /* the rejected batch stored nothing */
  CHECK(stats.items == 21);
  CHECK(stats.users == 40);
  CHECK(stats.event_types == 8);
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_get_stats(db, NULL, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_get_stats(NULL, &stats, err));

  /* Train with every option. */
  recdb_train_options_t* to = recdb_train_options_create();
  recdb_train_options_set_learn_weights(to, 1);
  recdb_train_options_set_reuse_stored_weights(to, 0);
  recdb_train_options_set_ials_factors(to, 8);
  recdb_train_options_set_ials_iterations(to, 5);
  recdb_train_options_set_threads(to, 1);
  recdb_train_report_t report;
  memset(&report, 0, sizeof report);
  EXPECT_STATUS(RECDB_OK, recdb_train(db, to, &report, err));
  CHECK(report.model_version >= 1);
  CHECK(report.events == 241);
  CHECK(report.seconds >= 0);
  recdb_train_options_destroy(to);

  /* Recommend: u3 saw a3..a8, so it gets A items it has not seen. */
  recdb_recommend_options_t* ro = recdb_recommend_options_create();
  recdb_recommend_options_set_k(ro, 3);
  recdb_recommend_options_set_now(ro, 1700010000);
  recdb_recommend_options_set_exclude_seen(ro, 1);
  CHECK(recdb_recommend_options_add_context(ro, "device", "mobile") == RECDB_OK);
  CHECK(recdb_recommend_options_add_exclude(ro, "a9") == RECDB_OK);
  EXPECT_STATUS(RECDB_OK, recdb_recommend(db, "u3", ro, &res, err));
  CHECK(recdb_results_count(res) == 3);
  CHECK(recdb_results_model_version(res) == report.model_version);
  for (size_t i = 0; i < recdb_results_count(res); ++i) {
    const char* item = recdb_results_item(res, i);
    CHECK(item != NULL && item[0] == 'a');
    CHECK(strcmp(item, "a9") != 0);
    CHECK(strcmp(item, "a3") != 0 && strcmp(item, "a8") != 0); /* seen */
    if (i > 0) CHECK(recdb_results_score(res, i) <= recdb_results_score(res, i - 1));
    CHECK(recdb_results_contribution_count(res, i) >= 1);
    double sum = 0;
    for (size_t j = 0; j < recdb_results_contribution_count(res, i); ++j) {
      CHECK(recdb_results_contribution_name(res, i, j) != NULL);
      sum += recdb_results_contribution_value(res, i, j);
    }
    CHECK(fabs(sum - recdb_results_score(res, i)) < 1e-6 * (1 + fabs(sum)));
    CHECK(strlen(recdb_results_explanation(res, i)) > 0);
    CHECK(recdb_results_evidence_count(res, i) >= 1);
    for (size_t j = 0; j < recdb_results_evidence_count(res, i); ++j) {
      CHECK(strlen(recdb_results_evidence_kind(res, i, j)) > 0);
      CHECK(recdb_results_evidence_recommender(res, i, j) != NULL);
      CHECK(recdb_results_evidence_item(res, i, j) != NULL);
      CHECK(recdb_results_evidence_category(res, i, j) != NULL);
      CHECK(recdb_results_evidence_text(res, i, j) != NULL);
      double share = recdb_results_evidence_share(res, i, j);
      CHECK(share >= 0 && share <= 1);
    }
  }
  /* A recommender name the model has, for the weights below. */
  char recommender[64] = "";
  if (recdb_results_contribution_count(res, 0) > 0) {
    snprintf(recommender, sizeof recommender, "%s", recdb_results_contribution_name(res, 0, 0));
  }
  CHECK(recommender[0] != '\0');
  /* Out-of-range indexes: NULL / 0, no crash. */
  CHECK(recdb_results_item(res, 99) == NULL);
  CHECK(recdb_results_score(res, 99) == 0);
  CHECK(recdb_results_explanation(res, 99) == NULL);
  CHECK(recdb_results_contribution_count(res, 99) == 0);
  CHECK(recdb_results_contribution_name(res, 0, 99) == NULL);
  CHECK(recdb_results_contribution_value(res, 0, 99) == 0);
  CHECK(recdb_results_evidence_count(res, 99) == 0);
  CHECK(recdb_results_evidence_kind(res, 0, 99) == NULL);
  CHECK(recdb_results_evidence_recommender(res, 0, 99) == NULL);
  CHECK(recdb_results_evidence_share(res, 0, 99) == 0);
  CHECK(recdb_results_evidence_item(res, 99, 0) == NULL);
  CHECK(recdb_results_evidence_category(res, 99, 0) == NULL);
  CHECK(recdb_results_evidence_text(res, 99, 0) == NULL);
  CHECK(recdb_results_count(NULL) == 0);
  CHECK(recdb_results_item(NULL, 0) == NULL);
  CHECK(recdb_results_model_version(NULL) == 0);
  recdb_results_destroy(res);
  recdb_results_destroy(NULL);

  /* Without exclude_seen, with a category filter, weights and care. */
  recdb_recommend_options_t* ro2 = recdb_recommend_options_create();
  recdb_recommend_options_set_k(ro2, 5);
  recdb_recommend_options_set_exclude_seen(ro2, 0);
  CHECK(recdb_recommend_options_add_category(ro2, "B") == RECDB_OK);
  CHECK(recdb_recommend_options_add_attribute_equals(ro2, "cluster", "b") == RECDB_OK);
  recdb_recommend_options_set_available_only(ro2, 1);
  CHECK(recdb_recommend_options_set_weight(ro2, recommender, 1.0) == RECDB_OK);
  recdb_recommend_options_set_care(ro2, 0.3, 0, 0, 0);
  EXPECT_STATUS(RECDB_OK, recdb_recommend(db, "u3", ro2, &res, err));
  CHECK(recdb_results_count(res) == 5);
  for (size_t i = 0; i < recdb_results_count(res); ++i) {
    CHECK(recdb_results_item(res, i)[0] == 'b');
  }
  recdb_results_destroy(res);
  recdb_recommend_options_destroy(ro2);

  /* Anonymous visitor with a session. */
  recdb_recommend_options_t* ro3 = recdb_recommend_options_create();
  CHECK(recdb_recommend_options_add_session_item(ro3, "b1") == RECDB_OK);
  CHECK(recdb_recommend_options_add_session_item(ro3, "b2") == RECDB_OK);
  recdb_recommend_options_set_k(ro3, 3);
  EXPECT_STATUS(RECDB_OK, recdb_recommend(db, NULL, ro3, &res, err));
  CHECK(recdb_results_count(res) == 3);
  for (size_t i = 0; i < recdb_results_count(res); ++i) {
    CHECK(recdb_results_item(res, i)[0] == 'b');
  }
  recdb_results_destroy(res);

  /* Errors: k = 0, an unknown recommender weight, NULL out-pointer. */
  recdb_recommend_options_set_k(ro3, 0);
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_recommend(db, "u3", ro3, &res, err));
  CHECK(res == NULL);
  recdb_recommend_options_set_k(ro3, 3);
  CHECK(recdb_recommend_options_set_weight(ro3, "no_such_model", 1.0) == RECDB_OK);
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_recommend(db, "u3", ro3, &res, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_recommend(db, "u3", NULL, NULL, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_recommend(NULL, "u3", NULL, &res, err));
  recdb_recommend_options_destroy(ro3);

  /* Similar items. */
  EXPECT_STATUS(RECDB_OK, recdb_similar_items(db, "a1", 3, NULL, &res, err));
  CHECK(recdb_results_count(res) == 3);
  for (size_t i = 0; i < recdb_results_count(res); ++i) {
    CHECK(recdb_results_item(res, i)[0] == 'a');
    CHECK(strcmp(recdb_results_item(res, i), "a1") != 0);
  }
  recdb_results_destroy(res);
  EXPECT_STATUS(RECDB_OK, recdb_similar_items(db, "a1", 3, ro, &res, err)); /* excludes a9 */
  for (size_t i = 0; i < recdb_results_count(res); ++i) {
    CHECK(strcmp(recdb_results_item(res, i), "a9") != 0);
  }
  recdb_results_destroy(res);
  EXPECT_STATUS(RECDB_NOT_FOUND, recdb_similar_items(db, "zz", 3, NULL, &res, err));
  CHECK(res == NULL);
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_similar_items(db, NULL, 3, NULL, &res, err));

  /* Embedding spaces. */
  EXPECT_STATUS(RECDB_OK, recdb_create_space(db, "emb", 2, RECDB_METRIC_COSINE, "test", err));
  EXPECT_STATUS(RECDB_ALREADY_EXISTS,
                recdb_create_space(db, "emb", 2, RECDB_METRIC_COSINE, NULL, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT,
                recdb_create_space(db, "bad name!", 2, RECDB_METRIC_L2, NULL, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_create_space(db, "m", 2, 7, NULL, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_create_space(db, "m", 2, -1, NULL, err));
  {
    char* msg = NULL;
    CHECK(recdb_create_space(db, "m", 2, 7, NULL, &msg) == RECDB_INVALID_ARGUMENT);
    CHECK(msg != NULL && strstr(msg, "unknown metric 7") != NULL);
    recdb_free(msg);
  }
  EXPECT_STATUS(RECDB_OK, recdb_create_space(db, "ipspace", 3, RECDB_METRIC_INNER_PRODUCT,
                                             NULL, err));
  const char* vids[] = {"a0", "a1", "b0"};
  const float vecs[] = {1, 0, 0.9f, 0.1f, 0, 1};
  EXPECT_STATUS(RECDB_OK, recdb_put_vectors(db, "emb", RECDB_ITEM, vids, 3, vecs, 2, 0, err));
  const char* uids[] = {"u0"};
  EXPECT_STATUS(RECDB_OK, recdb_put_vectors(db, "emb", RECDB_USER, uids, 1, vecs, 2, 0, err));
  /* values holds count * dimension floats even when the dimension is wrong. */
  const float vecs3[] = {1, 0, 0, 0.9f, 0.1f, 0, 0, 1, 0};
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT,
                recdb_put_vectors(db, "emb", RECDB_ITEM, vids, 3, vecs3, 3, 0, err));
  const char* unknown[] = {"nope"};
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT,
                recdb_put_vectors(db, "emb", RECDB_ITEM, unknown, 1, vecs, 2, 0, err));
  EXPECT_STATUS(RECDB_NOT_FOUND,
                recdb_put_vectors(db, "none", RECDB_ITEM, vids, 1, vecs, 2, 0, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT,
                recdb_put_vectors(db, "emb", 5, vids, 1, vecs, 2, 0, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT,
                recdb_put_vectors(db, "emb", -1, vids, 1, vecs, 2, 0, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT,
                recdb_put_vectors(db, "emb", RECDB_ITEM, NULL, 1, vecs, 2, 0, err));
  const float q[] = {1, 0.05f};
  EXPECT_STATUS(RECDB_OK, recdb_search_similar(db, "emb", q, 2, 2, NULL, &res, err));
  CHECK(recdb_results_count(res) == 2);
  if (recdb_results_count(res) == 2) {
    CHECK(strcmp(recdb_results_item(res, 0), "a0") == 0 ||
          strcmp(recdb_results_item(res, 0), "a1") == 0);
    CHECK(recdb_results_score(res, 0) > 0.9);
    CHECK(recdb_results_contribution_count(res, 0) == 0);
  }
  recdb_results_destroy(res);
  recdb_recommend_options_t* fo = recdb_recommend_options_create();
  CHECK(recdb_recommend_options_add_category(fo, "B") == RECDB_OK);
  EXPECT_STATUS(RECDB_OK, recdb_search_similar(db, "emb", q, 2, 2, fo, &res, err));
  CHECK(recdb_results_count(res) == 1 && strcmp(recdb_results_item(res, 0), "b0") == 0);
  recdb_results_destroy(res);
  recdb_recommend_options_destroy(fo);
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_search_similar(db, "emb", q, 1, 2, NULL, &res, err));
  EXPECT_STATUS(RECDB_NOT_FOUND, recdb_search_similar(db, "none", q, 2, 2, NULL, &res, err));
  EXPECT_STATUS(RECDB_OK, recdb_drop_space(db, "ipspace", err));
  EXPECT_STATUS(RECDB_NOT_FOUND, recdb_drop_space(db, "ipspace", err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_drop_space(db, NULL, err));

  /* Export, then forget. */
  char* json = NULL;
  EXPECT_STATUS(RECDB_OK, recdb_export_user(db, "u0", &json, err));
  CHECK(json != NULL && json[0] == '{');
  CHECK(json != NULL && strstr(json, "\"u0\"") != NULL);
  CHECK(json != NULL && strstr(json, "mobile") != NULL); /* the event's context */
  recdb_free(json);
  EXPECT_STATUS(RECDB_NOT_FOUND, recdb_export_user(db, "nobody", &json, err));
  CHECK(json == NULL);
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_export_user(db, "u0", NULL, err));

  recdb_erasure_receipt_t receipt;
  memset(&receipt, 0, sizeof receipt);
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_forget_user(db, "u0", 64, &receipt, err));
  EXPECT_STATUS(RECDB_OK, recdb_forget_user(db, "u0", RECDB_FORGET_RETRAIN |
                                                          RECDB_FORGET_WAIT_FOR_PHYSICAL_ERASURE,
                                            &receipt, err));
  CHECK(receipt.events_removed == 7);
  CHECK(receipt.vectors_removed == 1);
  CHECK(receipt.had_user_record == 1);
  CHECK(receipt.model_retrained == 1);
  CHECK(receipt.physically_erased == 1);
  CHECK(receipt.retrain_scheduled == 0);
  CHECK(receipt.counts_adjusted > 0);
  CHECK(receipt.bytes_estimate > 0);
  CHECK(receipt.timestamp > 1700000000);
  CHECK(receipt.impressions_removed == 0);
  CHECK(strlen(receipt.ledger_hash) == 64);
  EXPECT_STATUS(RECDB_FAILED_PRECONDITION, recdb_forget_user(db, "u0", 0, NULL, err));
  EXPECT_STATUS(RECDB_NOT_FOUND, recdb_forget_user(db, "nobody", 0, NULL, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_forget_user(db, "", 0, NULL, err));
  EXPECT_STATUS(RECDB_NOT_FOUND, recdb_export_user(db, "u0", &json, err));
  EXPECT_STATUS(RECDB_OK, recdb_get_stats(db, &stats, err));
  CHECK(stats.events == 234);

  /* Snapshot, restore, and open the restored copy. */
  char backup[512], restored[512], restored2[512];
  Join(backup, sizeof backup, base, "backup");
  Join(restored, sizeof restored, base, "restored");
  Join(restored2, sizeof restored2, base, "restored2");
  recdb_snapshot_info_t info;
  memset(&info, 0, sizeof info);
  EXPECT_STATUS(RECDB_OK, recdb_create_snapshot(db, backup, 1, &info, err));
  CHECK(info.id == 1);
  CHECK(strcmp(info.name, "snapshot-000001") == 0);
  CHECK(info.files > 0 && info.bytes > 0);
  CHECK(info.sequence_number > 0);
  EXPECT_STATUS(RECDB_OK, recdb_create_snapshot(db, backup, 0, NULL, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_create_snapshot(db, NULL, 1, NULL, err));
  EXPECT_STATUS(RECDB_OK, recdb_restore(backup, restored, NULL, err));
  EXPECT_STATUS(RECDB_ALREADY_EXISTS, recdb_restore(backup, restored, NULL, err));
  EXPECT_STATUS(RECDB_OK, recdb_restore(backup, restored2, path, err));
  char missing[512];
  Join(missing, sizeof missing, base, "no_backup");
  EXPECT_STATUS(RECDB_NOT_FOUND, recdb_restore(missing, restored2, NULL, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_restore(NULL, restored2, NULL, err));

  recdb_recommend_options_destroy(ro);
  EXPECT_STATUS(RECDB_OK, recdb_close(db, err));

  recdb_options_t* ro_opts = recdb_options_create();
  recdb_options_set_read_only(ro_opts, 1);
  recdb_t* copy = NULL;
  EXPECT_STATUS(RECDB_OK, recdb_open(ro_opts, restored, &copy, err));
  recdb_options_destroy(ro_opts);
  if (copy != NULL) {
    EXPECT_STATUS(RECDB_OK, recdb_get_stats(copy, &stats, err));
    CHECK(stats.events == 234);
    EXPECT_STATUS(RECDB_NOT_FOUND, recdb_export_user(copy, "u0", &json, err));
    EXPECT_STATUS(RECDB_OK, recdb_close(copy, err));
  }
}

/* ---- Business rules, history, impressions (on their own database) ---- */

#define MAX_LIST 64

/* The items recdb_recommend returns for `user` with `ro`, copied into
 * out[0..n) (n returned; 0 on failure, which is also a failed check). */
static size_t ListOf(recdb_t* db, const char* user, const recdb_recommend_options_t* ro,
                     char out[][16]) {
  recdb_results_t* res = NULL;
  EXPECT_STATUS(RECDB_OK, recdb_recommend(db, user, ro, &res, err));
  size_t n = recdb_results_count(res);
  if (n > MAX_LIST) n = MAX_LIST;
  for (size_t i = 0; i < n; ++i) snprintf(out[i], 16, "%s", recdb_results_item(res, i));
  recdb_results_destroy(res);
  return n;
}

/* The position of `id` in list[0..n), or -1. */
static int IndexOf(char list[][16], size_t n, const char* id) {
  for (size_t i = 0; i < n; ++i) {
    if (strcmp(list[i], id) == 0) return (int)i;
  }
  return -1;
}

/* Options every rules test starts from: k, a fixed clock, seen items left out. */
static recdb_recommend_options_t* RulesOptions(size_t k) {
  recdb_recommend_options_t* ro = recdb_recommend_options_create();
  recdb_recommend_options_set_k(ro, k);
  recdb_recommend_options_set_now(ro, 1700010000);
  recdb_recommend_options_set_exclude_seen(ro, 1);
  return ro;
}

/* Whether result i of `user`'s list under `ro` is `id` with evidence `kind`. */
static int ResultHasEvidence(recdb_t* db, const char* user, const recdb_recommend_options_t* ro,
                             size_t i, const char* id, const char* kind) {
  recdb_results_t* res = NULL;
  EXPECT_STATUS(RECDB_OK, recdb_recommend(db, user, ro, &res, err));
  int found = 0;
  if (i < recdb_results_count(res) && strcmp(recdb_results_item(res, i), id) == 0) {
    for (size_t j = 0; j < recdb_results_evidence_count(res, i); ++j) {
      found = found || strcmp(recdb_results_evidence_kind(res, i, j), kind) == 0;
    }
  }
  recdb_results_destroy(res);
  return found;
}

static void TestBusinessRules(recdb_t* db) {
  /* u3 saw a3..a8: its unseen candidates are a0..a2, a9 and b0..b9 (c0 is
   * unavailable). The baselines, without rules: */
  char base3[MAX_LIST][16], base50[MAX_LIST][16], got[MAX_LIST][16];
  recdb_recommend_options_t* ro = RulesOptions(3);
  CHECK(ListOf(db, "u3", ro, base3) == 3);
  recdb_recommend_options_destroy(ro);
  ro = RulesOptions(50);
  const size_t n50 = ListOf(db, "u3", ro, base50);
  recdb_recommend_options_destroy(ro);
  CHECK(n50 == 14);
  CHECK(IndexOf(base3, 3, "b5") < 0 && IndexOf(base3, 3, "b7") < 0);

  /* Pin: b5 then b7 come first, in that order, and the baseline follows. */
  ro = RulesOptions(3);
  CHECK(recdb_recommend_options_add_pin(ro, "b5") == RECDB_OK);
  CHECK(ListOf(db, "u3", ro, got) == 3);
  CHECK(strcmp(got[0], "b5") == 0);
  CHECK(strcmp(got[1], base3[0]) == 0 && strcmp(got[2], base3[1]) == 0);
  CHECK(ResultHasEvidence(db, "u3", ro, 0, "b5", "pinned"));
  CHECK(recdb_recommend_options_add_pin(ro, "b7") == RECDB_OK);
  CHECK(ListOf(db, "u3", ro, got) == 3);
  CHECK(strcmp(got[0], "b5") == 0 && strcmp(got[1], "b7") == 0);
  CHECK(strcmp(got[2], base3[0]) == 0);
  recdb_recommend_options_destroy(ro);

  /* Pins that the request does not admit are skipped, as in C++: a seen item
   * (exclude_seen), an unavailable one, an unknown id, one the filter drops. */
  ro = RulesOptions(3);
  CHECK(recdb_recommend_options_add_pin(ro, "a3") == RECDB_OK);
  CHECK(recdb_recommend_options_add_pin(ro, "c0") == RECDB_OK);
  CHECK(recdb_recommend_options_add_pin(ro, "no_such_item") == RECDB_OK);
  CHECK(ListOf(db, "u3", ro, got) == 3);
  for (size_t i = 0; i < 3; ++i) CHECK(strcmp(got[i], base3[i]) == 0);
  CHECK(recdb_recommend_options_add_category(ro, "A") == RECDB_OK);
  CHECK(recdb_recommend_options_add_pin(ro, "b5") == RECDB_OK);
  CHECK(ListOf(db, "u3", ro, got) == 3);
  CHECK(IndexOf(got, 3, "b5") < 0);
  recdb_recommend_options_destroy(ro);

  /* Boost: the 5th best, boosted by 10, comes first; the best, boosted by
   * -10, leaves the top 5; setting a boost again replaces it. */
  ro = RulesOptions(5);
  CHECK(recdb_recommend_options_set_boost(ro, base50[4], 10) == RECDB_OK);
  CHECK(ListOf(db, "u3", ro, got) == 5);
  CHECK(strcmp(got[0], base50[4]) == 0);
  CHECK(strcmp(got[1], base50[0]) == 0);
  CHECK(ResultHasEvidence(db, "u3", ro, 0, base50[4], "boosted"));
  CHECK(recdb_recommend_options_set_boost(ro, base50[4], 0) == RECDB_OK);
  CHECK(ListOf(db, "u3", ro, got) == 5);
  for (size_t i = 0; i < 5; ++i) CHECK(strcmp(got[i], base50[i]) == 0);
  CHECK(recdb_recommend_options_set_boost(ro, base50[0], -10) == RECDB_OK);
  CHECK(recdb_recommend_options_set_boost(ro, "no_such_item", 3) == RECDB_OK);
  CHECK(ListOf(db, "u3", ro, got) == 5);
  CHECK(IndexOf(got, 5, base50[0]) < 0);
  CHECK(strcmp(got[0], base50[1]) == 0);
  /* A rejected (non-finite) boost leaves the one set before. */
  CHECK(recdb_recommend_options_set_boost(ro, base50[0], NAN) == RECDB_INVALID_ARGUMENT);
  CHECK(ListOf(db, "u3", ro, got) == 5);
  CHECK(IndexOf(got, 5, base50[0]) < 0);
  recdb_recommend_options_destroy(ro);

  /* Bury: the best leaves the top 3; with room for every candidate it is
   * listed last. An unknown id is skipped. */
  ro = RulesOptions(3);
  CHECK(recdb_recommend_options_add_bury(ro, base3[0]) == RECDB_OK);
  CHECK(recdb_recommend_options_add_bury(ro, "no_such_item") == RECDB_OK);
  CHECK(ListOf(db, "u3", ro, got) == 3);
  CHECK(IndexOf(got, 3, base3[0]) < 0);
  CHECK(strcmp(got[0], base3[1]) == 0 && strcmp(got[1], base3[2]) == 0);
  recdb_recommend_options_set_k(ro, 50);
  CHECK(ListOf(db, "u3", ro, got) == n50);
  CHECK(n50 > 0 && IndexOf(got, n50, base3[0]) == (int)n50 - 1);
  recdb_recommend_options_destroy(ro);
}

static void TestHistory(recdb_t* db) {
  /* u3 (FillWorld): a3..a8, one second apart, all views. */
  recdb_history_t* h = NULL;
  EXPECT_STATUS(RECDB_OK, recdb_get_user_history(db, "u3", 0, INT64_MAX, 0, &h, err));
  CHECK(recdb_history_count(h) == 6);
  for (size_t i = 0; i < recdb_history_count(h) && i < 6; ++i) {
    char want[8];
    snprintf(want, sizeof want, "a%d", (int)(3 + i));
    CHECK(strcmp(recdb_history_item(h, i), want) == 0);
    CHECK(strcmp(recdb_history_type(h, i), "view") == 0);
    CHECK(recdb_history_timestamp(h, i) == 1700000300 + (int64_t)i);
    CHECK(recdb_history_has_value(h, i) == 0);
    CHECK(recdb_history_context_count(h, i) == 0);
  }
  recdb_history_destroy(h);

  /* "hist": recorded out of time order over two batches; read back oldest
   * first, a tie in the order recorded, with values and context. */
  recdb_events_t* ev = recdb_events_create();
  CHECK(recdb_events_add(ev, "hist", "a0", "view", 1700000500) == RECDB_OK);
  CHECK(recdb_events_add(ev, "hist", "a1", "like", 1700000100) == RECDB_OK);
  CHECK(recdb_events_set_value(ev, 4.5) == RECDB_OK);
  CHECK(recdb_events_add_context(ev, "page", "home") == RECDB_OK);
  CHECK(recdb_events_add_context(ev, "device", "mobile") == RECDB_OK);
  EXPECT_STATUS(RECDB_OK, recdb_record_events(db, ev, 0, err));
  recdb_events_clear(ev);
  CHECK(recdb_events_add(ev, "hist", "a2", "purchase", 1700000300) == RECDB_OK);
  CHECK(recdb_events_add(ev, "hist", "a3", "view", 1700000500) == RECDB_OK);
  EXPECT_STATUS(RECDB_OK, recdb_record_events(db, ev, 1, err));
  recdb_events_destroy(ev);

  const char* items[] = {"a1", "a2", "a0", "a3"};
  const char* types[] = {"like", "purchase", "view", "view"};
  const int64_t stamps[] = {1700000100, 1700000300, 1700000500, 1700000500};
  EXPECT_STATUS(RECDB_OK, recdb_get_user_history(db, "hist", 0, INT64_MAX, 0, &h, err));
  CHECK(recdb_history_count(h) == 4);
  for (size_t i = 0; i < recdb_history_count(h) && i < 4; ++i) {
    CHECK(strcmp(recdb_history_item(h, i), items[i]) == 0);
    CHECK(strcmp(recdb_history_type(h, i), types[i]) == 0);
    CHECK(recdb_history_timestamp(h, i) == stamps[i]);
    CHECK(recdb_history_has_value(h, i) == (i == 0));
    CHECK(recdb_history_context_count(h, i) == (i == 0 ? 2u : 0u));
  }
  CHECK(recdb_history_value(h, 0) == 4.5);
  /* Context entries in key order. */
  CHECK(recdb_history_context_key(h, 0, 0) &&
        strcmp(recdb_history_context_key(h, 0, 0), "device") == 0);
  CHECK(recdb_history_context_value(h, 0, 0) &&
        strcmp(recdb_history_context_value(h, 0, 0), "mobile") == 0);
  CHECK(recdb_history_context_key(h, 0, 1) &&
        strcmp(recdb_history_context_key(h, 0, 1), "page") == 0);
  CHECK(recdb_history_context_value(h, 0, 1) &&
        strcmp(recdb_history_context_value(h, 0, 1), "home") == 0);
  /* Out-of-range indexes and a NULL handle: NULL / 0, no crash. */
  CHECK(recdb_history_item(h, 4) == NULL);
  CHECK(recdb_history_type(h, 4) == NULL);
  CHECK(recdb_history_timestamp(h, 4) == 0);
  CHECK(recdb_history_has_value(h, 4) == 0);
  CHECK(recdb_history_value(h, 4) == 0);
  CHECK(recdb_history_context_count(h, 4) == 0);
  CHECK(recdb_history_context_key(h, 0, 2) == NULL);
  CHECK(recdb_history_context_value(h, 0, 2) == NULL);
  CHECK(recdb_history_context_key(h, 4, 0) == NULL);
  CHECK(recdb_history_count(NULL) == 0);
  CHECK(recdb_history_item(NULL, 0) == NULL);
  CHECK(recdb_history_context_value(NULL, 0, 0) == NULL);
  recdb_history_destroy(h);
  recdb_history_destroy(NULL);

  /* Ranges: [start, end), then a limit, then an empty range. */
  EXPECT_STATUS(RECDB_OK,
                recdb_get_user_history(db, "hist", 1700000300, 1700000500, 0, &h, err));
  CHECK(recdb_history_count(h) == 1 && strcmp(recdb_history_item(h, 0), "a2") == 0);
  recdb_history_destroy(h);
  EXPECT_STATUS(RECDB_OK, recdb_get_user_history(db, "hist", 1700000101, INT64_MAX, 2, &h, err));
  CHECK(recdb_history_count(h) == 2);
  CHECK(recdb_history_count(h) == 2 && strcmp(recdb_history_item(h, 0), "a2") == 0 &&
        strcmp(recdb_history_item(h, 1), "a0") == 0);
  recdb_history_destroy(h);
  EXPECT_STATUS(RECDB_OK, recdb_get_user_history(db, "hist", 1700000500, 1700000500, 0, &h, err));
  CHECK(h != NULL && recdb_history_count(h) == 0);
  recdb_history_destroy(h);

  /* Errors: an unknown user (history set to NULL), NULL arguments. */
  h = (recdb_history_t*)1;
  EXPECT_STATUS(RECDB_NOT_FOUND, recdb_get_user_history(db, "nobody", 0, INT64_MAX, 0, &h, err));
  CHECK(h == NULL);
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_get_user_history(db, NULL, 0, 1, 0, &h, err));
  CHECK(h == NULL);
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_get_user_history(NULL, "u3", 0, 1, 0, &h, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_get_user_history(db, "u3", 0, 1, 0, NULL, err));
}

static void TestImpressions(recdb_t* db) {
  /* Rotation (defaults: 3 impressions within 7 days, no event since): u5's
   * best item stays through two impressions and leaves on the third. */
  char base[MAX_LIST][16], got[MAX_LIST][16];
  recdb_recommend_options_t* ro = RulesOptions(3);
  CHECK(ListOf(db, "u5", ro, base) == 3);
  const char* shown[] = {base[0], base[1]};
  const char* keys[] = {"surface", "slot"};
  const char* values[] = {"home", "top"};
  for (int round = 1; round <= 3; ++round) {
    EXPECT_STATUS(RECDB_OK, recdb_record_impressions(db, "u5", shown, round == 3 ? 2 : 1,
                                                     1700009000 + round, keys, values, 2,
                                                     round == 2, err));
    CHECK(ListOf(db, "u5", ro, got) == 3);
    CHECK((IndexOf(got, 3, base[0]) >= 0) == (round < 3));
    CHECK(IndexOf(got, 3, base[1]) >= 0);  /* shown once only */
  }
  /* A week later the impressions have aged out: it is back. */
  recdb_recommend_options_set_now(ro, 1700009000 + 8 * 86400);
  recdb_recommend_options_set_k(ro, 14);
  CHECK(IndexOf(got, ListOf(db, "u5", ro, got), base[0]) >= 0);
  recdb_recommend_options_destroy(ro);

  /* timestamp 0 = now; no context. */
  EXPECT_STATUS(RECDB_OK, recdb_record_impressions(db, "u6", shown, 1, 0, NULL, NULL, 0, 0, err));

  /* Propensities are stored with the list (the export shows them); one
   * outside (0, 1] is INVALID_ARGUMENT naming its slot, and stores nothing. */
  {
    char* json = NULL;
    EXPECT_STATUS(RECDB_OK, recdb_export_user(db, "u6", &json, err));
    CHECK(json != NULL && strstr(json, "\"propensities\"") == NULL);
    recdb_free(json);
    const double p_ok[] = {0.5, 0.25};
    EXPECT_STATUS(RECDB_OK, recdb_record_impressions_with_propensities(
                                db, "u6", shown, p_ok, 2, 1700100000, keys, values, 1, 0, err));
    const double p_bad[] = {0.5, 1.5};
    char* msg = NULL;
    CHECK(recdb_record_impressions_with_propensities(db, "u6", shown, p_bad, 2, 1700100001, NULL,
                                                     NULL, 0, 0, &msg) == RECDB_INVALID_ARGUMENT);
    CHECK(msg != NULL && strstr(msg, "propensities[1]") != NULL);
    recdb_free(msg);
    json = NULL;
    EXPECT_STATUS(RECDB_OK, recdb_export_user(db, "u6", &json, err));
    CHECK(json != NULL && strstr(json, "\"propensities\"") != NULL);
    CHECK(json != NULL && strstr(json, "0.25") != NULL);
    CHECK(json != NULL && strstr(json, "\"surface\": \"home\"") != NULL);
    CHECK(json != NULL && strstr(json, "1700100001") == NULL);
    recdb_free(json);
  }

  /* Errors. */
  const char* unknown[] = {"a0", "no_such_item"};
  char* msg = NULL;
  CHECK(recdb_record_impressions(db, "u6", unknown, 2, 0, NULL, NULL, 0, 0, &msg) ==
        RECDB_INVALID_ARGUMENT);
  CHECK(msg != NULL && strstr(msg, "items[1]") != NULL);
  recdb_free(msg);
  EXPECT_STATUS(RECDB_NOT_FOUND,
                recdb_record_impressions(db, "nobody", shown, 1, 0, NULL, NULL, 0, 0, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT,
                recdb_record_impressions(db, "u6", shown, 0, 0, NULL, NULL, 0, 0, err));
  static const char* many[1001];
  for (int i = 0; i < 1001; ++i) many[i] = "a0";
  EXPECT_STATUS(RECDB_OK, recdb_record_impressions(db, "u6", many, 1000, 0, NULL, NULL, 0, 0, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT,
                recdb_record_impressions(db, "u6", many, 1001, 0, NULL, NULL, 0, 0, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT,
                recdb_record_impressions(db, "u6", shown, 1, -1, NULL, NULL, 0, 0, err));
  EXPECT_STATUS(RECDB_OK, recdb_record_impressions(db, "u6", shown, 1, 253402300799, NULL,
                                                   NULL, 0, 0, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_record_impressions(db, "u6", shown, 1,
                                                                 253402300800, NULL, NULL, 0,
                                                                 0, err));
  char key_store[33][8];
  const char* ckeys[33];
  const char* cvalues[33];
  for (int i = 0; i < 33; ++i) {
    snprintf(key_store[i], sizeof key_store[i], "k%d", i);
    ckeys[i] = key_store[i];
    cvalues[i] = "v";
  }
  EXPECT_STATUS(RECDB_OK,
                recdb_record_impressions(db, "u6", shown, 1, 0, ckeys, cvalues, 32, 0, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT,
                recdb_record_impressions(db, "u6", shown, 1, 0, ckeys, cvalues, 33, 0, err));
  const char* null_item[] = {"a0", NULL};
  const char* null_key[] = {NULL};
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT,
                recdb_record_impressions(NULL, "u6", shown, 1, 0, NULL, NULL, 0, 0, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT,
                recdb_record_impressions(db, NULL, shown, 1, 0, NULL, NULL, 0, 0, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT,
                recdb_record_impressions(db, "u6", NULL, 1, 0, NULL, NULL, 0, 0, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT,
                recdb_record_impressions(db, "u6", null_item, 2, 0, NULL, NULL, 0, 0, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT,
                recdb_record_impressions(db, "u6", shown, 1, 0, NULL, values, 1, 0, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT,
                recdb_record_impressions(db, "u6", shown, 1, 0, null_key, values, 1, 0, err));

  /* What was stored, as the erasure receipt counts it (one record per
   * call): u7's two; none for a user whose consent forbids storing events. */
  EXPECT_STATUS(RECDB_OK, recdb_record_impressions(db, "u7", shown, 2, 0, NULL, NULL, 0, 0, err));
  EXPECT_STATUS(RECDB_OK, recdb_record_impressions(db, "u7", shown, 1, 0, NULL, NULL, 0, 0, err));
  recdb_users_t* users = recdb_users_create();
  CHECK(recdb_users_add(users, "quiet") == RECDB_OK);
  CHECK(recdb_users_set_consent(users, 1, 0, 1) == RECDB_OK);
  EXPECT_STATUS(RECDB_OK, recdb_upsert_users(db, users, 0, err));
  recdb_users_destroy(users);
  EXPECT_STATUS(RECDB_OK,
                recdb_record_impressions(db, "quiet", shown, 2, 0, NULL, NULL, 0, 0, err));
  recdb_erasure_receipt_t receipt;
  memset(&receipt, 0, sizeof receipt);
  EXPECT_STATUS(RECDB_OK, recdb_forget_user(db, "u7", 0, &receipt, err));
  CHECK(receipt.impressions_removed == 2);
  memset(&receipt, 0, sizeof receipt);
  EXPECT_STATUS(RECDB_OK, recdb_forget_user(db, "quiet", 0, &receipt, err));
  CHECK(receipt.impressions_removed == 0);
}

/* Issue 19 #3 and #5 in C. After TestImpressions forgot u7, its events are
 * dropped by the forget ledger: recdb_record_events_counted reports them as
 * dropped, not stored (recdb_record_events alone could not tell). An unknown
 * user gets the cold-start fallback, or NOT_FOUND with require_known_user. */
static void TestTruthfulCounts(recdb_t* db) {
  recdb_events_t* ev = recdb_events_create();
  CHECK(recdb_events_add(ev, "u7", "a1", "view", 1700009000) == RECDB_OK);
  CHECK(recdb_events_add(ev, "u8", "a2", "view", 1700009001) == RECDB_OK);
  recdb_record_events_result_t r;
  memset(&r, 0xff, sizeof r);
  EXPECT_STATUS(RECDB_OK, recdb_record_events_counted(db, ev, 0, &r, err));
  CHECK(r.stored == 1);
  CHECK(r.counted_only == 0);
  CHECK(r.dropped_forgotten == 1);
  EXPECT_STATUS(RECDB_OK, recdb_record_events_counted(db, ev, 0, NULL, err));
  memset(&r, 0xff, sizeof r);
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_record_events_counted(db, NULL, 0, &r, err));
  CHECK(r.stored == 0 && r.dropped_forgotten == 0);
  recdb_events_destroy(ev);

  recdb_recommend_options_t* ro = recdb_recommend_options_create();
  recdb_recommend_options_set_k(ro, 3);
  recdb_results_t* res = NULL;
  EXPECT_STATUS(RECDB_OK, recdb_recommend(db, "stranger", ro, &res, err));
  CHECK(recdb_results_count(res) == 3);
  recdb_results_destroy(res);
  res = NULL;
  recdb_recommend_options_set_require_known_user(ro, 1);
  char* msg = NULL;
  CHECK(recdb_recommend(db, "stranger", ro, &res, &msg) == RECDB_NOT_FOUND);
  CHECK(res == NULL);
  CHECK(msg != NULL && strstr(msg, "require_known_user") != NULL);
  recdb_free(msg);
  EXPECT_STATUS(RECDB_OK, recdb_recommend(db, "u3", ro, &res, err));
  CHECK(recdb_results_count(res) == 3);
  recdb_results_destroy(res);
  recdb_recommend_options_destroy(ro);
}

/* Pin/boost/bury, history and impressions; then both calls on a read-only
 * copy (history reads, impressions are FAILED_PRECONDITION). */
static void TestRulesHistoryImpressions(const char* base) {
  char path[512];
  Join(path, sizeof path, base, "rules");
  recdb_options_t* o = recdb_options_create();
  recdb_options_set_create_if_missing(o, 1);
  recdb_options_set_background_threads(o, 0);
  recdb_t* db = NULL;
  EXPECT_STATUS(RECDB_OK, recdb_open(o, path, &db, err));
  if (db == NULL) {
    recdb_options_destroy(o);
    return;
  }
  FillWorld(db);
  recdb_items_t* items = recdb_items_create();
  CHECK(recdb_items_add(items, "c0") == RECDB_OK);
  CHECK(recdb_items_add_category(items, "C") == RECDB_OK);
  CHECK(recdb_items_set_available(items, 0) == RECDB_OK);
  EXPECT_STATUS(RECDB_OK, recdb_upsert_items(db, items, 0, err));
  recdb_items_destroy(items);
  recdb_train_options_t* to = recdb_train_options_create();
  recdb_train_options_set_ials_factors(to, 8);
  recdb_train_options_set_ials_iterations(to, 5);
  recdb_train_options_set_threads(to, 1);
  EXPECT_STATUS(RECDB_OK, recdb_train(db, to, NULL, err));
  recdb_train_options_destroy(to);

  TestBusinessRules(db);
  TestHistory(db);
  TestImpressions(db);
  TestTruthfulCounts(db);
  EXPECT_STATUS(RECDB_OK, recdb_close(db, err));

  recdb_options_set_create_if_missing(o, 0);
  recdb_options_set_read_only(o, 1);
  EXPECT_STATUS(RECDB_OK, recdb_open(o, path, &db, err));
  recdb_options_destroy(o);
  if (db == NULL) return;
  recdb_history_t* h = NULL;
  EXPECT_STATUS(RECDB_OK, recdb_get_user_history(db, "hist", 0, INT64_MAX, 0, &h, err));
  CHECK(recdb_history_count(h) == 4);
  recdb_history_destroy(h);
  const char* shown[] = {"a0"};
  EXPECT_STATUS(RECDB_FAILED_PRECONDITION,
                recdb_record_impressions(db, "u5", shown, 1, 0, NULL, NULL, 0, 0, err));
  EXPECT_STATUS(RECDB_OK, recdb_close(db, err));
}

/* recdb_options_load_file / recdb_options_parse_json: the options file the
 * CLI reads too; a file's retention TTL is enforced by the opened database. */
static void TestOptionsFile(const char* base) {
  char path[512], file[512];
  Join(path, sizeof path, base, "optdb");
  Join(file, sizeof file, base, "recdb.json");
  FILE* f = fopen(file, "w");
  CHECK(f != NULL);
  if (f == NULL) return;
  fputs("{\"retention\": {\"ttl_seconds_by_type\": {\"view\": 86400}},"
        " \"background_threads\": 0}",
        f);
  fclose(f);
  recdb_options_t* o = recdb_options_create();
  recdb_options_set_create_if_missing(o, 1);
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_options_load_file(NULL, file, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_options_load_file(o, NULL, err));
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_options_parse_json(o, NULL, err));
  EXPECT_STATUS(RECDB_NOT_FOUND, recdb_options_load_file(o, "/nonexistent/recdb.json", err));
  char* msg = NULL;
  CHECK(recdb_options_parse_json(o, "{\"care\": {\"diversty\": 1}}", &msg) ==
        RECDB_INVALID_ARGUMENT);
  CHECK(msg != NULL && strstr(msg, "care.diversty") != NULL);
  recdb_free(msg);
  EXPECT_STATUS(RECDB_INVALID_ARGUMENT, recdb_options_parse_json(o, "{\"care\": {\"diversity\": 2}}", err));
  EXPECT_STATUS(RECDB_OK, recdb_options_load_file(o, file, err));
  recdb_t* db = NULL;
  EXPECT_STATUS(RECDB_OK, recdb_open(o, path, &db, err));  /* create_if_missing kept */
  recdb_options_destroy(o);
  if (db == NULL) return;
  recdb_events_t* ev = recdb_events_create();
  const int64_t now = (int64_t)time(NULL);
  CHECK(recdb_events_add(ev, "u", "old", "view", now - 3 * 86400) == RECDB_OK);
  CHECK(recdb_events_add(ev, "u", "new", "view", now - 60) == RECDB_OK);
  EXPECT_STATUS(RECDB_OK, recdb_record_events(db, ev, 0, err));
  recdb_events_destroy(ev);
  recdb_history_t* h = NULL;
  EXPECT_STATUS(RECDB_OK, recdb_get_user_history(db, "u", 0, INT64_MAX, 0, &h, err));
  CHECK(recdb_history_count(h) == 1);
  if (recdb_history_count(h) == 1) CHECK(strcmp(recdb_history_item(h, 0), "new") == 0);
  recdb_history_destroy(h);
  EXPECT_STATUS(RECDB_OK, recdb_close(db, err));
}

/* Issue 19 #1/#2: the bad records of python/tests/test_bad_records_everywhere.py
 * that C can express, through recdb_record_events: each is INVALID_ARGUMENT
 * with a message naming the same field as every other surface, and nothing of
 * the batch (a good event goes first) is stored. Invalid UTF-8 was stored
 * before the validator moved from the importer into the DB. */
static void TestBadRecordsTable(const char* base) {
  char path[600];
  Join(path, sizeof path, base, "bad_records");
  recdb_options_t* o = recdb_options_create();
  recdb_options_set_create_if_missing(o, 1);
  recdb_options_set_background_threads(o, 0);
  recdb_t* db = NULL;
  char* msg = NULL;
  CHECK(recdb_open(o, path, &db, &msg) == RECDB_OK);
  recdb_free(msg);
  recdb_options_destroy(o);
  if (db == NULL) return;
  char long_id[301];
  memset(long_id, 'x', 300);
  long_id[300] = '\0';
  struct {
    const char* name;
    const char* user;
    const char* item;
    const char* type;
    int64_t ts;
    int set_value;
    double value;
    const char* field;
  } cases[] = {
      {"empty_user", "", "i1", "view", 1500000000, 0, 0, "user"},
      {"ts_out_of_range", "a", "i1", "view", 10000000000000LL, 0, 0, "timestamp"},
      {"item_too_long", "a", long_id, "view", 1500000000, 0, 0, "item"},
      {"unknown_type", "a", "i1", "nope", 1500000000, 0, 0, "type"},
      {"invalid_utf8_item", "a", "bad\xff", "view", 1500000000, 0, 0, "item"},
      {"invalid_utf8_user", "\xc3\x28", "i1", "view", 1500000000, 0, 0, "user"},
      {"value_not_finite", "a", "i1", "view", 1500000000, 1, NAN, "value"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
    recdb_events_t* ev = recdb_events_create();
    CHECK(recdb_events_add(ev, "good", "g1", "view", 1500000000) == RECDB_OK);
    CHECK(recdb_events_add(ev, cases[c].user, cases[c].item, cases[c].type, cases[c].ts) ==
          RECDB_OK);
    if (cases[c].set_value) CHECK(recdb_events_set_value(ev, cases[c].value) == RECDB_OK);
    char* e = NULL;
    recdb_status_t s = recdb_record_events(db, ev, 0, &e);
    ++checks;
    if (s != RECDB_INVALID_ARGUMENT || e == NULL || strstr(e, cases[c].field) == NULL) {
      ++failures;
      fprintf(stderr, "%s:%d: bad record %s: got %s (%s), want invalid_argument naming %s\n",
              __FILE__, __LINE__, cases[c].name, recdb_status_name(s), e ? e : "no message",
              cases[c].field);
    }
    recdb_free(e);
    recdb_events_destroy(ev);
    recdb_stats_t stats;
    CHECK(recdb_get_stats(db, &stats, NULL) == RECDB_OK);
    CHECK(stats.events == 0);
  }
  CHECK(recdb_close(db, NULL) == RECDB_OK);
}

/* One day of lists: each user gets a `policy` list of 5 at `now`, recorded
 * with its propensities; the user clicks the first item of their own
 * cluster below the top slot. */
static void ServeDay(recdb_t* db, int64_t now, const char* policy) {
  recdb_recommend_options_t* ro = recdb_recommend_options_create();
  recdb_recommend_options_set_k(ro, 5);
  recdb_recommend_options_set_now(ro, now);
  CHECK(recdb_recommend_options_set_policy(ro, policy) == RECDB_OK);
  recdb_events_t* clicks = recdb_events_create();
  char user[16];
  for (int u = 0; u < 40; ++u) {
    snprintf(user, sizeof user, "u%d", u);
    recdb_results_t* res = NULL;
    EXPECT_STATUS(RECDB_OK, recdb_recommend(db, user, ro, &res, err));
    const size_t n = recdb_results_count(res);
    const char* shown[5];
    double p[5];
    for (size_t i = 0; i < n && i < 5; ++i) {
      shown[i] = recdb_results_item(res, i);
      p[i] = recdb_results_propensity(res, i);
    }
    if (n > 0) {
      EXPECT_STATUS(RECDB_OK, recdb_record_impressions_with_propensities(
                                  db, user, shown, p, n < 5 ? n : 5, now, NULL, NULL, 0, 0, err));
    }
    for (size_t i = 1; i < n && i < 5; ++i) {
      if (shown[i][0] == (u < 20 ? 'a' : 'b')) {
        CHECK(recdb_events_add(clicks, user, shown[i], "click", now + 60) == RECDB_OK);
        break;
      }
    }
    recdb_results_destroy(res);
  }
  EXPECT_STATUS(RECDB_OK, recdb_record_events(db, clicks, 0, err));
  recdb_events_destroy(clicks);
  recdb_recommend_options_destroy(ro);
}

/* The learned policy through the C API: recdb_recommend_options_set_policy,
 * recdb_results_propensity / _policy / _policy_note. Before any impression
 * "learned" serves the fused list (propensity 1) and says why; after a Train
 * on two days of logged lists it draws, and its propensities are the draw's. */
static void TestLearnedPolicy(const char* base) {
  recdb_t* db = OpenFresh(base, "learned");
  if (db == NULL) return;
  FillWorld(db);
  recdb_train_options_t* to = recdb_train_options_create();
  recdb_train_options_set_learn_weights(to, 0);
  recdb_train_options_set_ials_factors(to, 8);
  recdb_train_options_set_ials_iterations(to, 5);
  recdb_train_options_set_threads(to, 1);
  EXPECT_STATUS(RECDB_OK, recdb_train(db, to, NULL, err));

  const int64_t t0 = 1700100000;
  recdb_recommend_options_t* ro = recdb_recommend_options_create();
  recdb_recommend_options_set_k(ro, 5);
  recdb_recommend_options_set_now(ro, t0);
  recdb_results_t* res = NULL;
  /* Default: the fused list, no note. */
  EXPECT_STATUS(RECDB_OK, recdb_recommend(db, "u3", ro, &res, err));
  CHECK(res != NULL && strcmp(recdb_results_policy(res), "fused") == 0);
  CHECK(res != NULL && strcmp(recdb_results_policy_note(res), "") == 0);
  CHECK(recdb_results_propensity(res, 0) == 1.0);
  CHECK(recdb_results_propensity(res, 99) == 0.0);
  recdb_results_destroy(res);
  CHECK(recdb_results_policy(NULL) == NULL && recdb_results_policy_note(NULL) == NULL);
  CHECK(recdb_results_propensity(NULL, 0) == 0.0);
  /* "learned" with no policy trained: the fused list, and why. */
  CHECK(recdb_recommend_options_set_policy(ro, "learned") == RECDB_OK);
  res = NULL;
  EXPECT_STATUS(RECDB_OK, recdb_recommend(db, "u3", ro, &res, err));
  CHECK(res != NULL && strcmp(recdb_results_policy(res), "fused") == 0);
  CHECK(res != NULL && strstr(recdb_results_policy_note(res), "no impressions") != NULL);
  for (size_t i = 0; i < recdb_results_count(res); ++i) {
    CHECK(recdb_results_propensity(res, i) == 1.0);
  }
  recdb_results_destroy(res);
  /* An unknown policy name. */
  CHECK(recdb_recommend_options_set_policy(ro, "bandit") == RECDB_OK);
  char* msg = NULL;
  res = NULL;
  CHECK(recdb_recommend(db, "u3", ro, &res, &msg) == RECDB_INVALID_ARGUMENT);
  CHECK(res == NULL && msg != NULL);
  recdb_free(msg);
  CHECK(recdb_recommend_options_set_policy(NULL, "learned") == RECDB_INVALID_ARGUMENT);

  /* Two days of logged lists, a Train: the policy draws. */
  ServeDay(db, t0, NULL);
  ServeDay(db, t0 + 86400, "learned");
  EXPECT_STATUS(RECDB_OK, recdb_train(db, to, NULL, err));
  recdb_train_options_destroy(to);
  CHECK(recdb_recommend_options_set_policy(ro, "learned") == RECDB_OK);
  recdb_recommend_options_set_now(ro, t0 + 2 * 86400);
  res = NULL;
  EXPECT_STATUS(RECDB_OK, recdb_recommend(db, "u3", ro, &res, err));
  CHECK(res != NULL && strcmp(recdb_results_policy(res), "learned") == 0);
  CHECK(recdb_results_count(res) == 5);
  int below_one = 0;
  for (size_t i = 0; i < recdb_results_count(res); ++i) {
    const double p = recdb_results_propensity(res, i);
    CHECK(p > 0.0 && p <= 1.0);
    below_one += p < 1.0;
  }
  CHECK(below_one > 0);  /* a draw, not the fused ranking */
  recdb_results_destroy(res);
  /* NULL resets to the fused ranking. */
  CHECK(recdb_recommend_options_set_policy(ro, NULL) == RECDB_OK);
  res = NULL;
  EXPECT_STATUS(RECDB_OK, recdb_recommend(db, "u3", ro, &res, err));
  CHECK(res != NULL && strcmp(recdb_results_policy(res), "fused") == 0);
  recdb_results_destroy(res);
  recdb_recommend_options_destroy(ro);
  EXPECT_STATUS(RECDB_OK, recdb_close(db, err));
}

int main(void) {
  const char* tmp = getenv("TMPDIR");
  char base[512];
  snprintf(base, sizeof base, "%s/recdb_capi_XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(base) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  TestStatusAndVersion();
  TestOpenErrors(base);
  TestBuilders();
  TestDatabase(base);
  TestRulesHistoryImpressions(base);
  TestLearnedPolicy(base);
  TestOptionsFile(base);
  TestBadRecordsTable(base);
  RemoveTree(base);
  printf("capi_test: %d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
