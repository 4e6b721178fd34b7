// Int64AddOperator: the merge operator of the "item_stats" column family.
//
// Every value and operand is a signed 64-bit integer, 8 bytes little-endian.
// Merging adds them (two's-complement wrap-around, never UB), so a writer can
// count up with Merge(+n) and later privacy work can subtract with Merge(-n)
// without reading first. A value of the wrong size fails the merge, which
// RocksDB reports as Corruption on read and compaction.
//
// Thread-safety: stateless; RocksDB calls it from any thread.
#pragma once

#include <rocksdb/merge_operator.h>

#include <cstdint>
#include <memory>
#include <string>

namespace recdb::storage {

class Int64AddOperator final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& key, const rocksdb::Slice* existing_value,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger* logger) const override;
  const char* Name() const override { return "recdb.Int64Add"; }
};

std::shared_ptr<rocksdb::MergeOperator> NewInt64AddOperator();

// 8-byte little-endian encoding of a counter delta / value.
std::string EncodeInt64(int64_t v);
// False if `bytes` is not 8 bytes.
bool DecodeInt64(const rocksdb::Slice& bytes, int64_t* v);

}  // namespace recdb::storage
