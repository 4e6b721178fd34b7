// recdb/c.h: the caller-side handles (options, record batches, results) and
// their accessors. Nothing here touches a database.
#include <cmath>
#include <new>

#include "c_handles.h"
#include "recdb/options_file.h"

using recdb::capi::GuardNoMessage;

namespace {

// Applies `fn` to the record added last; FAILED_PRECONDITION if none.
template <typename Vec, typename Fn>
recdb_status_t WithLast(Vec* v, Fn&& fn) {
  if (v == nullptr) return RECDB_INVALID_ARGUMENT;
  if (v->empty()) return RECDB_FAILED_PRECONDITION;
  return GuardNoMessage([&] { return fn(v->back()); });
}

template <typename T>
T* New() noexcept {
  return new (std::nothrow) T();
}

recdb_status_t SetAttribute(recdb::Attributes* attributes, const char* key,
                            recdb::AttributeValue value) {
  if (key == nullptr) return RECDB_INVALID_ARGUMENT;
  (*attributes)[key] = std::move(value);
  return RECDB_OK;
}

// Applies `fn` to the last item after checking the (string) argument.
template <typename Fn>
recdb_status_t WithLastItem(recdb_items_t* b, const void* required, Fn&& fn) {
  if (required == nullptr) return RECDB_INVALID_ARGUMENT;
  return WithLast(b ? &b->items : nullptr, fn);
}

const recdb::Evidence* EvidenceAt(const recdb_results_t* r, size_t i, size_t j) {
  if (r == nullptr || i >= r->response.items.size()) return nullptr;
  const auto& evidence = r->response.items[i].explanation.evidence;
  return j < evidence.size() ? &evidence[j] : nullptr;
}

const char* EvidenceField(const recdb_results_t* r, size_t i, size_t j,
                          std::string recdb::Evidence::*field) {
  const recdb::Evidence* e = EvidenceAt(r, i, j);
  return e == nullptr ? nullptr : (e->*field).c_str();
}

}  // namespace

extern "C" {

const char* recdb_status_name(int status) {
  if (status < RECDB_OK || status > RECDB_INTERNAL) return "unknown";
  return recdb::StatusCodeName(static_cast<recdb::StatusCode>(status));
}

void recdb_free(void* ptr) { std::free(ptr); }

const char* recdb_version(void) { return RECDB_VERSION_STRING; }

// ---- Options

recdb_options_t* recdb_options_create(void) { return New<recdb_options_t>(); }
void recdb_options_destroy(recdb_options_t* o) { delete o; }
void recdb_options_set_create_if_missing(recdb_options_t* o, int v) {
  if (o) o->options.create_if_missing = v != 0;
}
void recdb_options_set_error_if_exists(recdb_options_t* o, int v) {
  if (o) o->options.error_if_exists = v != 0;
}
void recdb_options_set_read_only(recdb_options_t* o, int v) {
  if (o) o->options.read_only = v != 0;
}
void recdb_options_set_auto_create_users(recdb_options_t* o, int v) {
  if (o) o->options.auto_create_users = v != 0;
}
void recdb_options_set_auto_create_items(recdb_options_t* o, int v) {
  if (o) o->options.auto_create_items = v != 0;
}
void recdb_options_set_background_threads(recdb_options_t* o, int v) {
  if (o) o->options.background_threads = v;
}
void recdb_options_set_retrain_interval_seconds(recdb_options_t* o, int64_t v) {
  if (o) o->options.retrain_interval_seconds = v;
}
void recdb_options_set_index_checkpoint_interval_seconds(recdb_options_t* o, int64_t v) {
  if (o) o->options.index_checkpoint_interval_seconds = v;
}

recdb_status_t recdb_options_load_file(recdb_options_t* o, const char* path, char** errmsg) {
  return recdb::capi::Guard(errmsg, [&] {
    if (o == nullptr) return recdb::capi::NullArgument(errmsg, "options");
    if (path == nullptr) return recdb::capi::NullArgument(errmsg, "path");
    auto loaded = recdb::LoadOptionsFile(path, o->options);
    if (!loaded.ok()) return recdb::capi::FromStatus(loaded.status(), errmsg);
    o->options = std::move(loaded).value();
    return recdb::capi::Ok(errmsg);
  });
}

recdb_status_t recdb_options_parse_json(recdb_options_t* o, const char* json, char** errmsg) {
  return recdb::capi::Guard(errmsg, [&] {
    if (o == nullptr) return recdb::capi::NullArgument(errmsg, "options");
    if (json == nullptr) return recdb::capi::NullArgument(errmsg, "json");
    auto parsed = recdb::ParseOptionsJson(json, o->options);
    if (!parsed.ok()) return recdb::capi::FromStatus(parsed.status(), errmsg);
    o->options = std::move(parsed).value();
    return recdb::capi::Ok(errmsg);
  });
}

// ---- Events

recdb_events_t* recdb_events_create(void) { return New<recdb_events_t>(); }
void recdb_events_destroy(recdb_events_t* b) { delete b; }
void recdb_events_clear(recdb_events_t* b) {
  if (b) b->events.clear();
}
size_t recdb_events_count(const recdb_events_t* b) { return b ? b->events.size() : 0; }

recdb_status_t recdb_events_add(recdb_events_t* b, const char* user, const char* item,
                                const char* type, int64_t timestamp) {
  if (b == nullptr || user == nullptr || item == nullptr || type == nullptr) {
    return RECDB_INVALID_ARGUMENT;
  }
  return GuardNoMessage([&] {
    recdb::Event e;
    e.user = user;
    e.item = item;
    e.type = type;
    e.timestamp = timestamp;
    b->events.push_back(std::move(e));
    return RECDB_OK;
  });
}

recdb_status_t recdb_events_set_value(recdb_events_t* b, double value) {
  return WithLast(b ? &b->events : nullptr, [&](recdb::Event& e) {
    e.value = value;
    e.has_value = true;
    return RECDB_OK;
  });
}

recdb_status_t recdb_events_add_context(recdb_events_t* b, const char* key, const char* value) {
  if (key == nullptr || value == nullptr) return RECDB_INVALID_ARGUMENT;
  return WithLast(b ? &b->events : nullptr, [&](recdb::Event& e) {
    e.context[key] = value;
    return RECDB_OK;
  });
}

// ---- Items

recdb_items_t* recdb_items_create(void) { return New<recdb_items_t>(); }
void recdb_items_destroy(recdb_items_t* b) { delete b; }
void recdb_items_clear(recdb_items_t* b) {
  if (b) b->items.clear();
}
size_t recdb_items_count(const recdb_items_t* b) { return b ? b->items.size() : 0; }

recdb_status_t recdb_items_add(recdb_items_t* b, const char* id) {
  if (b == nullptr || id == nullptr) return RECDB_INVALID_ARGUMENT;
  return GuardNoMessage([&] {
    recdb::Item item;
    item.id = id;
    b->items.push_back(std::move(item));
    return RECDB_OK;
  });
}

recdb_status_t recdb_items_set_title(recdb_items_t* b, const char* title) {
  return WithLastItem(b, title, [&](recdb::Item& i) {
    i.title = title;
    return RECDB_OK;
  });
}
recdb_status_t recdb_items_set_description(recdb_items_t* b, const char* description) {
  return WithLastItem(b, description, [&](recdb::Item& i) {
    i.description = description;
    return RECDB_OK;
  });
}
recdb_status_t recdb_items_add_category(recdb_items_t* b, const char* category) {
  return WithLastItem(b, category, [&](recdb::Item& i) {
    i.categories.emplace_back(category);
    return RECDB_OK;
  });
}
recdb_status_t recdb_items_set_creator(recdb_items_t* b, const char* creator) {
  return WithLastItem(b, creator, [&](recdb::Item& i) {
    i.creator = creator;
    return RECDB_OK;
  });
}
recdb_status_t recdb_items_set_created_at(recdb_items_t* b, int64_t created_at) {
  return WithLastItem(b, b, [&](recdb::Item& i) {
    i.created_at = created_at;
    return RECDB_OK;
  });
}
recdb_status_t recdb_items_set_available(recdb_items_t* b, int available) {
  return WithLastItem(b, b, [&](recdb::Item& i) {
    i.available = available != 0;
    return RECDB_OK;
  });
}
recdb_status_t recdb_items_set_attribute_string(recdb_items_t* b, const char* key,
                                                const char* value) {
  return WithLastItem(b, value, [&](recdb::Item& i) {
    return SetAttribute(&i.attributes, key, std::string(value));
  });
}
recdb_status_t recdb_items_set_attribute_number(recdb_items_t* b, const char* key,
                                                double value) {
  return WithLastItem(b, b, [&](recdb::Item& i) { return SetAttribute(&i.attributes, key, value); });
}
recdb_status_t recdb_items_set_attribute_bool(recdb_items_t* b, const char* key, int value) {
  return WithLastItem(b, b, [&](recdb::Item& i) {
    return SetAttribute(&i.attributes, key, value != 0);
  });
}
recdb_status_t recdb_items_set_attribute_list(recdb_items_t* b, const char* key,
                                              const char* const* values, size_t count) {
  if (values == nullptr && count > 0) return RECDB_INVALID_ARGUMENT;
  for (size_t k = 0; k < count; ++k) {
    if (values[k] == nullptr) return RECDB_INVALID_ARGUMENT;
  }
  return WithLastItem(b, b, [&](recdb::Item& i) {
    return SetAttribute(&i.attributes, key, std::vector<std::string>(values, values + count));
  });
}

// ---- Users

recdb_users_t* recdb_users_create(void) { return New<recdb_users_t>(); }
void recdb_users_destroy(recdb_users_t* b) { delete b; }
void recdb_users_clear(recdb_users_t* b) {
  if (b) b->users.clear();
}
size_t recdb_users_count(const recdb_users_t* b) { return b ? b->users.size() : 0; }

recdb_status_t recdb_users_add(recdb_users_t* b, const char* id) {
  if (b == nullptr || id == nullptr) return RECDB_INVALID_ARGUMENT;
  return GuardNoMessage([&] {
    recdb::User user;
    user.id = id;
    b->users.push_back(std::move(user));
    return RECDB_OK;
  });
}
recdb_status_t recdb_users_set_consent(recdb_users_t* b, int personalization, int store_events,
                                       int training) {
  return WithLast(b ? &b->users : nullptr, [&](recdb::User& u) {
    u.consent.personalization = personalization != 0;
    u.consent.store_events = store_events != 0;
    u.consent.training = training != 0;
    return RECDB_OK;
  });
}
recdb_status_t recdb_users_set_attribute_string(recdb_users_t* b, const char* key,
                                                const char* value) {
  if (value == nullptr) return RECDB_INVALID_ARGUMENT;
  return WithLast(b ? &b->users : nullptr, [&](recdb::User& u) {
    return SetAttribute(&u.attributes, key, std::string(value));
  });
}
recdb_status_t recdb_users_set_attribute_number(recdb_users_t* b, const char* key,
                                                double value) {
  return WithLast(b ? &b->users : nullptr,
                  [&](recdb::User& u) { return SetAttribute(&u.attributes, key, value); });
}
recdb_status_t recdb_users_set_attribute_bool(recdb_users_t* b, const char* key, int value) {
  return WithLast(b ? &b->users : nullptr,
                  [&](recdb::User& u) { return SetAttribute(&u.attributes, key, value != 0); });
}

// ---- Train options

recdb_train_options_t* recdb_train_options_create(void) { return New<recdb_train_options_t>(); }
void recdb_train_options_destroy(recdb_train_options_t* o) { delete o; }
void recdb_train_options_set_learn_weights(recdb_train_options_t* o, int v) {
  if (o) o->options.learn_weights = v != 0;
}
void recdb_train_options_set_reuse_stored_weights(recdb_train_options_t* o, int v) {
  if (o) o->options.reuse_stored_weights = v != 0;
}
void recdb_train_options_set_incremental(recdb_train_options_t* o, int v) {
  if (o) o->options.incremental = v != 0;
}
void recdb_train_options_set_ials_factors(recdb_train_options_t* o, int v) {
  if (o) o->options.ials_factors = v;
}
void recdb_train_options_set_ials_iterations(recdb_train_options_t* o, int v) {
  if (o) o->options.ials_iterations = v;
}
void recdb_train_options_set_threads(recdb_train_options_t* o, int v) {
  if (o) o->options.threads = v;
}

// ---- Recommend options

recdb_recommend_options_t* recdb_recommend_options_create(void) {
  return New<recdb_recommend_options_t>();
}
void recdb_recommend_options_destroy(recdb_recommend_options_t* o) { delete o; }
void recdb_recommend_options_set_k(recdb_recommend_options_t* o, size_t k) {
  if (o) o->request.k = k;
}
void recdb_recommend_options_set_now(recdb_recommend_options_t* o, int64_t now) {
  if (o) o->request.now = now;
}
void recdb_recommend_options_set_exclude_seen(recdb_recommend_options_t* o, int v) {
  if (o) o->request.exclude_seen = v != 0;
}
void recdb_recommend_options_set_require_known_user(recdb_recommend_options_t* o, int v) {
  if (o) o->request.require_known_user = v != 0;
}
recdb_status_t recdb_recommend_options_add_context(recdb_recommend_options_t* o, const char* key,
                                                   const char* value) {
  if (o == nullptr || key == nullptr || value == nullptr) return RECDB_INVALID_ARGUMENT;
  return GuardNoMessage([&] {
    o->request.context[key] = value;
    return RECDB_OK;
  });
}
recdb_status_t recdb_recommend_options_add_exclude(recdb_recommend_options_t* o,
                                                   const char* item) {
  if (o == nullptr || item == nullptr) return RECDB_INVALID_ARGUMENT;
  return GuardNoMessage([&] {
    o->request.exclude_ids.emplace_back(item);
    o->request.filter.exclude_ids.emplace_back(item);
    return RECDB_OK;
  });
}
recdb_status_t recdb_recommend_options_set_weight(recdb_recommend_options_t* o, const char* name,
                                                  double weight) {
  if (o == nullptr || name == nullptr) return RECDB_INVALID_ARGUMENT;
  return GuardNoMessage([&] {
    o->request.weights[name] = weight;
    return RECDB_OK;
  });
}
recdb_status_t recdb_recommend_options_add_session_item(recdb_recommend_options_t* o,
                                                        const char* item) {
  if (o == nullptr || item == nullptr) return RECDB_INVALID_ARGUMENT;
  return GuardNoMessage([&] {
    o->request.session_items.emplace_back(item);
    return RECDB_OK;
  });
}
recdb_status_t recdb_recommend_options_add_category(recdb_recommend_options_t* o,
                                                    const char* category) {
  if (o == nullptr || category == nullptr) return RECDB_INVALID_ARGUMENT;
  return GuardNoMessage([&] {
    o->request.filter.categories_any.emplace_back(category);
    return RECDB_OK;
  });
}
recdb_status_t recdb_recommend_options_add_attribute_equals(recdb_recommend_options_t* o,
                                                            const char* key, const char* value) {
  if (o == nullptr || key == nullptr || value == nullptr) return RECDB_INVALID_ARGUMENT;
  return GuardNoMessage([&] {
    o->request.filter.attribute_equals[key] = value;
    return RECDB_OK;
  });
}
recdb_status_t recdb_recommend_options_set_policy(recdb_recommend_options_t* o,
                                                  const char* policy) {
  if (o == nullptr) return RECDB_INVALID_ARGUMENT;
  return GuardNoMessage([&] {
    o->request.policy = policy == nullptr ? "" : policy;  // checked by recdb_recommend
    return RECDB_OK;
  });
}
void recdb_recommend_options_set_available_only(recdb_recommend_options_t* o, int v) {
  if (o) o->request.filter.available_only = v != 0;
}
void recdb_recommend_options_set_care(recdb_recommend_options_t* o, double diversity,
                                      double calibration, double fair_share,
                                      double exploration) {
  if (o == nullptr) return;
  recdb::CareOptions care;
  care.diversity = diversity;
  care.calibration = calibration;
  care.fair_share = fair_share;
  care.exploration = exploration;
  o->request.care = care;
}

recdb_status_t recdb_recommend_options_add_pin(recdb_recommend_options_t* o, const char* item) {
  if (o == nullptr || item == nullptr) return RECDB_INVALID_ARGUMENT;
  return GuardNoMessage([&] {
    o->request.rules.pin.emplace_back(item);
    return RECDB_OK;
  });
}
recdb_status_t recdb_recommend_options_set_boost(recdb_recommend_options_t* o, const char* item,
                                                 double factor) {
  // The C++ API rejects a non-finite boost at Recommend; rejecting it here
  // points at the call that set it.
  if (o == nullptr || item == nullptr || !std::isfinite(factor)) return RECDB_INVALID_ARGUMENT;
  return GuardNoMessage([&] {
    o->request.rules.boost[item] = factor;
    return RECDB_OK;
  });
}
recdb_status_t recdb_recommend_options_add_bury(recdb_recommend_options_t* o, const char* item) {
  if (o == nullptr || item == nullptr) return RECDB_INVALID_ARGUMENT;
  return GuardNoMessage([&] {
    o->request.rules.bury.emplace_back(item);
    return RECDB_OK;
  });
}

// ---- Results

void recdb_results_destroy(recdb_results_t* r) { delete r; }
size_t recdb_results_count(const recdb_results_t* r) { return r ? r->response.items.size() : 0; }
uint64_t recdb_results_model_version(const recdb_results_t* r) {
  return r ? r->response.model_version : 0;
}
const char* recdb_results_item(const recdb_results_t* r, size_t i) {
  return r && i < r->response.items.size() ? r->response.items[i].id.c_str() : nullptr;
}
double recdb_results_score(const recdb_results_t* r, size_t i) {
  return r && i < r->response.items.size() ? r->response.items[i].score : 0;
}
double recdb_results_propensity(const recdb_results_t* r, size_t i) {
  return r && i < r->response.items.size() ? r->response.items[i].propensity : 0;
}
const char* recdb_results_policy(const recdb_results_t* r) {
  return r ? r->response.policy.c_str() : nullptr;
}
const char* recdb_results_policy_note(const recdb_results_t* r) {
  return r ? r->response.policy_note.c_str() : nullptr;
}
size_t recdb_results_contribution_count(const recdb_results_t* r, size_t i) {
  return r && i < r->contributions.size() ? r->contributions[i].size() : 0;
}
const char* recdb_results_contribution_name(const recdb_results_t* r, size_t i, size_t j) {
  if (r == nullptr || i >= r->contributions.size() || j >= r->contributions[i].size()) {
    return nullptr;
  }
  return r->contributions[i][j].first.c_str();
}
double recdb_results_contribution_value(const recdb_results_t* r, size_t i, size_t j) {
  if (r == nullptr || i >= r->contributions.size() || j >= r->contributions[i].size()) return 0;
  return r->contributions[i][j].second;
}
const char* recdb_results_explanation(const recdb_results_t* r, size_t i) {
  return r && i < r->response.items.size() ? r->response.items[i].explanation.sentence.c_str()
                                           : nullptr;
}
size_t recdb_results_evidence_count(const recdb_results_t* r, size_t i) {
  return r && i < r->response.items.size() ? r->response.items[i].explanation.evidence.size()
                                           : 0;
}
const char* recdb_results_evidence_kind(const recdb_results_t* r, size_t i, size_t j) {
  return EvidenceField(r, i, j, &recdb::Evidence::kind);
}
const char* recdb_results_evidence_recommender(const recdb_results_t* r, size_t i, size_t j) {
  return EvidenceField(r, i, j, &recdb::Evidence::recommender);
}
double recdb_results_evidence_share(const recdb_results_t* r, size_t i, size_t j) {
  const recdb::Evidence* e = EvidenceAt(r, i, j);
  return e == nullptr ? 0 : e->share;
}
const char* recdb_results_evidence_item(const recdb_results_t* r, size_t i, size_t j) {
  return EvidenceField(r, i, j, &recdb::Evidence::item);
}
const char* recdb_results_evidence_category(const recdb_results_t* r, size_t i, size_t j) {
  return EvidenceField(r, i, j, &recdb::Evidence::category);
}
const char* recdb_results_evidence_text(const recdb_results_t* r, size_t i, size_t j) {
  return EvidenceField(r, i, j, &recdb::Evidence::text);
}

// ---- History

void recdb_history_destroy(recdb_history_t* h) { delete h; }
size_t recdb_history_count(const recdb_history_t* h) { return h ? h->events.size() : 0; }
const char* recdb_history_item(const recdb_history_t* h, size_t i) {
  return h && i < h->events.size() ? h->events[i].item.c_str() : nullptr;
}
const char* recdb_history_type(const recdb_history_t* h, size_t i) {
  return h && i < h->events.size() ? h->events[i].type.c_str() : nullptr;
}
int64_t recdb_history_timestamp(const recdb_history_t* h, size_t i) {
  return h && i < h->events.size() ? h->events[i].timestamp : 0;
}
int recdb_history_has_value(const recdb_history_t* h, size_t i) {
  return h && i < h->events.size() && h->events[i].has_value ? 1 : 0;
}
double recdb_history_value(const recdb_history_t* h, size_t i) {
  return h && i < h->events.size() ? h->events[i].value : 0;
}
size_t recdb_history_context_count(const recdb_history_t* h, size_t i) {
  return h && i < h->contexts.size() ? h->contexts[i].size() : 0;
}
const char* recdb_history_context_key(const recdb_history_t* h, size_t i, size_t j) {
  if (h == nullptr || i >= h->contexts.size() || j >= h->contexts[i].size()) return nullptr;
  return h->contexts[i][j].first.c_str();
}
const char* recdb_history_context_value(const recdb_history_t* h, size_t i, size_t j) {
  if (h == nullptr || i >= h->contexts.size() || j >= h->contexts[i].size()) return nullptr;
  return h->contexts[i][j].second.c_str();
}

}  // extern "C"
