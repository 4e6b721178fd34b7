// recdb/options_file.h: Options <-> JSON.
//
// One list of fields per struct, walked by both directions (Visit), so the
// parser and the printer cannot disagree about which fields exist.
// tests/engine/options_file_test.cc checks the struct sizes, so a field
// added to Options without a line here fails a test.
#include "recdb/options_file.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "engine/privacy/retention_policy_json.h"
#include "engine/rerank/rerank.h"

namespace recdb {
namespace {

using Json = nlohmann::ordered_json;

// Reads fields of one JSON object into C++ values; remembers which names it
// was asked for, so Finish can reject the others.
class Reader {
 public:
  Reader(const Json& object, std::string path) : object_(object), path_(std::move(path)) {}

  template <typename T>
  void Field(const char* name, T* out) {
    known_.insert(name);
    if (!status_.ok()) return;
    auto it = object_.find(name);
    if (it == object_.end()) return;
    status_ = Convert(*it, Name(name), out);
  }

  // A nested object: `visit(Reader&)` reads its fields.
  template <typename F>
  void Object(const char* name, F&& visit) {
    known_.insert(name);
    if (!status_.ok()) return;
    auto it = object_.find(name);
    if (it == object_.end()) return;
    if (!it->is_object()) {
      status_ = Status::InvalidArgument("options: " + Name(name) + " must be an object");
      return;
    }
    Reader sub(*it, Name(name));
    visit(sub);
    status_ = sub.Finish();
  }

  // The raw JSON of a field, if present (for fields with their own parser).
  const Json* Raw(const char* name) {
    known_.insert(name);
    if (!status_.ok()) return nullptr;
    auto it = object_.find(name);
    return it == object_.end() ? nullptr : &*it;
  }

  void Fail(Status s) {
    if (status_.ok()) status_ = std::move(s);
  }
  std::string Name(const char* name) const { return path_.empty() ? name : path_ + "." + name; }

  Status Finish() const {
    if (!status_.ok()) return status_;
    for (const auto& [key, value] : object_.items()) {
      if (!known_.count(key)) {
        return Status::InvalidArgument("options: unknown field \"" + Name(key.c_str()) + "\"");
      }
    }
    return Status::OK();
  }

 private:
  static Status Convert(const Json& v, const std::string& name, bool* out) {
    if (!v.is_boolean()) return Status::InvalidArgument("options: " + name + " must be true or false");
    *out = v.get<bool>();
    return Status::OK();
  }
  static Status Convert(const Json& v, const std::string& name, double* out) {
    if (!v.is_number()) return Status::InvalidArgument("options: " + name + " must be a number");
    *out = v.get<double>();
    return Status::OK();
  }
  static Status Convert(const Json& v, const std::string& name, std::string* out) {
    if (!v.is_string()) return Status::InvalidArgument("options: " + name + " must be a string");
    *out = v.get<std::string>();
    return Status::OK();
  }
  template <typename T>
    requires std::is_integral_v<T>
  static Status Convert(const Json& v, const std::string& name, T* out) {
    const std::string range = "options: " + name + " must be an integer in [" +
                              std::to_string(std::numeric_limits<T>::min()) + ", " +
                              std::to_string(std::numeric_limits<T>::max()) + "]";
    if (v.is_number_unsigned()) {
      const uint64_t x = v.get<uint64_t>();
      if (x > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
        return Status::InvalidArgument(range);
      }
      *out = static_cast<T>(x);
      return Status::OK();
    }
    if (v.is_number_integer()) {  // negative
      const int64_t x = v.get<int64_t>();
      if constexpr (std::is_unsigned_v<T>) {
        return Status::InvalidArgument(range);
      } else {
        if (x < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
            x > static_cast<int64_t>(std::numeric_limits<T>::max())) {
          return Status::InvalidArgument(range);
        }
        *out = static_cast<T>(x);
        return Status::OK();
      }
    }
    return Status::InvalidArgument(range);
  }

  const Json& object_;
  std::string path_;
  std::set<std::string, std::less<>> known_;
  Status status_;
};

// Writes fields into a JSON object; the same calls as Reader.
class Writer {
 public:
  explicit Writer(Json* object) : object_(object) {}
  template <typename T>
  void Field(const char* name, const T* value) {
    (*object_)[name] = *value;
  }
  template <typename F>
  void Object(const char* name, F&& visit) {
    Json sub = Json::object();
    Writer w(&sub);
    visit(w);
    (*object_)[name] = std::move(sub);
  }

 private:
  Json* object_;
};

// The one list of fields. `R` is Reader (T = mutable) or Writer (const).
template <typename R, typename C>
void VisitCare(R& r, C& care) {
  r.Field("diversity", &care.diversity);
  r.Field("diversity_space", &care.diversity_space);
  r.Field("calibration", &care.calibration);
  r.Field("calibration_recent_items", &care.calibration_recent_items);
  r.Field("fair_share", &care.fair_share);
  r.Field("exploration", &care.exploration);
  r.Field("exploration_seed", &care.exploration_seed);
  r.Field("exploration_max_impressions", &care.exploration_max_impressions);
  r.Field("rotate_after_impressions", &care.rotate_after_impressions);
  r.Field("rotate_period_seconds", &care.rotate_period_seconds);
  r.Field("candidate_factor", &care.candidate_factor);
}

// Every setting of Options except Options::env, an object the application
// supplies (recdb/env.h), not a setting a file can hold.
template <typename R, typename O>
void VisitScalars(R& r, O& o) {
  r.Field("create_if_missing", &o.create_if_missing);
  r.Field("error_if_exists", &o.error_if_exists);
  r.Field("read_only", &o.read_only);
  r.Field("auto_create_users", &o.auto_create_users);
  r.Field("auto_create_items", &o.auto_create_items);
  r.Field("block_cache_bytes", &o.block_cache_bytes);
  r.Field("write_buffer_bytes", &o.write_buffer_bytes);
  r.Field("background_threads", &o.background_threads);
  r.Field("retrain_interval_seconds", &o.retrain_interval_seconds);
  r.Object("care", [&](R& sub) { VisitCare(sub, o.care); });
  r.Field("index_checkpoint_interval_seconds", &o.index_checkpoint_interval_seconds);
}

template <typename R, typename O>
void VisitPrivacy(R& r, O& o) {
  r.Object("pseudonyms", [&](R& sub) { sub.Field("key_file", &o.pseudonyms.key_file); });
  r.Object("aggregate_privacy", [&](R& sub) {
    sub.Field("popularity_epsilon", &o.aggregate_privacy.popularity_epsilon);
    sub.Field("noise_seed", &o.aggregate_privacy.noise_seed);
    sub.Field("min_pair_users", &o.aggregate_privacy.min_pair_users);
  });
}

Json ParseJson(std::string_view text, Status* status) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    *status = Status::InvalidArgument("options: not valid JSON");
  } else if (!j.is_object()) {
    *status = Status::InvalidArgument("options: not a JSON object");
  }
  return j;
}

}  // namespace

// Every Options field that can be wrong on its own, checked before Open
// touches the disk: a bad value is InvalidArgument naming the field, and no
// directory is created. (Retention rules name event types, so they are
// checked against the open database.)
Status ValidateOptions(const Options& o) {
  if (o.background_threads < 0 || o.background_threads > 1024) {
    return Status::InvalidArgument("background_threads must be in 0..1024");
  }
  if (o.retrain_interval_seconds < 0) {
    return Status::InvalidArgument("retrain_interval_seconds must be >= 0");
  }
  if (o.index_checkpoint_interval_seconds < 0) {
    return Status::InvalidArgument("index_checkpoint_interval_seconds must be >= 0");
  }
  RECDB_RETURN_IF_ERROR(rerank::ValidateCare(o.care).WithContext("Options::care"));
  const AggregatePrivacyOptions& aggregate = o.aggregate_privacy;
  if (aggregate.popularity_epsilon < 0 || !std::isfinite(aggregate.popularity_epsilon)) {
    return Status::InvalidArgument("aggregate_privacy.popularity_epsilon must be >= 0");
  }
  if (aggregate.min_pair_users < 1) {
    return Status::InvalidArgument(
        "aggregate_privacy.min_pair_users must be >= 1 (1 turns the k-anonymity of "
        "co-occurrence off; default " + std::to_string(kDefaultMinPairUsers) + ")");
  }
  return Status::OK();
}

StatusOr<Options> ParseOptionsJson(std::string_view json, const Options& base) {
  Status parsed;
  const Json j = ParseJson(json, &parsed);
  if (!parsed.ok()) return parsed;
  Options o = base;
  Reader r(j, "");
  VisitScalars(r, o);
  // The retention object is one whole policy, in the format of `recdb
  // retention --policy` (its missing fields are the policy's defaults).
  if (const Json* retention = r.Raw("retention")) {
    auto policy = privacy::ParseRetentionPolicy(retention->dump());
    if (!policy.ok()) r.Fail(policy.status().WithContext("options: retention"));
    else o.retention = std::move(policy).value();
  }
  if (const Json* p = r.Raw("pseudonyms"); p && p->is_object() && p->contains("keys")) {
    r.Fail(Status::InvalidArgument(
        "options: pseudonyms.keys: keys are secrets; put them in a key file and name it in "
        "pseudonyms.key_file"));
  }
  VisitPrivacy(r, o);
  RECDB_RETURN_IF_ERROR(r.Finish());
  RECDB_RETURN_IF_ERROR(ValidateOptions(o));
  return o;
}

StatusOr<Options> LoadOptionsFile(const std::string& path, const Options& base) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound("options file " + path + ": no such file");
    return Status::IOError("options file " + path + ": " + std::strerror(err));
  }
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError("options file " + path + ": read failed");
  Options b = base;
  b.pseudonyms.key_file.clear();
  auto o = ParseOptionsJson(text.str(), b);
  if (!o.ok()) return o.status().WithContext(path);
  // A relative key file is next to the options file, not the caller's cwd.
  std::string& key_file = o->pseudonyms.key_file;
  if (key_file.empty()) {
    key_file = base.pseudonyms.key_file;
  } else if (key_file[0] != '/') {
    const size_t slash = path.rfind('/');
    if (slash != std::string::npos) key_file = path.substr(0, slash + 1) + key_file;
  }
  return o;
}

std::string OptionsToJson(const Options& options) {
  Json j = Json::object();
  Writer w(&j);
  VisitScalars(w, options);
  Status ignored;
  j["retention"] = ParseJson(privacy::RetentionPolicyToJson(options.retention), &ignored);
  VisitPrivacy(w, options);
  return j.dump(2);
}

}  // namespace recdb
