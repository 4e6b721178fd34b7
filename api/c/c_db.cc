// recdb/c.h: the calls on a database. Each one checks its pointers, calls
// the C++ API (recdb/db.h, nothing below it) and maps the Status; Guard
// turns any exception into RECDB_INTERNAL / RECDB_RESOURCE_EXHAUSTED.
#include <algorithm>
#include <cstdio>

#include "c_handles.h"

using recdb::capi::CopyString;
using recdb::capi::Fail;
using recdb::capi::FromStatus;
using recdb::capi::Guard;
using recdb::capi::NullArgument;
using recdb::capi::Ok;

namespace {

recdb::WriteOptions MakeWriteOptions(int sync) {
  recdb::WriteOptions wo;
  wo.sync = sync != 0;
  return wo;
}

recdb_results_t* MakeResults(recdb::RecommendResponse response) {
  auto* r = new recdb_results_t();
  r->response = std::move(response);
  r->contributions.reserve(r->response.items.size());
  for (const auto& item : r->response.items) {
    r->contributions.emplace_back(item.contributions.begin(), item.contributions.end());
  }
  return r;
}

// Copies `s` into the fixed buffer `out` of `n` bytes, truncating.
template <size_t N>
void CopyFixed(const std::string& s, char (&out)[N]) {
  size_t len = std::min(s.size(), N - 1);
  std::memcpy(out, s.data(), len);
  out[len] = '\0';
}

recdb::ItemFilter FilterOf(const recdb_recommend_options_t* options) {
  return options == nullptr ? recdb::ItemFilter{} : options->request.filter;
}

recdb::EntityKind KindOf(int kind) {
  return kind == RECDB_USER ? recdb::EntityKind::kUser : recdb::EntityKind::kItem;
}

}  // namespace

extern "C" {

recdb_status_t recdb_open(const recdb_options_t* options, const char* path, recdb_t** db,
                          char** errmsg) {
  return Guard(errmsg, [&] {
    if (db == nullptr) return NullArgument(errmsg, "db");
    *db = nullptr;
    if (path == nullptr) return NullArgument(errmsg, "path");
    auto opened = recdb::DB::Open(options ? options->options : recdb::Options{}, path);
    if (!opened.ok()) return FromStatus(opened.status(), errmsg);
    *db = new recdb_t{std::move(opened).value()};
    return Ok(errmsg);
  });
}

recdb_status_t recdb_close(recdb_t* db, char** errmsg) {
  return Guard(errmsg, [&] {
    if (db == nullptr) return Ok(errmsg);
    std::unique_ptr<recdb_t> owned(db);
    return FromStatus(owned->db->Close(), errmsg);
  });
}

recdb_status_t recdb_register_event_type(recdb_t* db, const char* name, double weight,
                                         char** errmsg) {
  return Guard(errmsg, [&] {
    if (db == nullptr) return NullArgument(errmsg, "db");
    if (name == nullptr) return NullArgument(errmsg, "name");
    recdb::EventType type;
    type.name = name;
    type.weight = weight;
    return FromStatus(db->db->RegisterEventType(type), errmsg);
  });
}

recdb_status_t recdb_record_events(recdb_t* db, const recdb_events_t* events, int sync,
                                   char** errmsg) {
  return Guard(errmsg, [&] {
    if (db == nullptr) return NullArgument(errmsg, "db");
    if (events == nullptr) return NullArgument(errmsg, "events");
    return FromStatus(db->db->RecordEvents(MakeWriteOptions(sync), events->events), errmsg);
  });
}

recdb_status_t recdb_record_events_counted(recdb_t* db, const recdb_events_t* events, int sync,
                                           recdb_record_events_result_t* result, char** errmsg) {
  return Guard(errmsg, [&] {
    if (result != nullptr) *result = recdb_record_events_result_t{0, 0, 0};
    if (db == nullptr) return NullArgument(errmsg, "db");
    if (events == nullptr) return NullArgument(errmsg, "events");
    recdb::RecordEventsResult r;
    recdb::Status s = db->db->RecordEvents(MakeWriteOptions(sync), events->events, &r);
    if (s.ok() && result != nullptr) {
      *result = recdb_record_events_result_t{r.stored, r.counted_only, r.dropped_forgotten};
    }
    return FromStatus(s, errmsg);
  });
}

recdb_status_t recdb_upsert_items(recdb_t* db, const recdb_items_t* items, int sync,
                                  char** errmsg) {
  return Guard(errmsg, [&] {
    if (db == nullptr) return NullArgument(errmsg, "db");
    if (items == nullptr) return NullArgument(errmsg, "items");
    return FromStatus(db->db->UpsertItems(MakeWriteOptions(sync), items->items), errmsg);
  });
}

recdb_status_t recdb_upsert_users(recdb_t* db, const recdb_users_t* users, int sync,
                                  char** errmsg) {
  return Guard(errmsg, [&] {
    if (db == nullptr) return NullArgument(errmsg, "db");
    if (users == nullptr) return NullArgument(errmsg, "users");
    return FromStatus(db->db->UpsertUsers(MakeWriteOptions(sync), users->users), errmsg);
  });
}

recdb_status_t recdb_get_stats(recdb_t* db, recdb_stats_t* stats, char** errmsg) {
  return Guard(errmsg, [&] {
    if (db == nullptr) return NullArgument(errmsg, "db");
    if (stats == nullptr) return NullArgument(errmsg, "stats");
    auto s = db->db->GetStats();
    if (!s.ok()) return FromStatus(s.status(), errmsg);
    stats->users = s->users;
    stats->items = s->items;
    stats->events = s->events;
    stats->event_types = s->event_types;
    stats->sequence_number = s->sequence_number;
    stats->disk_bytes = s->disk_bytes;
    return Ok(errmsg);
  });
}

recdb_status_t recdb_get_user_history(recdb_t* db, const char* user, int64_t start,
                                      int64_t end, size_t limit, recdb_history_t** history,
                                      char** errmsg) {
  return Guard(errmsg, [&] {
    if (history == nullptr) return NullArgument(errmsg, "history");
    *history = nullptr;
    if (db == nullptr) return NullArgument(errmsg, "db");
    if (user == nullptr) return NullArgument(errmsg, "user");
    recdb::HistoryRange range;
    range.start = start;
    range.end = end;
    range.limit = limit;
    auto events = db->db->GetUserHistory(user, range);
    if (!events.ok()) return FromStatus(events.status(), errmsg);
    auto h = std::make_unique<recdb_history_t>();
    h->events = std::move(events).value();
    h->contexts.reserve(h->events.size());
    for (const auto& e : h->events) h->contexts.emplace_back(e.context.begin(), e.context.end());
    *history = h.release();
    return Ok(errmsg);
  });
}

recdb_status_t recdb_train(recdb_t* db, const recdb_train_options_t* options,
                           recdb_train_report_t* report, char** errmsg) {
  return Guard(errmsg, [&] {
    if (db == nullptr) return NullArgument(errmsg, "db");
    auto r = db->db->Train(options ? options->options : recdb::TrainOptions{});
    if (!r.ok()) return FromStatus(r.status(), errmsg);
    if (report != nullptr) {
      report->model_version = r->model_version;
      report->seconds = r->seconds;
      report->events = r->events;
    }
    return Ok(errmsg);
  });
}

recdb_status_t recdb_recommend(recdb_t* db, const char* user,
                               const recdb_recommend_options_t* options,
                               recdb_results_t** results, char** errmsg) {
  return Guard(errmsg, [&] {
    if (results == nullptr) return NullArgument(errmsg, "results");
    *results = nullptr;
    if (db == nullptr) return NullArgument(errmsg, "db");
    recdb::RecommendRequest request = options ? options->request : recdb::RecommendRequest{};
    request.user = user ? user : "";
    auto r = db->db->Recommend(request);
    if (!r.ok()) return FromStatus(r.status(), errmsg);
    *results = MakeResults(std::move(r).value());
    return Ok(errmsg);
  });
}

recdb_status_t recdb_similar_items(recdb_t* db, const char* item, size_t k,
                                   const recdb_recommend_options_t* options,
                                   recdb_results_t** results, char** errmsg) {
  return Guard(errmsg, [&] {
    if (results == nullptr) return NullArgument(errmsg, "results");
    *results = nullptr;
    if (db == nullptr) return NullArgument(errmsg, "db");
    if (item == nullptr) return NullArgument(errmsg, "item");
    auto r = db->db->SimilarItems(item, k, FilterOf(options));
    if (!r.ok()) return FromStatus(r.status(), errmsg);
    *results = MakeResults(std::move(r).value());
    return Ok(errmsg);
  });
}

recdb_status_t recdb_record_impressions_with_propensities(
    recdb_t* db, const char* user, const char* const* items, const double* propensities,
    size_t count, int64_t timestamp, const char* const* context_keys,
    const char* const* context_values, size_t context_count, int sync, char** errmsg) {
  return Guard(errmsg, [&] {
    if (db == nullptr) return NullArgument(errmsg, "db");
    if (user == nullptr) return NullArgument(errmsg, "user");
    if (count > 0 && items == nullptr) return NullArgument(errmsg, "items");
    if (context_count > 0 && (context_keys == nullptr || context_values == nullptr)) {
      return NullArgument(errmsg, "context_keys and context_values");
    }
    std::vector<std::string> shown;
    for (size_t i = 0; i < count; ++i) {
      if (items[i] == nullptr) {
        return Fail(errmsg, RECDB_INVALID_ARGUMENT, "items[" + std::to_string(i) + "] is NULL");
      }
      shown.emplace_back(items[i]);
    }
    recdb::ImpressionContext context;
    context.timestamp = timestamp;
    if (propensities != nullptr) context.propensities.assign(propensities, propensities + count);
    for (size_t j = 0; j < context_count; ++j) {
      if (context_keys[j] == nullptr || context_values[j] == nullptr) {
        return Fail(errmsg, RECDB_INVALID_ARGUMENT,
                    "context entry " + std::to_string(j) + " has a NULL key or value");
      }
      context.context[context_keys[j]] = context_values[j];
    }
    return FromStatus(db->db->RecordImpressions(MakeWriteOptions(sync), user, shown, context),
                      errmsg);
  });
}

recdb_status_t recdb_record_impressions(recdb_t* db, const char* user,
                                        const char* const* items, size_t count,
                                        int64_t timestamp, const char* const* context_keys,
                                        const char* const* context_values,
                                        size_t context_count, int sync, char** errmsg) {
  return recdb_record_impressions_with_propensities(db, user, items, nullptr, count, timestamp,
                                                    context_keys, context_values,
                                                    context_count, sync, errmsg);
}

recdb_status_t recdb_create_space(recdb_t* db, const char* name, int dimension,
                                  int metric, const char* model_name,
                                  char** errmsg) {
  return Guard(errmsg, [&] {
    if (db == nullptr) return NullArgument(errmsg, "db");
    if (name == nullptr) return NullArgument(errmsg, "name");
    recdb::SpaceOptions o;
    o.name = name;
    o.dimension = dimension;
    switch (metric) {
      case RECDB_METRIC_COSINE: o.metric = recdb::Metric::kCosine; break;
      case RECDB_METRIC_INNER_PRODUCT: o.metric = recdb::Metric::kInnerProduct; break;
      case RECDB_METRIC_L2: o.metric = recdb::Metric::kL2; break;
      default:
        return Fail(errmsg, RECDB_INVALID_ARGUMENT,
                    "unknown metric " + std::to_string(metric) +
                        " (RECDB_METRIC_COSINE, _INNER_PRODUCT or _L2)");
    }
    if (model_name != nullptr) o.model_name = model_name;
    return FromStatus(db->db->CreateSpace(o), errmsg);
  });
}

recdb_status_t recdb_drop_space(recdb_t* db, const char* name, char** errmsg) {
  return Guard(errmsg, [&] {
    if (db == nullptr) return NullArgument(errmsg, "db");
    if (name == nullptr) return NullArgument(errmsg, "name");
    return FromStatus(db->db->DropSpace(name), errmsg);
  });
}

recdb_status_t recdb_put_vectors(recdb_t* db, const char* space, int kind,
                                 const char* const* ids, size_t count, const float* values,
                                 size_t dimension, int sync, char** errmsg) {
  return Guard(errmsg, [&] {
    if (db == nullptr) return NullArgument(errmsg, "db");
    if (space == nullptr) return NullArgument(errmsg, "space");
    if (kind != RECDB_ITEM && kind != RECDB_USER) {
      return Fail(errmsg, RECDB_INVALID_ARGUMENT,
                  "unknown entity kind " + std::to_string(kind) + " (RECDB_ITEM or RECDB_USER)");
    }
    if (count > 0 && (ids == nullptr || values == nullptr)) {
      return NullArgument(errmsg, "ids and values");
    }
    std::vector<recdb::VectorRecord> records(count);
    for (size_t i = 0; i < count; ++i) {
      if (ids[i] == nullptr) {
        return Fail(errmsg, RECDB_INVALID_ARGUMENT, "ids[" + std::to_string(i) + "] is NULL");
      }
      records[i].id = ids[i];
      records[i].values.assign(values + i * dimension, values + (i + 1) * dimension);
    }
    return FromStatus(db->db->PutVectors(MakeWriteOptions(sync), space, KindOf(kind), records),
                      errmsg);
  });
}

recdb_status_t recdb_search_similar(recdb_t* db, const char* space, const float* query,
                                    size_t dimension, size_t k,
                                    const recdb_recommend_options_t* options,
                                    recdb_results_t** results, char** errmsg) {
  return Guard(errmsg, [&] {
    if (results == nullptr) return NullArgument(errmsg, "results");
    *results = nullptr;
    if (db == nullptr) return NullArgument(errmsg, "db");
    if (space == nullptr) return NullArgument(errmsg, "space");
    if (query == nullptr && dimension > 0) return NullArgument(errmsg, "query");
    std::vector<float> q(query, query + dimension);
    auto found = db->db->SearchSimilar(space, q, k, FilterOf(options));
    if (!found.ok()) return FromStatus(found.status(), errmsg);
    recdb::RecommendResponse response;
    for (const auto& s : *found) {
      recdb::Recommendation rec;
      rec.id = s.id;
      rec.score = s.score;
      response.items.push_back(std::move(rec));
    }
    *results = MakeResults(std::move(response));
    return Ok(errmsg);
  });
}

recdb_status_t recdb_forget_user(recdb_t* db, const char* id, int flags,
                                 recdb_erasure_receipt_t* receipt, char** errmsg) {
  return Guard(errmsg, [&] {
    if (db == nullptr) return NullArgument(errmsg, "db");
    if (id == nullptr) return NullArgument(errmsg, "id");
    const int known = RECDB_FORGET_WAIT_FOR_PHYSICAL_ERASURE | RECDB_FORGET_RETRAIN;
    if ((flags & ~known) != 0) {
      return Fail(errmsg, RECDB_INVALID_ARGUMENT, "unknown forget flags " + std::to_string(flags));
    }
    recdb::ForgetOptions o;
    o.wait_for_physical_erasure = (flags & RECDB_FORGET_WAIT_FOR_PHYSICAL_ERASURE) != 0;
    o.retrain = (flags & RECDB_FORGET_RETRAIN) != 0;
    auto r = db->db->ForgetUser(id, o);
    if (!r.ok()) return FromStatus(r.status(), errmsg);
    if (receipt != nullptr) {
      receipt->had_user_record = r->had_user_record ? 1 : 0;
      receipt->events_removed = r->events_removed;
      receipt->vectors_removed = r->vectors_removed;
      receipt->impressions_removed = r->impressions_removed;
      receipt->counts_adjusted = r->counts_adjusted;
      receipt->bytes_estimate = r->bytes_estimate;
      receipt->timestamp = r->timestamp;
      receipt->physically_erased = r->physically_erased ? 1 : 0;
      receipt->model_retrained = r->model_retrained ? 1 : 0;
      receipt->retrain_scheduled = r->retrain_scheduled ? 1 : 0;
      CopyFixed(r->ledger_hash, receipt->ledger_hash);
    }
    return Ok(errmsg);
  });
}

recdb_status_t recdb_export_user(recdb_t* db, const char* id, char** json, char** errmsg) {
  return Guard(errmsg, [&] {
    if (json == nullptr) return NullArgument(errmsg, "json");
    *json = nullptr;
    if (db == nullptr) return NullArgument(errmsg, "db");
    if (id == nullptr) return NullArgument(errmsg, "id");
    auto r = db->db->ExportUser(id);
    if (!r.ok()) return FromStatus(r.status(), errmsg);
    *json = CopyString(*r);
    if (*json == nullptr) return Fail(errmsg, RECDB_RESOURCE_EXHAUSTED, "out of memory");
    return Ok(errmsg);
  });
}

recdb_status_t recdb_create_snapshot(recdb_t* db, const char* backup_dir, int link_files,
                                     recdb_snapshot_info_t* info, char** errmsg) {
  return Guard(errmsg, [&] {
    if (db == nullptr) return NullArgument(errmsg, "db");
    if (backup_dir == nullptr) return NullArgument(errmsg, "backup_dir");
    recdb::SnapshotOptions o;
    o.link_files = link_files != 0;
    auto r = db->db->CreateSnapshot(backup_dir, o);
    if (!r.ok()) return FromStatus(r.status(), errmsg);
    if (info != nullptr) {
      info->id = r->id;
      info->sequence_number = r->sequence_number;
      info->files = r->files;
      info->bytes = r->bytes;
      info->unique_bytes = r->unique_bytes;
      info->seconds = r->seconds;
      CopyFixed(r->name, info->name);
    }
    return Ok(errmsg);
  });
}

recdb_status_t recdb_restore(const char* src, const char* dest, const char* forget_ledger_from,
                             char** errmsg) {
  return Guard(errmsg, [&] {
    if (src == nullptr) return NullArgument(errmsg, "src");
    if (dest == nullptr) return NullArgument(errmsg, "dest");
    recdb::RestoreOptions o;
    if (forget_ledger_from != nullptr) o.forget_ledger_from = forget_ledger_from;
    auto r = recdb::DB::Restore(src, dest, o);
    return FromStatus(r.status(), errmsg);
  });
}

}  // extern "C"
