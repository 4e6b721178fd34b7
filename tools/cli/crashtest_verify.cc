// The crash test's verifier: the database after a kill against the
// expected-state log (crashtest_model.h).
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "recdb/db.h"
#include "tools/cli/crashtest_child.h"
#include "tools/cli/crashtest_model.h"

namespace recdb::cli::crashtest {
namespace {

// What a key may hold: the value of the last acknowledged write (if any),
// or of any write after it that was in flight when a child died. Versions
// are the workload's; kAbsent stands for "no value" (never written, or
// deleted).
constexpr int64_t kAbsent = -1;

struct KeyState {
  std::optional<int64_t> acked;         // last acknowledged version
  std::string acked_op;                 // the op that wrote it
  std::vector<int64_t> maybe;           // in-flight versions after it
  void Acked(int64_t v, const std::string& op) {
    acked = v;
    acked_op = op;
    maybe.clear();
  }
  bool Allows(int64_t v) const {
    return (acked && *acked == v) || std::find(maybe.begin(), maybe.end(), v) != maybe.end();
  }
};

struct ExpectedEvent {
  std::string op;  // the op that recorded it
  bool acked = false;
  std::string user, item, type;
  int64_t ts = 0;
};

class Verifier {
 public:
  Verifier(DB* db, VerifyResult* out) : db_(db), out_(out) {}

  void Load(const std::vector<LoggedOp>& ops) {
    for (const LoggedOp& o : ops) {
      const bool acked = o.acknowledged;
      if (acked) {
        ++out_->acknowledged;
      } else {
        ++out_->in_flight;
      }
      auto version = [&](size_t i) { return std::stoll(o.fields.at(i)); };
      if (o.kind == "E") {
        const size_t n = std::stoul(o.fields.at(0));
        std::vector<std::string> ids;
        for (size_t j = 0; j < n; ++j) {
          ExpectedEvent e;
          e.op = o.op;
          e.acked = acked;
          e.user = o.fields.at(1 + 4 * j);
          e.item = o.fields.at(2 + 4 * j);
          e.type = o.fields.at(3 + 4 * j);
          e.ts = std::stoll(o.fields.at(4 + 4 * j));
          // After a FORGET that may have happened, this event may have
          // re-created the user as a placeholder record.
          if (maybe_forgotten_.count(e.user)) event_after_maybe_forget_.insert(e.user);
          if (acked) {
            item_by_event_[e.item] = o.op;
            user_by_event_[e.user] = o.op;
          } else {
            maybe_item_by_event_.insert(e.item);
            maybe_user_by_event_.insert(e.user);
          }
          const std::string key = o.op + "/" + std::to_string(j);
          ids.push_back(key);
          events_[key] = std::move(e);
        }
        batches_[o.op] = std::move(ids);
      } else if (o.kind == "ITEM" || o.kind == "USER" || o.kind == "VEC" || o.kind == "VDEL") {
        auto& map = o.kind == "ITEM" ? items_ : o.kind == "USER" ? users_ : vectors_;
        KeyState& k = map[o.fields.at(0)];
        if (o.kind == "VDEL" && !k.acked && k.maybe.empty()) k.Acked(kAbsent, "");
        if (o.kind == "VEC" && !k.acked && k.maybe.empty()) k.Acked(kAbsent, "");
        const int64_t v = o.kind == "VDEL" ? kAbsent : version(1);
        if (acked) {
          k.Acked(v, o.op);
        } else {
          k.maybe.push_back(v);
        }
      } else if (o.kind == "FORGET") {
        Forget(o.fields.at(0), acked);
      } else if (o.kind == "ET") {
        KeyState& k = types_[o.fields.at(0)];
        if (acked) {
          k.Acked(version(1), o.op);
        } else {
          k.maybe.push_back(version(1));
        }
      }
    }
  }

  // ForgetUser(user) removes every event of the user recorded before it, and
  // the user record, in one write. Acknowledged: they must all be gone. Not
  // acknowledged (failed or in flight): all there or all gone, and the record
  // may be gone.
  void Forget(const std::string& user, bool acked) {
    std::set<std::string> keys;
    for (const auto& [key, e] : events_) {
      if (e.user == user) keys.insert(key);
    }
    for (auto& [op, batch_keys] : batches_) {
      batch_keys.erase(std::remove_if(batch_keys.begin(), batch_keys.end(),
                                      [&](const std::string& k) { return keys.count(k) > 0; }),
                       batch_keys.end());
    }
    for (auto it = batches_.begin(); it != batches_.end();) {
      it = it->second.empty() ? batches_.erase(it) : std::next(it);
    }
    if (acked) {
      for (const std::string& k : keys) events_.erase(k);
      user_by_event_.erase(user);
      maybe_user_by_event_.erase(user);
      users_[user].Acked(kAbsent, "");
      maybe_forgotten_.erase(user);
      event_after_maybe_forget_.erase(user);
    } else {
      // Only acknowledged events pin "all or nothing"; an unacknowledged
      // batch may be absent either way.
      std::set<std::string> acked_keys;
      for (const std::string& k : keys) {
        if (events_.at(k).acked) acked_keys.insert(k);
      }
      maybe_forgotten_.insert(user);
      forget_groups_.emplace_back(user, std::move(acked_keys));
    }
  }

  void Check() {
    CheckEntities();
    CheckEvents();
    CheckEventTypes();
    CheckVectors();
  }

 private:
  void Lost(const std::string& op, const std::string& what) {
    if (out_->lost.insert(op).second) out_->lost_details.push_back(op + ": " + what);
  }
  void Inconsistent(const std::string& what) { out_->inconsistencies.push_back(what); }

  template <typename Record>
  void CheckEntity(const std::string& kind, const std::string& id, const KeyState* state,
                   const std::string* acked_event_op, bool maybe_by_event,
                   const StatusOr<Record>& got, Record (*make)(const std::string&, int64_t),
                   bool placeholder_ok = false) {
    if (!got.ok() && !got.status().IsNotFound()) {
      Inconsistent(kind + " " + id + ": " + got.status().ToString());
      return;
    }
    Record placeholder;
    placeholder.id = id;
    if (state && state->acked && *state->acked != kAbsent) {
      const std::string& op = state->acked_op;
      if (!got.ok()) return Lost(op, kind + " " + id + " missing");
      if (*got == make(id, *state->acked)) return;
      // A FORGET after the acknowledged version that may have happened, and
      // an event after it that re-created the record (found by kill -9
      // cycles: not a lost write).
      if (placeholder_ok && *got == placeholder) return;
      for (int64_t v : state->maybe) {
        if (*got == make(id, v)) return;
      }
      return Lost(op, kind + " " + id + " does not hold the acknowledged version");
    }
    // No acknowledged upsert: absent, a placeholder from an event, or an
    // in-flight upsert.
    if (!got.ok()) {
      if (acked_event_op) Lost(*acked_event_op, kind + " " + id + " (created by an event) missing");
      return;
    }
    if (*got == placeholder && (acked_event_op || maybe_by_event)) return;
    if (state) {
      for (int64_t v : state->maybe) {
        if (*got == make(id, v)) return;
      }
    }
    Inconsistent(kind + " " + id + " holds a value no write produced");
  }

  void CheckEntities() {
    for (int i = 0; i < kItems; ++i) {
      const std::string id = ItemId(i);
      auto st = items_.find(id);
      auto ev = item_by_event_.find(id);
      CheckEntity<Item>("item", id, st == items_.end() ? nullptr : &st->second,
                        ev == item_by_event_.end() ? nullptr : &ev->second,
                        maybe_item_by_event_.count(id) > 0, db_->GetItem(id), &MakeItem);
    }
    for (int u = 0; u < kUsers; ++u) {
      const std::string id = UserId(u);
      auto got = db_->GetUser(id);
      // A forget that failed or was in flight may have removed the record.
      if (got.status().IsNotFound() && maybe_forgotten_.count(id)) continue;
      auto st = users_.find(id);
      auto ev = user_by_event_.find(id);
      CheckEntity<User>("user", id, st == users_.end() ? nullptr : &st->second,
                        ev == user_by_event_.end() ? nullptr : &ev->second,
                        maybe_user_by_event_.count(id) > 0, got, &MakeUser,
                        maybe_forgotten_.count(id) > 0 && event_after_maybe_forget_.count(id) > 0);
    }
  }

  void CheckEvents() {
    auto stats = db_->GetStats();
    if (!stats.ok()) return Inconsistent("GetStats: " + stats.status().ToString());
    int64_t n_items = 0, n_users = 0;
    Status s = db_->ForEachItem([&](const Item&) {
      ++n_items;
      return Status::OK();
    });
    if (s.ok()) {
      s = db_->ForEachUser([&](const User&) {
        ++n_users;
        return Status::OK();
      });
    }
    std::map<std::string, Event> seen;  // op/j -> event
    std::map<std::string, std::map<std::string, int64_t>> counts;  // item -> type -> n
    int64_t n_events = 0;
    if (s.ok()) {
      s = db_->ForEachEvent([&](const Event& e) {
        ++n_events;
        auto op = e.context.find("op");
        if (op == e.context.end()) {
          Inconsistent("an event without the workload's context: " + e.user + " " + e.item);
          return Status::OK();
        }
        if (!seen.emplace(op->second, e).second) Inconsistent("event " + op->second + " stored twice");
        ++counts[e.item][e.type];
        return Status::OK();
      });
    }
    if (!s.ok()) return Inconsistent("scan: " + s.ToString());
    if (stats->items != n_items) {
      Inconsistent("stats.items " + std::to_string(stats->items) + " != scanned " +
                   std::to_string(n_items));
    }
    if (stats->users != n_users) {
      Inconsistent("stats.users " + std::to_string(stats->users) + " != scanned " +
                   std::to_string(n_users));
    }
    if (stats->events != n_events) {
      Inconsistent("stats.events " + std::to_string(stats->events) + " != scanned " +
                   std::to_string(n_events));
    }

    for (const auto& [key, e] : seen) {
      auto it = events_.find(key);
      if (it == events_.end()) {
        Inconsistent("event " + key + " was never recorded");
        continue;
      }
      const ExpectedEvent& x = it->second;
      if (e.user != x.user || e.item != x.item || e.type != x.type || e.timestamp != x.ts) {
        Inconsistent("event " + key + " stored with other fields");
      }
    }
    for (const auto& [op, keys] : batches_) {
      size_t present = 0;
      for (const std::string& k : keys) present += seen.count(k);
      if (present == keys.size()) continue;
      if (events_.at(keys.front()).acked) {
        Lost(op, std::to_string(keys.size() - present) + " of " + std::to_string(keys.size()) +
                     " events missing");
      } else if (present != 0) {
        Inconsistent("batch " + op + " half stored (" + std::to_string(present) + " of " +
                     std::to_string(keys.size()) + ")");
      }
    }

    for (const auto& [user, keys] : forget_groups_) {
      size_t present = 0;
      for (const std::string& k : keys) present += seen.count(k);
      if (present != 0 && present != keys.size()) {
        Inconsistent("forget of " + user + " half applied (" + std::to_string(present) + " of " +
                     std::to_string(keys.size()) + " events left)");
      }
    }

    // Each user's history (the read path) agrees with the scan.
    std::map<std::string, std::vector<std::string>> by_user;
    for (const auto& [key, e] : seen) by_user[e.user].push_back(key);
    for (int u = 0; u < kUsers; ++u) {
      const std::string id = UserId(u);
      auto h = db_->GetUserHistory(id);
      std::vector<std::string> got;
      if (h.ok()) {
        int64_t last_ts = INT64_MIN;
        for (const Event& e : *h) {
          auto op = e.context.find("op");
          got.push_back(op == e.context.end() ? "?" : op->second);
          if (e.timestamp < last_ts) Inconsistent("history of " + id + " out of order");
          last_ts = e.timestamp;
        }
      } else if (!h.status().IsNotFound()) {
        Inconsistent("history of " + id + ": " + h.status().ToString());
      }
      std::sort(got.begin(), got.end());
      std::vector<std::string> want = by_user[id];
      std::sort(want.begin(), want.end());
      if (got != want) {
        Inconsistent("history of " + id + " has " + std::to_string(got.size()) +
                     " events, the scan " + std::to_string(want.size()));
      }
    }

    // Per-item counters (derived, write-behind) agree with the events.
    for (int i = 0; i < kItems; ++i) {
      const std::string id = ItemId(i);
      auto c = db_->GetItemCounts(id);
      if (!c.ok()) {
        if (!c.status().IsNotFound() || counts.count(id)) {
          Inconsistent("counts of " + id + ": " + c.status().ToString());
        }
        continue;
      }
      std::map<std::string, int64_t> got;
      int64_t total = 0;
      for (const auto& [type, n] : c->by_type) {
        if (n != 0) got[type] = n;
        total += n;
      }
      if (got != counts[id] || total != c->total) {
        int64_t want_total = 0;
        for (const auto& [type, n] : counts[id]) want_total += n;
        Inconsistent("counts of " + id + ": total " + std::to_string(c->total) + ", events " +
                     std::to_string(want_total));
      }
    }
  }

  void CheckEventTypes() {
    auto types = db_->ListEventTypes();
    if (!types.ok()) return Inconsistent("ListEventTypes: " + types.status().ToString());
    for (const auto& entry : types_) {  // no structured binding: clang 14 can't capture one
      const std::string& name = entry.first;
      const auto& state = entry.second;
      auto it = std::find_if(types->begin(), types->end(),
                             [&](const EventType& t) { return t.name == name; });
      if (it == types->end()) {
        if (state.acked) Lost(state.acked_op, "event type " + name + " missing");
        continue;
      }
      if (!state.Allows(static_cast<int64_t>(it->weight))) {
        if (state.acked) {
          Lost(state.acked_op, "event type " + name + " has another weight");
        } else {
          Inconsistent("event type " + name + " has a weight no write set");
        }
      }
    }
  }

  void CheckVectors() {
    auto info = db_->DescribeSpace(kSpaceName);
    if (!info.ok()) {
      if (!info.status().IsNotFound()) return Inconsistent("space: " + info.status().ToString());
      for (const auto& [id, state] : vectors_) {
        if (state.acked && *state.acked != kAbsent) Lost(state.acked_op, "space missing");
      }
      return;
    }
    int64_t present = 0;
    std::vector<std::pair<std::string, std::vector<float>>> searchable;
    for (int i = 0; i < kItems; ++i) {
      const std::string id = ItemId(i);
      auto st = vectors_.find(id);
      const KeyState* state = st == vectors_.end() ? nullptr : &st->second;
      auto v = db_->GetVector(kSpaceName, EntityKind::kItem, id);
      if (!v.ok() && !v.status().IsNotFound()) {
        Inconsistent("vector " + id + ": " + v.status().ToString());
        continue;
      }
      if (!v.ok()) {
        if (state && state->acked && *state->acked != kAbsent && !state->Allows(kAbsent)) {
          Lost(state->acked_op, "vector of " + id + " missing");
        }
        continue;
      }
      ++present;
      bool matches = false;
      if (state) {
        if (state->acked && *state->acked != kAbsent && *v == MakeVector(id, *state->acked)) {
          matches = true;
        }
        for (int64_t m : state->maybe) {
          if (m != kAbsent && *v == MakeVector(id, m)) matches = true;
        }
      }
      if (!matches) {
        if (state && state->acked && *state->acked != kAbsent) {
          Lost(state->acked_op, "vector of " + id + " is not the acknowledged one");
        } else if (state && state->acked && *state->acked == kAbsent && !state->acked_op.empty() &&
                   state->maybe.empty()) {
          Lost(state->acked_op, "deleted vector of " + id + " is back");
        } else {
          Inconsistent("vector of " + id + " holds a value no write produced");
        }
      }
      searchable.emplace_back(id, std::move(*v));
    }
    if (info->item_vectors != present) {
      Inconsistent("space counts " + std::to_string(info->item_vectors) + " item vectors, " +
                   std::to_string(present) + " stored");
    }
    // The derived index agrees with the stored vectors: each finds itself,
    // and no search returns an item without a vector.
    std::set<std::string> have;
    for (const auto& [id, v] : searchable) have.insert(id);
    for (const auto& [id, v] : searchable) {
      ItemFilter all;
      all.available_only = false;  // MakeItem marks some items unavailable
      auto hits = db_->SearchSimilar(kSpaceName, v, 3, all);
      if (!hits.ok()) {
        Inconsistent("search for " + id + ": " + hits.status().ToString());
        continue;
      }
      bool found = false;
      for (const ScoredItem& h : *hits) {
        if (h.id == id) found = true;
        if (!have.count(h.id)) Inconsistent("search returned " + h.id + ", which has no vector");
      }
      if (!found) Inconsistent("search for " + id + "'s own vector misses it");
    }
  }

  DB* db_;
  VerifyResult* out_;
  std::map<std::string, KeyState> items_, users_, vectors_, types_;
  std::map<std::string, std::string> item_by_event_, user_by_event_;  // id -> an acked op
  std::set<std::string> maybe_item_by_event_, maybe_user_by_event_;
  std::map<std::string, ExpectedEvent> events_;              // op/j -> event
  std::map<std::string, std::vector<std::string>> batches_;  // op -> its op/j keys
  std::set<std::string> maybe_forgotten_;  // users of a failed or in-flight FORGET
  std::set<std::string> event_after_maybe_forget_;  // ... with an event logged after it
  std::vector<std::pair<std::string, std::set<std::string>>> forget_groups_;  // user, events
};

}  // namespace

VerifyResult Verify(const std::string& db_path, const std::string& log_path,
                    std::string* open_error) {
  VerifyResult result;
  auto ops = ReadExpectedLog(log_path);
  if (!ops.ok()) {
    *open_error = ops.status().ToString();
    return result;
  }
  Options options;
  options.read_only = true;
  options.background_threads = 0;
  auto db = DB::Open(options, db_path);
  if (!db.ok()) {
    // A child killed inside its first Open (nothing acknowledged yet) may
    // leave no database, or one whose column families were not all created
    // yet; the next read-write open completes it.
    bool any_ack = std::any_of(ops->begin(), ops->end(),
                               [](const LoggedOp& o) { return o.acknowledged; });
    if (!any_ack && (db.status().IsNotFound() || db.status().IsCorruption())) return result;
    *open_error = db.status().ToString();
    return result;
  }
  Verifier v(db->get(), &result);
  v.Load(*ops);
  v.Check();
  Status s = (*db)->Close();
  if (!s.ok()) result.inconsistencies.push_back("close: " + s.ToString());
  return result;
}

}  // namespace recdb::cli::crashtest
