#include "storage/counter_merge_operator.h"

#include "storage/key_codec.h"

namespace recdb::storage {

bool Int64AddOperator::Merge(const rocksdb::Slice& /*key*/, const rocksdb::Slice* existing_value,
                             const rocksdb::Slice& value, std::string* new_value,
                             rocksdb::Logger* /*logger*/) const {
  int64_t sum = 0;
  if (existing_value != nullptr && !DecodeInt64(*existing_value, &sum)) return false;
  int64_t delta = 0;
  if (!DecodeInt64(value, &delta)) return false;
  uint64_t total = static_cast<uint64_t>(sum) + static_cast<uint64_t>(delta);  // wraps, no UB
  new_value->resize(8);
  EncodeFixed64LE(new_value->data(), total);
  return true;
}

std::shared_ptr<rocksdb::MergeOperator> NewInt64AddOperator() {
  return std::make_shared<Int64AddOperator>();
}

std::string EncodeInt64(int64_t v) {
  std::string s(8, '\0');
  EncodeFixed64LE(s.data(), static_cast<uint64_t>(v));
  return s;
}

bool DecodeInt64(const rocksdb::Slice& bytes, int64_t* v) {
  if (bytes.size() != 8) return false;
  *v = static_cast<int64_t>(DecodeFixed64LE(bytes.data()));
  return true;
}

}  // namespace recdb::storage
