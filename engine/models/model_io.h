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
// Large arrays (PutStored / GetStored) are padded to 8 bytes relative to the
// start of their writer, and a block's bytes start 8-aligned in its parent;
// a file whose payload starts 8-aligned (model_file.h) therefore holds every
// stored array aligned, and a reader over a mapped file (keep_alive) hands
// out views of the file's bytes instead of copies: loading a model touches
// no fresh memory for them.
//
// Objects several models hold (one cosine neighbour table for recentknn1/5/
// 20) are written once per top-level writer (PutShared) and referenced
// afterwards; blocks written by Child() writers and read back through
// GetBlock share the table of such objects.
//
// ModelReader never reads past its input: a short or inconsistent input sets
// a sticky Corruption status, every later read fails, and the reading model
// returns status(). So a damaged file is an error value, never a crash.
//
// Thread-safety: one thread per writer or reader.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "recdb/export.h"
#include "recdb/status.h"

namespace recdb::models {

// A read-only array that either owns its elements or views bytes that
// another owner keeps alive (a stored model's mapped file, ModelReader::
// GetStored). Cheap to move; copying copies the view or the elements.
template <typename T>
class StoredArray {
 public:
  StoredArray() = default;
  explicit StoredArray(std::vector<T> owned) : owned_(std::move(owned)), view_(owned_) {}
  StoredArray(std::span<const T> view, std::shared_ptr<const void> keep_alive)
      : view_(view), keep_alive_(std::move(keep_alive)) {}
  StoredArray(const StoredArray& o) { *this = o; }
  StoredArray(StoredArray&& o) noexcept { *this = std::move(o); }
  StoredArray& operator=(const StoredArray& o) {
    if (this == &o) return *this;
    owned_ = o.owned_;
    keep_alive_ = o.keep_alive_;
    view_ = o.keep_alive_ ? o.view_ : std::span<const T>(owned_);
    return *this;
  }
  StoredArray& operator=(StoredArray&& o) noexcept {
    if (this == &o) return *this;
    const bool viewing = o.keep_alive_ != nullptr;
    owned_ = std::move(o.owned_);
    keep_alive_ = std::move(o.keep_alive_);
    view_ = viewing ? o.view_ : std::span<const T>(owned_);
    o.view_ = {};
    o.owned_.clear();
    return *this;
  }

  const T* data() const { return view_.data(); }
  size_t size() const { return view_.size(); }
  bool empty() const { return view_.empty(); }
  const T& operator[](size_t i) const { return view_[i]; }
  const T& back() const { return view_.back(); }
  auto begin() const { return view_.begin(); }
  auto end() const { return view_.end(); }
  std::span<const T> span() const { return view_; }
  // True when the elements live in another owner's bytes.
  bool is_view() const { return keep_alive_ != nullptr; }

 private:
  std::vector<T> owned_;
  std::span<const T> view_;
  std::shared_ptr<const void> keep_alive_;
};

namespace internal {
// The objects written (or read) once by PutShared (GetShared), in order.
struct SharedObjects {
  std::vector<const void*> written;
  std::vector<std::pair<std::shared_ptr<const void>, const std::type_info*>> read;
};
}  // namespace internal

class ModelWriter {
 public:
  ModelWriter()
      : out_(std::make_shared<std::string>()), shared_(std::make_shared<internal::SharedObjects>()) {}
  // Moved, not copied: a copy would share the buffer (blocks written in
  // place do, on purpose).
  ModelWriter(const ModelWriter&) = delete;
  ModelWriter& operator=(const ModelWriter&) = delete;
  ModelWriter(ModelWriter&&) = default;
  ModelWriter& operator=(ModelWriter&&) = default;
  // A writer for a block of this one (PutBlock): objects written with
  // PutShared through either are written once. Its block must be put, in
  // the order the children were written, or the references go wrong.
  ModelWriter Child() const {
    ModelWriter w;
    w.shared_ = shared_;
    return w;
  }
  // A block written in place (the bytes PutBlock(child) would write, without
  // the child's own buffer and the copy into this one: a model of 900 MB is
  // not copied block by block into its parents): BeginBlock writes the
  // length prefix as a placeholder and returns a writer appending to this
  // writer's buffer, sharing its objects (as Child); EndBlock(block) sets
  // the length. Until EndBlock nothing else may write to this writer, and
  // blocks begun on the block itself must have ended.
  ModelWriter BeginBlock() {
    const size_t at = out_->size();
    Put<uint64_t>(0);
    Align();
    ModelWriter w;
    w.out_ = out_;
    w.shared_ = shared_;
    w.length_at_ = at;
    w.start_ = out_->size();
    return w;
  }
  void EndBlock(const ModelWriter& block) {
    const uint64_t n = out_->size() - block.start_;
    std::memcpy(out_->data() + block.length_at_, &n, sizeof(n));
  }
  // Capacity for `bytes` in all (a hint: a writer that knows its output's
  // size, e.g. from the last file written, grows without reallocating).
  void Reserve(size_t bytes) { out_->reserve(bytes); }

  template <typename T>
  void Put(T v) {
    static_assert(std::is_arithmetic_v<T>, "scalars only");
    out_->append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  void PutString(std::string_view s) {
    Put<uint64_t>(s.size());
    out_->append(s.data(), s.size());
  }
  template <typename T>
  void PutArray(const T* data, size_t n) {
    static_assert(std::is_arithmetic_v<T>, "arrays of scalars only");
    Put<uint64_t>(n);
    out_->append(reinterpret_cast<const char*>(data), n * sizeof(T));
  }
  template <typename T>
  void PutVector(const std::vector<T>& v) {
    PutArray(v.data(), v.size());
  }
  // An array a reader can view in place (GetStored): count, zero padding to
  // 8 bytes, elements.
  template <typename T>
  void PutStored(std::span<const T> v) {
    static_assert(std::is_arithmetic_v<T> && alignof(T) <= 8, "arrays of scalars only");
    Put<uint64_t>(v.size());
    Align();
    out_->append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  // `object` in full (a 1, then save(*object, *this)) the first time this
  // writer or a relative sees it, else a 0 and the index of its first write.
  template <typename T>
  void PutShared(const std::shared_ptr<const T>& object, void (*save)(const T&, ModelWriter&)) {
    auto& seen = shared_->written;
    for (size_t i = 0; i < seen.size(); ++i) {
      if (seen[i] == object.get()) {
        Put<uint8_t>(0);
        Put<uint32_t>(static_cast<uint32_t>(i));
        return;
      }
    }
    seen.push_back(object.get());
    Put<uint8_t>(1);
    save(*object, *this);
  }
  void PutStrings(const std::vector<std::string>& v);
  void PutNested(const std::vector<std::vector<uint32_t>>& v);
  void PutNested(const std::vector<std::vector<float>>& v);
  // A length-prefixed block written by another writer (a component's state).
  // Its bytes start 8-aligned relative to this writer.
  void PutBlock(const ModelWriter& inner) {
    Put<uint64_t>(inner.out_->size());
    Align();
    out_->append(*inner.out_);
  }

  // Of a writer that is not a BeginBlock block.
  const std::string& bytes() const { return *out_; }
  std::string Release() { return std::move(*out_); }

 private:
  // Blocks start 8-aligned in their buffer (BeginBlock), so alignment
  // relative to the buffer is alignment relative to this writer.
  void Align() { out_->append((8 - out_->size() % 8) % 8, '\0'); }

  std::shared_ptr<std::string> out_;  // shared with in-place blocks (BeginBlock)
  size_t length_at_ = 0, start_ = 0;  // of an in-place block: its length prefix, its first byte
  std::shared_ptr<internal::SharedObjects> shared_;
};

class ModelReader {
 public:
  // `bytes` must outlive the reader. `what` names the input in errors.
  explicit ModelReader(std::string_view bytes, std::string what = "model")
      : in_(bytes), what_(std::move(what)), shared_(std::make_shared<internal::SharedObjects>()) {}
  // With `keep_alive` owning `bytes` (an 8-aligned mapped file), GetStored
  // returns views of the input that keep it alive, not copies.
  ModelReader(std::string_view bytes, std::string what, std::shared_ptr<const void> keep_alive)
      : ModelReader(bytes, std::move(what)) {
    keep_alive_ = std::move(keep_alive);
  }

  template <typename T>
  bool Get(T* v) {
    static_assert(std::is_arithmetic_v<T>, "scalars only");
    if (!Need(sizeof(T))) return false;
    std::memcpy(v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  RECDB_EXPORT bool GetString(std::string* s);  // plugin interface (Load)
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
  // An array written by PutVector / PutArray (no padding) as a StoredArray:
  // a view of the input when the reader has a keep_alive and the elements
  // happen to be aligned (always for 4-byte elements: counts are 8 bytes),
  // else a copy. Reads what GetVector reads, without a zero-filled copy.
  template <typename T>
  bool GetVectorView(StoredArray<T>* v, uint64_t max_count = UINT64_MAX) {
    static_assert(std::is_arithmetic_v<T> && alignof(T) <= 8, "arrays of scalars only");
    uint64_t n = 0;
    return Get(&n) && ViewOrCopy(v, n, max_count);
  }
  // Rows written by PutNested (a count, then PutVector each), as views
  // where GetVectorView can.
  template <typename T>
  bool GetNestedView(std::vector<StoredArray<T>>* v) {
    uint64_t n = 0;
    if (!Get(&n)) return false;
    if (n > (in_.size() - pos_) / 8) return Fail("more rows than the input holds");
    v->clear();
    v->resize(n);
    for (auto& row : *v) {
      if (!GetVectorView(&row)) return false;
    }
    return true;
  }
  // An array written by PutStored, of at most `max_count` elements: a view
  // of the input when the reader has a keep_alive and the elements are
  // aligned, else a copy.
  template <typename T>
  bool GetStored(StoredArray<T>* v, uint64_t max_count = UINT64_MAX) {
    static_assert(std::is_arithmetic_v<T> && alignof(T) <= 8, "arrays of scalars only");
    uint64_t n = 0;
    return Get(&n) && SkipPadding() && ViewOrCopy(v, n, max_count);
  }
  // An object written by PutShared: loaded the first time, the same object
  // (shared) when the input refers to an earlier one of the same type.
  template <typename T>
  bool GetShared(std::shared_ptr<const T>* object, bool (*load)(ModelReader&, T*)) {
    uint8_t first = 0;
    if (!Get(&first)) return false;
    auto& read = shared_->read;
    if (first == 1) {
      auto fresh = std::make_shared<T>();
      if (!load(*this, fresh.get())) return false;
      read.emplace_back(fresh, &typeid(T));
      *object = std::move(fresh);
      return true;
    }
    uint32_t index = 0;
    if (!Expect(first == 0, "shared object tag") || !Get(&index)) return false;
    if (index >= read.size() || *read[index].second != typeid(T)) {
      return Fail("reference to shared object " + std::to_string(index) + " not read before");
    }
    *object = std::static_pointer_cast<const T>(read[index].first);
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
  RECDB_EXPORT bool Fail(const std::string& why);  // plugin interface
  // Fails with "bad <what>" unless `ok`: a model's consistency check.
  bool Expect(bool ok, const char* what) { return ok || Fail(std::string("bad ") + what); }

  bool ok() const { return status_.ok(); }
  bool AtEnd() const { return pos_ == in_.size(); }
  // OK, or the first failure (Corruption naming the input and offset).
  Status status() const { return status_; }
  // status(), and Corruption if input is left over.
  Status Finish() const;

 private:
  // Exported (plugin interface): the inline Get<T> a plugin's Load
  // instantiates calls it.
  RECDB_EXPORT bool Need(size_t n);
  bool SkipPadding();
  // The `n` elements of T at the read position (GetVectorView, GetStored):
  // a view of the input when the reader has a keep_alive and they are
  // aligned, else a copy; Fail past `max_count` or the input's end.
  template <typename T>
  bool ViewOrCopy(StoredArray<T>* v, uint64_t n, uint64_t max_count) {
    if (n > max_count) return Fail("array of " + std::to_string(n) + " elements, at most " +
                                   std::to_string(max_count) + " expected");
    if (n > (in_.size() - pos_) / sizeof(T)) return Fail("array longer than the input");
    const char* p = in_.data() + pos_;
    pos_ += n * sizeof(T);
    if (keep_alive_ && reinterpret_cast<uintptr_t>(p) % alignof(T) == 0) {
      *v = StoredArray<T>(std::span<const T>(reinterpret_cast<const T*>(p), n), keep_alive_);
      return true;
    }
    std::vector<T> copy(n);
    if (n) std::memcpy(copy.data(), p, n * sizeof(T));
    *v = StoredArray<T>(std::move(copy));
    return true;
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string what_;
  Status status_;
  std::shared_ptr<const void> keep_alive_;
  std::shared_ptr<internal::SharedObjects> shared_;
};

}  // namespace recdb::models
