/* recdb C API: the C++ API of recdb/db.h behind opaque handles, for C and for
 * any language with a C foreign-function interface.
 *
 * Link with recdb::recdb_c (CMake) or -lrecdb_c. The library is built on the
 * public C++ API only and catches every C++ exception at this boundary: a
 * failure is always a returned status, never an abort or an unwinding.
 *
 * Conventions:
 *  - Fallible calls return a recdb_status_t (RECDB_OK = 0) and take a last
 *    parameter `char** errmsg`. When errmsg is not NULL, *errmsg is set to
 *    NULL on success and, on failure, to a malloc'd, NUL-terminated message
 *    (the C++ Status message) that the caller frees with recdb_free.
 *  - Strings passed in are NUL-terminated UTF-8 and are copied; the caller
 *    keeps ownership. A NULL where a string or handle is required is
 *    RECDB_INVALID_ARGUMENT.
 *  - Every handle a *_create or a call returns is owned by the caller and
 *    released by its *_destroy function (recdb_close for recdb_t); strings a
 *    call returns as `char*` are released with recdb_free. Pointers an
 *    accessor returns as `const char*` stay valid until their handle is
 *    destroyed.
 *  - Builders (recdb_events_t, recdb_items_t, recdb_users_t): *_add starts a
 *    new record; the other setters change the record added last and return
 *    RECDB_FAILED_PRECONDITION when nothing was added yet.
 *
 * Thread-safety: a recdb_t may be used by many threads at once, exactly like
 * recdb::DB, but recdb_close must not run concurrently with any other call on
 * it. Other handles (options, builders, results) are not synchronised: use
 * one from one thread at a time.
 *
 * Example (error handling shortened):
 *
 *   recdb_options_t* o = recdb_options_create();
 *   recdb_options_set_create_if_missing(o, 1);
 *   recdb_t* db = NULL;
 *   char* err = NULL;
 *   if (recdb_open(o, "/tmp/shop", &db, &err) != RECDB_OK) { puts(err); recdb_free(err); }
 *   recdb_options_destroy(o);
 *   recdb_events_t* ev = recdb_events_create();
 *   recdb_events_add(ev, "u1", "i1", "view", 1700000000);
 *   recdb_record_events(db, ev, 0, &err);
 *   recdb_train(db, NULL, NULL, &err);
 *   recdb_results_t* r = NULL;
 *   recdb_recommend(db, "u1", NULL, &r, &err);
 *   for (size_t i = 0; i < recdb_results_count(r); ++i) puts(recdb_results_item(r, i));
 *   recdb_results_destroy(r);
 *   recdb_close(db, &err);
 */
#ifndef RECDB_C_H_
#define RECDB_C_H_

#include <stddef.h>
#include <stdint.h>

#include "recdb/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status --------------------------------------------------------------- */

/* Values equal recdb::StatusCode (recdb/status.h). */
typedef enum recdb_status_t {
  RECDB_OK = 0,
  RECDB_NOT_FOUND = 1,            /* the named user, item, space, ... does not exist */
  RECDB_INVALID_ARGUMENT = 2,     /* the caller's input is malformed or out of range */
  RECDB_CORRUPTION = 3,           /* bytes on disk failed verification */
  RECDB_IO_ERROR = 4,             /* the file system failed */
  RECDB_ALREADY_EXISTS = 5,       /* creating something whose name is taken */
  RECDB_FAILED_PRECONDITION = 6,  /* the call is valid but not in this state */
  RECDB_RESOURCE_EXHAUSTED = 7,   /* a documented limit was reached, or out of memory */
  RECDB_NOT_SUPPORTED = 8,
  RECDB_ABORTED = 9,
  RECDB_INTERNAL = 10             /* a bug in recdb (or an unexpected C++ exception) */
} recdb_status_t;

/* A stable lower-case name, e.g. "invalid_argument"; "unknown" for a value
 * outside the enum. The string is static. `status` is an int so that any
 * value can be passed (see "Enum arguments" below). */
RECDB_EXPORT const char* recdb_status_name(int status);

/* Releases a string returned by this API (error messages, JSON). NULL is a no-op. */
RECDB_EXPORT void recdb_free(void* ptr);

/* The library version, e.g. "0.1.0" (static string). */
RECDB_EXPORT const char* recdb_version(void);

/* ---- Options and open/close ------------------------------------------------ */

typedef struct recdb_options_t recdb_options_t;
typedef struct recdb_t recdb_t;

/* Defaults as recdb::Options (recdb/options.h): create_if_missing 0,
 * error_if_exists 0, read_only 0, auto_create_users 1, auto_create_items 1,
 * background_threads 2, retrain_interval_seconds 0,
 * index_checkpoint_interval_seconds 300. Returns NULL only when out of memory. */
RECDB_EXPORT recdb_options_t* recdb_options_create(void);
RECDB_EXPORT void recdb_options_destroy(recdb_options_t* options);
RECDB_EXPORT void recdb_options_set_create_if_missing(recdb_options_t* options, int value);
RECDB_EXPORT void recdb_options_set_error_if_exists(recdb_options_t* options, int value);
RECDB_EXPORT void recdb_options_set_read_only(recdb_options_t* options, int value);
RECDB_EXPORT void recdb_options_set_auto_create_users(recdb_options_t* options, int value);
RECDB_EXPORT void recdb_options_set_auto_create_items(recdb_options_t* options, int value);
RECDB_EXPORT void recdb_options_set_background_threads(recdb_options_t* options, int value);
RECDB_EXPORT void recdb_options_set_retrain_interval_seconds(recdb_options_t* options, int64_t value);
RECDB_EXPORT void recdb_options_set_index_checkpoint_interval_seconds(recdb_options_t* options,
                                                         int64_t value);

/* Every other option (care defaults, retention policy, pseudonym key file,
 * aggregate privacy, cache sizes) comes from the JSON options file the admin
 * CLI reads too (recdb/options_file.h; `recdb options` prints one). Applies
 * the file at `path` over `options`: fields it leaves out keep their value.
 * Errors: INVALID_ARGUMENT (NULL argument, malformed JSON, an unknown field,
 * a wrong type or range, naming the field), NOT_FOUND (no such file),
 * IO_ERROR. On error `options` is unchanged. */
RECDB_EXPORT recdb_status_t recdb_options_load_file(recdb_options_t* options, const char* path,
                                       char** errmsg);
/* The same from a JSON string. */
RECDB_EXPORT recdb_status_t recdb_options_parse_json(recdb_options_t* options, const char* json,
                                        char** errmsg);

/* Opens the database in directory `path` (options NULL = defaults) and sets
 * *db. Errors as recdb::DB::Open: NOT_FOUND when it does not exist and
 * !create_if_missing, ALREADY_EXISTS with error_if_exists, CORRUPTION,
 * IO_ERROR (including a directory locked by another process). On failure
 * *db is set to NULL. */
RECDB_EXPORT recdb_status_t recdb_open(const recdb_options_t* options, const char* path, recdb_t** db,
                          char** errmsg);

/* Flushes, stops background work and releases the handle, which is invalid
 * afterwards whatever the result. Returns the first error met while closing.
 * NULL is a no-op returning RECDB_OK. */
RECDB_EXPORT recdb_status_t recdb_close(recdb_t* db, char** errmsg);

/* ---- Event types ----------------------------------------------------------- */

/* Registers `name` with `weight` (models weight its events by it; negative =
 * negative signal), or updates the weight of an existing type. A new
 * database holds view 1, click 1, like 2, add_to_cart 3, purchase 5,
 * rating 1, dislike -1. Errors: INVALID_ARGUMENT, RESOURCE_EXHAUSTED. */
RECDB_EXPORT recdb_status_t recdb_register_event_type(recdb_t* db, const char* name, double weight,
                                         char** errmsg);

/* ---- Writes ----------------------------------------------------------------- */

typedef struct recdb_events_t recdb_events_t;
typedef struct recdb_items_t recdb_items_t;
typedef struct recdb_users_t recdb_users_t;

/* A batch of events. */
RECDB_EXPORT recdb_events_t* recdb_events_create(void);
RECDB_EXPORT void recdb_events_destroy(recdb_events_t* events);
RECDB_EXPORT void recdb_events_clear(recdb_events_t* events);
RECDB_EXPORT size_t recdb_events_count(const recdb_events_t* events);
/* Appends an event of `user` on `item` of registered type `type` at
 * `timestamp` (seconds since the epoch). */
RECDB_EXPORT recdb_status_t recdb_events_add(recdb_events_t* events, const char* user, const char* item,
                                const char* type, int64_t timestamp);
/* Sets the payload (e.g. a rating) of the last event. */
RECDB_EXPORT recdb_status_t recdb_events_set_value(recdb_events_t* events, double value);
/* Adds a context entry (device, session, ...) to the last event. */
RECDB_EXPORT recdb_status_t recdb_events_add_context(recdb_events_t* events, const char* key,
                                        const char* value);

/* Appends the batch to the users' histories in one atomic write (sync: fsync
 * the WAL first). Errors (nothing of the batch stored): INVALID_ARGUMENT for
 * an unknown event type, a bad id, value or timestamp, an unknown user or
 * item when auto-creation is off (the message names the record's index);
 * FAILED_PRECONDITION when read-only; IO_ERROR. */
RECDB_EXPORT recdb_status_t recdb_record_events(recdb_t* db, const recdb_events_t* events, int sync,
                                   char** errmsg);

/* Caller-owned output of recdb_record_events_counted: every event of the
 * batch in exactly one count. */
typedef struct recdb_record_events_result_t {
  int64_t stored;            /* appended to its user's history */
  int64_t counted_only;      /* user consent store_events is off: per-item counts only */
  int64_t dropped_forgotten; /* user is in the forget ledger (recdb_forget_user): dropped */
} recdb_record_events_result_t;

/* As recdb_record_events, and on success fills *result (if not NULL) with
 * how many events were stored, only counted and dropped. An event of a
 * forgotten user is dropped, not stored and not an error: a caller that
 * reports "N events stored" must report dropped_forgotten separately. */
RECDB_EXPORT recdb_status_t recdb_record_events_counted(recdb_t* db, const recdb_events_t* events,
                                                        int sync,
                                                        recdb_record_events_result_t* result,
                                                        char** errmsg);

/* A batch of items. */
RECDB_EXPORT recdb_items_t* recdb_items_create(void);
RECDB_EXPORT void recdb_items_destroy(recdb_items_t* items);
RECDB_EXPORT void recdb_items_clear(recdb_items_t* items);
RECDB_EXPORT size_t recdb_items_count(const recdb_items_t* items);
RECDB_EXPORT recdb_status_t recdb_items_add(recdb_items_t* items, const char* id);
RECDB_EXPORT recdb_status_t recdb_items_set_title(recdb_items_t* items, const char* title);
RECDB_EXPORT recdb_status_t recdb_items_set_description(recdb_items_t* items, const char* description);
RECDB_EXPORT recdb_status_t recdb_items_add_category(recdb_items_t* items, const char* category);
RECDB_EXPORT recdb_status_t recdb_items_set_creator(recdb_items_t* items, const char* creator);
RECDB_EXPORT recdb_status_t recdb_items_set_created_at(recdb_items_t* items, int64_t created_at);
/* 0: kept, but never recommended. Default 1. */
RECDB_EXPORT recdb_status_t recdb_items_set_available(recdb_items_t* items, int available);
RECDB_EXPORT recdb_status_t recdb_items_set_attribute_string(recdb_items_t* items, const char* key,
                                                const char* value);
RECDB_EXPORT recdb_status_t recdb_items_set_attribute_number(recdb_items_t* items, const char* key,
                                                double value);
RECDB_EXPORT recdb_status_t recdb_items_set_attribute_bool(recdb_items_t* items, const char* key, int value);
/* A string-list attribute of `count` strings. */
RECDB_EXPORT recdb_status_t recdb_items_set_attribute_list(recdb_items_t* items, const char* key,
                                              const char* const* values, size_t count);

/* Inserts or replaces the items, atomically (as DB::UpsertItems). */
RECDB_EXPORT recdb_status_t recdb_upsert_items(recdb_t* db, const recdb_items_t* items, int sync,
                                  char** errmsg);

/* A batch of users; consent defaults to everything allowed. */
RECDB_EXPORT recdb_users_t* recdb_users_create(void);
RECDB_EXPORT void recdb_users_destroy(recdb_users_t* users);
RECDB_EXPORT void recdb_users_clear(recdb_users_t* users);
RECDB_EXPORT size_t recdb_users_count(const recdb_users_t* users);
RECDB_EXPORT recdb_status_t recdb_users_add(recdb_users_t* users, const char* id);
RECDB_EXPORT recdb_status_t recdb_users_set_consent(recdb_users_t* users, int personalization,
                                       int store_events, int training);
RECDB_EXPORT recdb_status_t recdb_users_set_attribute_string(recdb_users_t* users, const char* key,
                                                const char* value);
RECDB_EXPORT recdb_status_t recdb_users_set_attribute_number(recdb_users_t* users, const char* key,
                                                double value);
RECDB_EXPORT recdb_status_t recdb_users_set_attribute_bool(recdb_users_t* users, const char* key, int value);

/* Inserts or replaces the users, atomically (as DB::UpsertUsers). */
RECDB_EXPORT recdb_status_t recdb_upsert_users(recdb_t* db, const recdb_users_t* users, int sync,
                                  char** errmsg);

/* ---- Reads -------------------------------------------------------------------- */

/* Caller-owned output of recdb_get_stats. */
typedef struct recdb_stats_t {
  int64_t users;
  int64_t items;
  int64_t events;
  int64_t event_types;
  uint64_t sequence_number;
  uint64_t disk_bytes;
} recdb_stats_t;

RECDB_EXPORT recdb_status_t recdb_get_stats(recdb_t* db, recdb_stats_t* stats, char** errmsg);

/* A user's events (DB::GetUserHistory), read through accessors that take the
 * event index i (0 = oldest) and, for context entries, an index j (entries
 * in key order); an index out of range returns NULL / 0. */
typedef struct recdb_history_t recdb_history_t;

/* The events of `user` with start <= timestamp < end, oldest first (ties in
 * the order they were recorded), in *history (NULL on failure); with limit
 * > 0 only the first `limit` of them (0 = no limit). start 0 and end
 * INT64_MAX cover every event; start >= end gives none. Errors: NOT_FOUND for an
 * unknown user; CORRUPTION; IO_ERROR. */
RECDB_EXPORT recdb_status_t recdb_get_user_history(recdb_t* db, const char* user, int64_t start,
                                      int64_t end, size_t limit, recdb_history_t** history,
                                      char** errmsg);
RECDB_EXPORT void recdb_history_destroy(recdb_history_t* history);
RECDB_EXPORT size_t recdb_history_count(const recdb_history_t* history);
RECDB_EXPORT const char* recdb_history_item(const recdb_history_t* history, size_t i);
RECDB_EXPORT const char* recdb_history_type(const recdb_history_t* history, size_t i);
RECDB_EXPORT int64_t recdb_history_timestamp(const recdb_history_t* history, size_t i);
/* 1 when the event carries a value (recdb_events_set_value), else 0. */
RECDB_EXPORT int recdb_history_has_value(const recdb_history_t* history, size_t i);
RECDB_EXPORT double recdb_history_value(const recdb_history_t* history, size_t i);
RECDB_EXPORT size_t recdb_history_context_count(const recdb_history_t* history, size_t i);
RECDB_EXPORT const char* recdb_history_context_key(const recdb_history_t* history, size_t i, size_t j);
RECDB_EXPORT const char* recdb_history_context_value(const recdb_history_t* history, size_t i, size_t j);

/* ---- Training ----------------------------------------------------------------- */

typedef struct recdb_train_options_t recdb_train_options_t;

/* Defaults as recdb::TrainOptions: learn_weights 1, reuse_stored_weights 0,
 * ials_factors 64, ials_iterations 15, threads 2. Training is deterministic:
 * the same events and options give the same model. */
RECDB_EXPORT recdb_train_options_t* recdb_train_options_create(void);
RECDB_EXPORT void recdb_train_options_destroy(recdb_train_options_t* options);
RECDB_EXPORT void recdb_train_options_set_learn_weights(recdb_train_options_t* options, int value);
RECDB_EXPORT void recdb_train_options_set_reuse_stored_weights(recdb_train_options_t* options, int value);
/* As TrainOptions::incremental: keep the serving model's weights, warm-start iALS. */
RECDB_EXPORT void recdb_train_options_set_incremental(recdb_train_options_t* options, int value);
RECDB_EXPORT void recdb_train_options_set_ials_factors(recdb_train_options_t* options, int value);
RECDB_EXPORT void recdb_train_options_set_ials_iterations(recdb_train_options_t* options, int value);
RECDB_EXPORT void recdb_train_options_set_threads(recdb_train_options_t* options, int value);

/* Caller-owned output of recdb_train. */
typedef struct recdb_train_report_t {
  uint64_t model_version;
  double seconds;
  int64_t events; /* events the models saw */
} recdb_train_report_t;

/* Fits the recommenders on the event log and swaps the model in (options
 * NULL = defaults; report may be NULL). Errors: FAILED_PRECONDITION when
 * there are no events with a positive weight; errors of the event scan. */
RECDB_EXPORT recdb_status_t recdb_train(recdb_t* db, const recdb_train_options_t* options,
                           recdb_train_report_t* report, char** errmsg);

/* ---- Recommend and similar items ----------------------------------------------- */

typedef struct recdb_recommend_options_t recdb_recommend_options_t;
typedef struct recdb_results_t recdb_results_t;

/* Defaults as recdb::RecommendRequest: k 10, now 0 (the clock), exclude_seen
 * 1, no context, no filter but available items only, learned weights, the
 * database's care options. */
RECDB_EXPORT recdb_recommend_options_t* recdb_recommend_options_create(void);
RECDB_EXPORT void recdb_recommend_options_destroy(recdb_recommend_options_t* options);
/* 1..1000 (recommend); similar takes its own k. */
RECDB_EXPORT void recdb_recommend_options_set_k(recdb_recommend_options_t* options, size_t k);
/* Request time, seconds since the epoch (0 = now). Fixing it makes results
 * independent of the wall clock (hour-of-day, trending, rotation). */
RECDB_EXPORT void recdb_recommend_options_set_now(recdb_recommend_options_t* options, int64_t now);
RECDB_EXPORT void recdb_recommend_options_set_exclude_seen(recdb_recommend_options_t* options, int value);
/* 1: recdb_recommend returns NOT_FOUND for a user the database does not
 * know, instead of the cold-start fallback (popular items, explained as
 * such). Default 0. Has no effect on similar items. */
RECDB_EXPORT void recdb_recommend_options_set_require_known_user(recdb_recommend_options_t* options,
                                                                 int value);
/* Request context, e.g. ("device", "mobile"). */
RECDB_EXPORT recdb_status_t recdb_recommend_options_add_context(recdb_recommend_options_t* options,
                                                   const char* key, const char* value);
/* Never return this item. */
RECDB_EXPORT recdb_status_t recdb_recommend_options_add_exclude(recdb_recommend_options_t* options,
                                                   const char* item);
/* Replaces the learned fusion weight of recommender `name` (e.g. "ials"). */
RECDB_EXPORT recdb_status_t recdb_recommend_options_set_weight(recdb_recommend_options_t* options,
                                                  const char* name, double weight);
/* An item of the visitor's session, oldest first (with user NULL: anonymous). */
RECDB_EXPORT recdb_status_t recdb_recommend_options_add_session_item(recdb_recommend_options_t* options,
                                                        const char* item);
/* Filter: the item has at least one of the added categories. */
RECDB_EXPORT recdb_status_t recdb_recommend_options_add_category(recdb_recommend_options_t* options,
                                                    const char* category);
/* Filter: string/bool attribute `key` equals `value` ("true"/"false" for bools). */
RECDB_EXPORT recdb_status_t recdb_recommend_options_add_attribute_equals(recdb_recommend_options_t* options,
                                                            const char* key, const char* value);
/* Filter: only available items (default 1). */
RECDB_EXPORT void recdb_recommend_options_set_available_only(recdb_recommend_options_t* options, int value);
/* Re-ranking for this request (recdb/care.h), each knob in [0, 1]; replaces
 * the database's care options. */
RECDB_EXPORT void recdb_recommend_options_set_care(recdb_recommend_options_t* options, double diversity,
                                      double calibration, double fair_share,
                                      double exploration);

/* Who picks the list (RecommendRequest::policy, engine/policy/README.md):
 * NULL, "" or "fused" the fused ranking (each result's propensity 1);
 * "learned" the learned policy, which draws the k results from the fused
 * model's candidates and gives each its propensity (recdb_results_propensity,
 * to pass to recdb_record_impressions_with_propensities). Without a trained
 * learned policy the fused list serves and recdb_results_policy_note says
 * why. Any other name makes recdb_recommend fail with INVALID_ARGUMENT. */
RECDB_EXPORT recdb_status_t recdb_recommend_options_set_policy(recdb_recommend_options_t* options,
                                                  const char* policy);

/* Business rules for this request (recdb::BusinessRules, recdb/care.h),
 * applied after the care stages. As in C++, ids the database does not know
 * are skipped, not errors. */
/* Places `item` first, after the pins added before it, if it passes the
 * request's filter (and is not a seen item when exclude_seen). */
RECDB_EXPORT recdb_status_t recdb_recommend_options_add_pin(recdb_recommend_options_t* options,
                                               const char* item);
/* Adds `factor` to the item's relevance (1/log2(fused rank + 2), 1 for the
 * best) before re-ranking; negative demotes. Setting it again replaces it.
 * A factor that is not finite is RECDB_INVALID_ARGUMENT and changes nothing. */
RECDB_EXPORT recdb_status_t recdb_recommend_options_set_boost(recdb_recommend_options_t* options,
                                                 const char* item, double factor);
/* Moves `item` after every other candidate (still listed if k requires). */
RECDB_EXPORT recdb_status_t recdb_recommend_options_add_bury(recdb_recommend_options_t* options,
                                                const char* item);

/* The best items for `user` (NULL or "" = anonymous: session items only),
 * with scores, per-recommender contributions and explanations, in *results
 * (NULL on failure). options NULL = defaults. Errors: FAILED_PRECONDITION
 * before the first train; INVALID_ARGUMENT for k outside 1..1000 or an
 * unknown recommender name in the weights; NOT_FOUND for an unknown user
 * with recdb_recommend_options_set_require_known_user. */
RECDB_EXPORT recdb_status_t recdb_recommend(recdb_t* db, const char* user,
                               const recdb_recommend_options_t* options,
                               recdb_results_t** results, char** errmsg);

/* The k items most similar to `item` by the trained recommenders, best first.
 * Of options only the filter is used (categories, attributes, available
 * only, excluded items). Errors: NOT_FOUND for an unknown item; as recommend. */
RECDB_EXPORT recdb_status_t recdb_similar_items(recdb_t* db, const char* item, size_t k,
                                   const recdb_recommend_options_t* options,
                                   recdb_results_t** results, char** errmsg);

/* Results of recommend, similar items and vector search. Accessors take the
 * result index i (0 = best) and, for contributions and evidence, an index j;
 * an index out of range returns NULL / 0. Explanations are always filled for
 * recommend and similar items (the C++ API computes them with every result);
 * a caller that does not show them simply does not read them. */
RECDB_EXPORT void recdb_results_destroy(recdb_results_t* results);
RECDB_EXPORT size_t recdb_results_count(const recdb_results_t* results);
RECDB_EXPORT uint64_t recdb_results_model_version(const recdb_results_t* results);
RECDB_EXPORT const char* recdb_results_item(const recdb_results_t* results, size_t i);
RECDB_EXPORT double recdb_results_score(const recdb_results_t* results, size_t i);
/* The probability in (0, 1] with which the serving policy put result i at
 * its position given the results above it (Recommendation::propensity): 1
 * for the fused ranking, the draw's probability for "learned"; 0 for an
 * index out of range. */
RECDB_EXPORT double recdb_results_propensity(const recdb_results_t* results, size_t i);
/* The policy that chose the list ("fused" or "learned"; "fused" for similar
 * items and search), and, when "learned" was asked for but the fused list
 * served, why (else ""). NULL for results NULL. */
RECDB_EXPORT const char* recdb_results_policy(const recdb_results_t* results);
RECDB_EXPORT const char* recdb_results_policy_note(const recdb_results_t* results);
/* Recommender name -> its weighted, normalised share of the score. */
RECDB_EXPORT size_t recdb_results_contribution_count(const recdb_results_t* results, size_t i);
RECDB_EXPORT const char* recdb_results_contribution_name(const recdb_results_t* results, size_t i, size_t j);
RECDB_EXPORT double recdb_results_contribution_value(const recdb_results_t* results, size_t i, size_t j);
/* One human sentence, e.g. "Because you watched Toy Story." */
RECDB_EXPORT const char* recdb_results_explanation(const recdb_results_t* results, size_t i);
/* Evidence (recdb/recommend.h, Evidence): kind, recommender, share, item,
 * category, text; empty strings for fields that do not apply. */
RECDB_EXPORT size_t recdb_results_evidence_count(const recdb_results_t* results, size_t i);
RECDB_EXPORT const char* recdb_results_evidence_kind(const recdb_results_t* results, size_t i, size_t j);
RECDB_EXPORT const char* recdb_results_evidence_recommender(const recdb_results_t* results, size_t i,
                                               size_t j);
RECDB_EXPORT double recdb_results_evidence_share(const recdb_results_t* results, size_t i, size_t j);
RECDB_EXPORT const char* recdb_results_evidence_item(const recdb_results_t* results, size_t i, size_t j);
RECDB_EXPORT const char* recdb_results_evidence_category(const recdb_results_t* results, size_t i,
                                            size_t j);
RECDB_EXPORT const char* recdb_results_evidence_text(const recdb_results_t* results, size_t i, size_t j);

/* ---- Impressions ----------------------------------------------------------------- */

/* Records that items[0..count) were shown to `user`, in slot order
 * (DB::RecordImpressions): an item shown rotate_after_impressions times
 * (default 3) within rotate_period_seconds (default 7 days) with no event of
 * the user on it since leaves the user's lists for a while; the counts also
 * feed fair exposure and exploration. timestamp: seconds since the epoch,
 * 0 = now. context_keys/context_values: context_count entries such as
 * ("surface", "home"); a repeated key keeps its last value; both may be
 * NULL when context_count is 0. Nothing is stored for a user whose consent
 * forbids storing events. Errors: NOT_FOUND for an unknown user;
 * INVALID_ARGUMENT for a NULL, an unknown item (naming its index), count 0
 * or above 1000, a timestamp outside [0, 253402300799] or more than 32
 * context entries; FAILED_PRECONDITION when read-only; IO_ERROR. */
RECDB_EXPORT recdb_status_t recdb_record_impressions(recdb_t* db, const char* user,
                                        const char* const* items, size_t count,
                                        int64_t timestamp, const char* const* context_keys,
                                        const char* const* context_values,
                                        size_t context_count, int sync, char** errmsg);
/* recdb_record_impressions with, per slot, the probability in (0, 1] with
 * which the showing policy put that item there (ImpressionContext::
 * propensities: what `recdb eval --off-policy` weighs by). propensities:
 * `count` values, or NULL for none (as recdb_record_impressions). Errors as
 * recdb_record_impressions, and INVALID_ARGUMENT for a value outside (0, 1]
 * (naming its index); nothing is stored then. */
RECDB_EXPORT recdb_status_t recdb_record_impressions_with_propensities(
    recdb_t* db, const char* user, const char* const* items, const double* propensities,
    size_t count, int64_t timestamp, const char* const* context_keys,
    const char* const* context_values, size_t context_count, int sync, char** errmsg);

/* ---- Embedding spaces ----------------------------------------------------------- */

/* Enum arguments: functions take a metric or entity kind as an int holding
 * one of these values, not as the enum type, so that a value outside the
 * enum is a defined input (rejected with RECDB_INVALID_ARGUMENT), never
 * undefined behaviour. An enum value converts to int implicitly; the calling
 * convention is the same as for the enum. */
typedef enum recdb_metric_t {
  RECDB_METRIC_COSINE = 0,
  RECDB_METRIC_INNER_PRODUCT = 1,
  RECDB_METRIC_L2 = 2
} recdb_metric_t;

typedef enum recdb_entity_kind_t { RECDB_ITEM = 0, RECDB_USER = 1 } recdb_entity_kind_t;

/* Creates an empty space with default HNSW parameters (M 16, ef 200/64).
 * metric: a recdb_metric_t value. model_name may be NULL. Errors as
 * DB::CreateSpace: INVALID_ARGUMENT (also for a metric outside
 * recdb_metric_t), ALREADY_EXISTS, FAILED_PRECONDITION when read-only. */
RECDB_EXPORT recdb_status_t recdb_create_space(recdb_t* db, const char* name, int dimension,
                                  int metric, const char* model_name,
                                  char** errmsg);
/* Errors: NOT_FOUND. */
RECDB_EXPORT recdb_status_t recdb_drop_space(recdb_t* db, const char* name, char** errmsg);

/* Stores `count` vectors of `dimension` floats each, row-major in `values`
 * (count * dimension floats), for ids[0..count) of `kind` (a
 * recdb_entity_kind_t value), atomically. Errors as DB::PutVectors: NOT_FOUND
 * for an unknown space; INVALID_ARGUMENT naming batch[i] for an unknown id or
 * a wrong dimension / non-finite value, or for a kind outside
 * recdb_entity_kind_t. */
RECDB_EXPORT recdb_status_t recdb_put_vectors(recdb_t* db, const char* space, int kind,
                                 const char* const* ids, size_t count, const float* values,
                                 size_t dimension, int sync, char** errmsg);

/* The min(k, matching) items nearest `query` (dimension floats), best
 * first, in *results (scores only: no contributions or explanations).
 * options: filter only, may be NULL. Errors: NOT_FOUND; INVALID_ARGUMENT. */
RECDB_EXPORT recdb_status_t recdb_search_similar(recdb_t* db, const char* space, const float* query,
                                    size_t dimension, size_t k,
                                    const recdb_recommend_options_t* options,
                                    recdb_results_t** results, char** errmsg);

/* ---- Privacy --------------------------------------------------------------------- */

/* recdb_forget_user flags (ForgetOptions, recdb/privacy.h). */
#define RECDB_FORGET_WAIT_FOR_PHYSICAL_ERASURE 1 /* run the erasure sweep before returning */
#define RECDB_FORGET_RETRAIN 2                   /* retrain before returning */

/* Caller-owned output of recdb_forget_user: what was removed. */
typedef struct recdb_erasure_receipt_t {
  int had_user_record;
  int64_t events_removed;
  int64_t vectors_removed;
  int64_t impressions_removed;
  int64_t counts_adjusted;
  int64_t bytes_estimate;
  int64_t timestamp;
  int physically_erased;
  int model_retrained;
  int retrain_scheduled;
  char ledger_hash[65]; /* hex HMAC-SHA256 the forget ledger keeps, NUL-terminated */
} recdb_erasure_receipt_t;

/* Forgets user `id` (DB::ForgetUser): record, events, vectors, impressions
 * and their share of the counts, in one atomic write; a keyed hash of the id
 * enters the ledger. flags: RECDB_FORGET_* or 0. receipt may be NULL.
 * Errors: INVALID_ARGUMENT for a bad id; NOT_FOUND for an unknown user
 * (FAILED_PRECONDITION if already forgotten); FAILED_PRECONDITION when
 * read-only; IO_ERROR. */
RECDB_EXPORT recdb_status_t recdb_forget_user(recdb_t* db, const char* id, int flags,
                                 recdb_erasure_receipt_t* receipt, char** errmsg);

/* Everything held about user `id` as one JSON object, in *json (malloc'd,
 * free with recdb_free; NULL on failure). Errors: NOT_FOUND; CORRUPTION. */
RECDB_EXPORT recdb_status_t recdb_export_user(recdb_t* db, const char* id, char** json, char** errmsg);

/* ---- Snapshots (recdb/snapshot.h) --------------------------------------------------- */

/* Caller-owned output of recdb_create_snapshot. The snapshot's directory is
 * backup_dir + "/" + name, and opens read-only in place. */
typedef struct recdb_snapshot_info_t {
  uint64_t id;
  uint64_t sequence_number;
  uint64_t files;
  uint64_t bytes;
  uint64_t unique_bytes;
  double seconds;
  char name[64]; /* e.g. "snapshot-000001", NUL-terminated */
} recdb_snapshot_info_t;

/* Takes a consistent online snapshot into backup_dir (created if missing),
 * hard-linking unchanged files when link_files is non-zero. info may be
 * NULL. Errors: FAILED_PRECONDITION after close; IO_ERROR. */
RECDB_EXPORT recdb_status_t recdb_create_snapshot(recdb_t* db, const char* backup_dir, int link_files,
                                     recdb_snapshot_info_t* info, char** errmsg);

/* Restores `src` (a snapshot directory, or a backup directory: its newest
 * snapshot) into `dest`, an absent or empty directory, verifying every file
 * and re-applying the forget ledger (and that of the live database at
 * forget_ledger_from, unless NULL). Errors: NOT_FOUND; CORRUPTION (nothing
 * left in dest); ALREADY_EXISTS when dest is not empty. */
RECDB_EXPORT recdb_status_t recdb_restore(const char* src, const char* dest, const char* forget_ledger_from,
                             char** errmsg);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RECDB_C_H_ */
