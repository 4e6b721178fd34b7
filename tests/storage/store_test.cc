#include "storage/store.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "storage/counter_merge_operator.h"
#include "test_util.h"

namespace recdb::storage {
namespace {

Options CreateOptions() {
  Options o;
  o.create_if_missing = true;
  return o;
}

TEST(StoreTest, CreatesEveryColumnFamilyAndReopens) {
  test::TempDir dir;
  {
    auto store = Store::Open(CreateOptions(), dir.Sub("db"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_TRUE((*store)->created());
    for (int i = 0; i < kNumColumnFamilies; ++i) {
      auto cf = static_cast<ColumnFamily>(i);
      ASSERT_NE((*store)->Handle(cf), nullptr) << ColumnFamilyName(cf);
      EXPECT_EQ((*store)->Handle(ColumnFamilyName(cf)), (*store)->Handle(cf));
    }
    rocksdb::WriteBatch b;
    b.Put((*store)->Handle(ColumnFamily::kItems), "k", "v");
    ASSERT_TRUE((*store)->Write(&b, true).ok());
    ASSERT_TRUE((*store)->Close().ok());
  }
  auto store = Store::Open(Options{}, dir.Sub("db"));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_FALSE((*store)->created());
  std::string v;
  ASSERT_TRUE((*store)->Get(ColumnFamily::kItems, "k", &v).ok());
  EXPECT_EQ(v, "v");
  EXPECT_TRUE((*store)->Get(ColumnFamily::kItems, "absent", &v).IsNotFound());
  EXPECT_GT((*store)->DiskBytes(), 0u);
}

TEST(StoreTest, OpenErrors) {
  test::TempDir dir;
  EXPECT_TRUE(Store::Open(Options{}, dir.Sub("db")).status().IsNotFound());
  { ASSERT_TRUE(Store::Open(CreateOptions(), dir.Sub("db")).ok()); }
  Options o = CreateOptions();
  o.error_if_exists = true;
  EXPECT_EQ(Store::Open(o, dir.Sub("db")).status().code(), StatusCode::kAlreadyExists);
  auto first = Store::Open(Options{}, dir.Sub("db"));
  ASSERT_TRUE(first.ok());
  // The LOCK is held by `first`.
  EXPECT_TRUE(Store::Open(Options{}, dir.Sub("db")).status().IsIOError());
}

TEST(StoreTest, ReadOnlyRejectsWrites) {
  test::TempDir dir;
  { ASSERT_TRUE(Store::Open(CreateOptions(), dir.Sub("db")).ok()); }
  Options o;
  o.read_only = true;
  auto store = Store::Open(o, dir.Sub("db"));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  rocksdb::WriteBatch b;
  b.Put((*store)->Handle(ColumnFamily::kItems), "k", "v");
  EXPECT_EQ((*store)->Write(&b, false).code(), StatusCode::kFailedPrecondition);
}

// NewPrefixIterator yields exactly the keys that begin with the prefix, from
// the first (at creation and after SeekToFirst) or the last, and owns its
// bounds: the prefix string may go away. A prefix ending in 0xff bytes has
// the right successor; one of 0xff bytes only has none.
TEST(StoreTest, PrefixIteratorStaysWithinItsPrefix) {
  test::TempDir dir;
  auto store = Store::Open(CreateOptions(), dir.Sub("db"));
  ASSERT_TRUE(store.ok());
  auto* cf = (*store)->Handle(ColumnFamily::kMeta);
  rocksdb::WriteBatch b;
  for (const char* k : {"a", "a.", "a/1", "a/2", "a0", "b", "c\xff", "c\xff\x01", "d",
                        "\xff", "\xff\x02"}) {
    b.Put(cf, k, "v");
  }
  ASSERT_TRUE((*store)->Write(&b, false).ok());
  auto keys = [&](std::string prefix, bool from_last) {
    auto it = (*store)->NewPrefixIterator(ColumnFamily::kMeta, prefix);
    prefix.assign(prefix.size(), '?');  // the iterator keeps its own copy
    std::vector<std::string> out;
    if (from_last) {
      for (it->SeekToLast(); it->Valid(); it->Prev()) out.push_back(it->key().ToString());
    } else {
      for (; it->Valid(); it->Next()) out.push_back(it->key().ToString());
      it->SeekToFirst();
      EXPECT_EQ(it->Valid() ? it->key().ToString() : "", out.empty() ? "" : out.front());
    }
    EXPECT_TRUE(it->status().ok());
    return out;
  };
  EXPECT_EQ(keys("a/", false), (std::vector<std::string>{"a/1", "a/2"}));
  EXPECT_EQ(keys("a/", true), (std::vector<std::string>{"a/2", "a/1"}));
  EXPECT_EQ(keys("c\xff", false), (std::vector<std::string>{"c\xff", "c\xff\x01"}));
  EXPECT_EQ(keys("\xff", false), (std::vector<std::string>{"\xff", "\xff\x02"}));
  EXPECT_TRUE(keys("e", false).empty());
}

TEST(StoreTest, ItemStatsMergeAddsSignedCounters) {
  test::TempDir dir;
  auto store = Store::Open(CreateOptions(), dir.Sub("db"));
  ASSERT_TRUE(store.ok());
  auto* cf = (*store)->Handle(ColumnFamily::kItemStats);
  rocksdb::WriteBatch b;
  b.Merge(cf, "c", EncodeInt64(5));
  b.Merge(cf, "c", EncodeInt64(7));
  ASSERT_TRUE((*store)->Write(&b, false).ok());
  ASSERT_TRUE((*store)->Flush().ok());
  rocksdb::WriteBatch b2;
  b2.Merge(cf, "c", EncodeInt64(-2));
  ASSERT_TRUE((*store)->Write(&b2, false).ok());
  std::string v;
  ASSERT_TRUE((*store)->Get(ColumnFamily::kItemStats, "c", &v).ok());
  int64_t n = 0;
  ASSERT_TRUE(DecodeInt64(v, &n));
  EXPECT_EQ(n, 10);
  // A malformed operand fails the merge: a Corruption read, not a crash.
  rocksdb::WriteBatch b3;
  b3.Merge(cf, "bad", "xyz");
  ASSERT_TRUE((*store)->Write(&b3, false).ok());
  Status s = (*store)->Get(ColumnFamily::kItemStats, "bad", &v);
  EXPECT_FALSE(s.ok());
}

TEST(StoreTest, StatusMapping) {
  EXPECT_TRUE(FromRocksDB(rocksdb::Status::OK()).ok());
  EXPECT_TRUE(FromRocksDB(rocksdb::Status::NotFound("x")).IsNotFound());
  EXPECT_TRUE(FromRocksDB(rocksdb::Status::Corruption("x")).IsCorruption());
  EXPECT_TRUE(FromRocksDB(rocksdb::Status::IOError("x")).IsIOError());
  EXPECT_TRUE(FromRocksDB(rocksdb::Status::InvalidArgument("x")).IsInvalidArgument());
  EXPECT_EQ(FromRocksDB(rocksdb::Status::Busy("x")).code(), StatusCode::kAborted);
}

}  // namespace
}  // namespace recdb::storage
