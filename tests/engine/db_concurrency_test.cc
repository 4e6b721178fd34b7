// Many writers and readers at once: every write lands exactly once, readers
// never see torn state, ids stay dense.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "db_test_util.h"
#include "engine/db_impl/db_impl.h"
#include "recdb/db.h"
#include "test_util.h"

namespace recdb {
namespace {

TEST(DBConcurrencyTest, WritersAndReadersRunTogether) {
  test::TempDir dir;
  auto db = test::OpenOrDie(dir.path());
  constexpr int kWriters = 4;
  constexpr int kBatches = 50;
  constexpr int kPerBatch = 40;
  constexpr int kItems = 50;  // every item is hit: (w * 13 + i) % 50 over i < 40, w < 4
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<Event> batch;
        for (int i = 0; i < kPerBatch; ++i) {
          // Users are shared between writers so new-id allocation races.
          batch.push_back(test::MakeEvent("u" + std::to_string((b * kPerBatch + i) % 37),
                                          "i" + std::to_string((w * 13 + i) % kItems), "view",
                                          1000 + w * 100000 + b * kPerBatch + i));
        }
        if (!db->RecordEvents({}, batch).ok()) failures++;
        if (b % 10 == 0) {
          Item it;
          it.id = "i" + std::to_string(w);
          it.title = "writer " + std::to_string(w);
          if (!db->UpsertItems({}, {it}).ok()) failures++;
        }
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (!done.load()) {
        auto h = db->GetUserHistory("u1");
        if (h.ok()) {
          for (size_t i = 1; i < h->size(); ++i) {
            if ((*h)[i - 1].timestamp > (*h)[i].timestamp) failures++;
          }
        } else if (!h.status().IsNotFound()) {
          failures++;
        }
        auto st = db->GetStats();
        if (!st.ok() || st->events % kPerBatch != 0) failures++;  // batches are atomic
        auto c = db->GetItemCounts("i5");
        if (!c.ok() && !c.status().IsNotFound()) failures++;
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  done = true;
  for (size_t t = kWriters; t < threads.size(); ++t) threads[t].join();
  EXPECT_EQ(failures.load(), 0);
  auto st = db->GetStats();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->events, kWriters * kBatches * kPerBatch);
  EXPECT_EQ(st->users, 37);
  EXPECT_EQ(st->items, kItems);
  int64_t total = 0;
  for (int i = 0; i < kItems; ++i) {
    auto c = db->GetItemCounts("i" + std::to_string(i));
    ASSERT_TRUE(c.ok()) << i << ": " << c.status().ToString();
    total += c->total;
  }
  EXPECT_EQ(total, kWriters * kBatches * kPerBatch);
  // Dense ids: every internal id below the limit maps back.
  auto* impl = static_cast<DBImpl*>(db.get());
  EXPECT_EQ(impl->UserIdLimit(), 37u);
  for (uint32_t u = 0; u < impl->UserIdLimit(); ++u) {
    EXPECT_EQ(impl->FindUserIid(impl->UserExternalId(u)), u);
  }
}

}  // namespace
}  // namespace recdb
