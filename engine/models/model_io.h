// ModelWriter / ModelReader: the byte encoding of fitted models, so that a
// trained model is stored as derived data (docs: engine/models/README.md,
// "What is persisted") and Open serves it without refitting.
//
// The encoding is a flat little-endian sequence of fields that each model
// writes and reads back in the same order: fixed-size scalars, and arrays
// as a u64 count followed by their elements. There is no schema and no
// per-field tag; the file around it (engine/recommend/model_file.h) carries
// the magic, format version and checksum, and every model checks what it
// reads for consistency (sizes, ids in range) before trusting it.
//
// ModelReader never reads past its input: a short or inconsistent input sets
// a sticky Corruption status, every later read fails, and the reading model
// returns status(). So a damaged file is an error value, never a crash.
//
// Thread-safety: one thread per writer or reader.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "recdb/status.h"

namespace recdb::models {

class ModelWriter {
 public:
  template <typename T>
  void Put(T v) {
    static_assert(std::is_arithmetic_v<T>, "scalars only");
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  void PutString(std::string_view s) {
    Put<uint64_t>(s.size());
    out_.append(s.data(), s.size());
  }
  template <typename T>
  void PutArray(const T* data, size_t n) {
    static_assert(std::is_arithmetic_v<T>, "arrays of scalars only");
    Put<uint64_t>(n);
    out_.append(reinterpret_cast<const char*>(data), n * sizeof(T));
  }
  template <typename T>
  void PutVector(const std::vector<T>& v) {
    PutArray(v.data(), v.size());
  }
  void PutStrings(const std::vector<std::string>& v);
  void PutNested(const std::vector<std::vector<uint32_t>>& v);
  void PutNested(const std::vector<std::vector<float>>& v);
  // A length-prefixed block written by another writer (a component's state).
  void PutBlock(const ModelWriter& inner) { PutString(inner.out_); }

  const std::string& bytes() const { return out_; }
  std::string Release() { return std::move(out_); }

 private:
  std::string out_;
};

class ModelReader {
 public:
  // `bytes` must outlive the reader. `what` names the input in errors.
  explicit ModelReader(std::string_view bytes, std::string what = "model")
      : in_(bytes), what_(std::move(what)) {}

  template <typename T>
  bool Get(T* v) {
    static_assert(std::is_arithmetic_v<T>, "scalars only");
    if (!Need(sizeof(T))) return false;
    std::memcpy(v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool GetString(std::string* s);
  // Reads an array of at most `max_count` elements (more is Corruption).
  template <typename T>
  bool GetVector(std::vector<T>* v, uint64_t max_count = UINT64_MAX) {
    static_assert(std::is_arithmetic_v<T>, "arrays of scalars only");
    uint64_t n = 0;
    if (!Get(&n)) return false;
    if (n > max_count) return Fail("array of " + std::to_string(n) + " elements, at most " +
                                   std::to_string(max_count) + " expected");
    if (n > (in_.size() - pos_) / sizeof(T)) return Fail("array longer than the input");
    v->resize(n);
    if (n) std::memcpy(v->data(), in_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return true;
  }
  // Reads exactly `n` elements into `data` (an array written with that size).
  template <typename T>
  bool GetArray(T* data, uint64_t n) {
    uint64_t stored = 0;
    if (!Get(&stored)) return false;
    if (stored != n) return Fail("array of " + std::to_string(stored) + " elements, " +
                                 std::to_string(n) + " expected");
    if (n > (in_.size() - pos_) / sizeof(T)) return Fail("array longer than the input");
    if (n) std::memcpy(data, in_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return true;
  }
  bool GetStrings(std::vector<std::string>* v);
  bool GetNested(std::vector<std::vector<uint32_t>>* v);
  bool GetNested(std::vector<std::vector<float>>* v);
  // A block written by PutBlock, as a reader of its own (same lifetime).
  bool GetBlock(ModelReader* inner, std::string what);

  // Before allocating for `n` elements of `size` bytes that the input must
  // still hold: fails (Corruption) when it cannot, so a damaged count never
  // becomes a huge allocation.
  bool CanHold(uint64_t n, size_t size) {
    return n <= (in_.size() - pos_) / size || Fail("count larger than the input");
  }

  // Marks the input inconsistent (a model's own check failed); returns false.
  bool Fail(const std::string& why);
  // Fails with "bad <what>" unless `ok`: a model's consistency check.
  bool Expect(bool ok, const char* what) { return ok || Fail(std::string("bad ") + what); }

  bool ok() const { return status_.ok(); }
  bool AtEnd() const { return pos_ == in_.size(); }
  // OK, or the first failure (Corruption naming the input and offset).
  Status status() const { return status_; }
  // status(), and Corruption if input is left over.
  Status Finish() const;

 private:
  bool Need(size_t n);

  std::string_view in_;
  size_t pos_ = 0;
  std::string what_;
  Status status_;
};

}  // namespace recdb::models
