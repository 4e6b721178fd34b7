#include "tools/import/importer.h"

#include <fstream>

#include <gtest/gtest.h>

#include "test_util.h"

namespace recdb::tools {
namespace {

std::string EventLine(int i) {
  return R"({"user":"u)" + std::to_string(i % 3) + R"(","item":"i)" + std::to_string(i) +
         R"(","type":"view","ts":)" + std::to_string(1700000000 + i) + "}";
}

class ImporterTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open(bool auto_create_users = true) {
    db_.reset();
    Options o;
    o.create_if_missing = true;
    o.background_threads = 0;
    o.auto_create_users = auto_create_users;
    auto db = DB::Open(o, dir_.Sub("db"));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }

  // Writes `lines` to FILE and returns its path.
  std::string WriteFile(const std::string& name, const std::vector<std::string>& lines) {
    std::string path = dir_.Sub(name);
    std::ofstream out(path, std::ios::binary);
    for (const auto& l : lines) out << l << "\n";
    return path;
  }

  // 12 event lines; line `bad` (1-based) is malformed JSON.
  std::vector<std::string> EventsWithBadLine(int bad) {
    std::vector<std::string> lines;
    for (int i = 1; i <= 12; ++i) lines.push_back(i == bad ? R"({"user":"u1",)" : EventLine(i));
    return lines;
  }

  int64_t Events() {
    auto s = db_->GetStats();
    EXPECT_TRUE(s.ok());
    return s.ok() ? s->events : -1;
  }

  test::TempDir dir_;
  std::unique_ptr<DB> db_;
  std::vector<std::string> bad_;
};

TEST_F(ImporterTest, ReportsTheBadLineNumberAndSkipsIt) {
  std::string path = WriteFile("events.jsonl", EventsWithBadLine(7));
  ImportOptions opt;
  opt.batch_size = 4;
  opt.on_bad_record = [this](const std::string& m) { bad_.push_back(m); };
  Importer importer(db_.get(), opt);
  ASSERT_TRUE(importer.ImportFile(path, RecordKind::kEvent).ok());
  ASSERT_EQ(bad_.size(), 1u);
  EXPECT_EQ(bad_[0].rfind(path + ":7: malformed JSON", 0), 0u) << bad_[0];
  EXPECT_EQ(importer.summary().events, 11);
  EXPECT_EQ(importer.summary().skipped, 1);
  EXPECT_EQ(Events(), 11);
}

TEST_F(ImporterTest, StopStoresNothingFromTheBadLinesBatch) {
  std::string path = WriteFile("events.jsonl", EventsWithBadLine(7));
  ImportOptions opt;
  opt.batch_size = 4;  // batches: lines 1-4, 5-8 (holds line 7), 9-12
  opt.on_error = OnError::kStop;
  opt.on_bad_record = [this](const std::string& m) { bad_.push_back(m); };
  Importer importer(db_.get(), opt);
  Status s = importer.ImportFile(path, RecordKind::kEvent);
  EXPECT_EQ(s.code(), StatusCode::kAborted) << s.ToString();
  EXPECT_NE(s.message().find(path + ":7:"), std::string::npos) << s.message();
  EXPECT_EQ(importer.summary().events, 4);
  EXPECT_EQ(Events(), 4);
  auto h = db_->GetUserHistory("u2");  // lines 2, 5, 8, 11: only line 2 stored
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].item, "i2");
  // Reopen: the database is clean and holds exactly the first batch.
  ASSERT_TRUE(db_->Close().ok());
  Open();
  EXPECT_EQ(Events(), 4);
}

TEST_F(ImporterTest, DBRejectedRecordIsIsolatedUnderSkip) {
  // With auto-creation off, events of an unknown user are rejected by the DB
  // (not by the importer's own checks): bisection finds the record.
  Open(/*auto_create_users=*/false);
  ASSERT_TRUE(db_->UpsertUsers(WriteOptions(), {User{"u0", {}, {}}, User{"u1", {}, {}},
                                                User{"u2", {}, {}}})
                  .ok());
  std::vector<std::string> lines;
  for (int i = 1; i <= 10; ++i) lines.push_back(EventLine(i));
  lines[5] = R"({"user":"ghost","item":"i6","ts":1700000006})";  // line 6
  std::string path = WriteFile("events.jsonl", lines);
  ImportOptions opt;
  opt.batch_size = 8;
  opt.on_bad_record = [this](const std::string& m) { bad_.push_back(m); };
  Importer importer(db_.get(), opt);
  ASSERT_TRUE(importer.ImportFile(path, RecordKind::kEvent).ok());
  ASSERT_EQ(bad_.size(), 1u);
  EXPECT_EQ(bad_[0].rfind(path + ":6:", 0), 0u) << bad_[0];
  EXPECT_EQ(Events(), 9);
}

TEST_F(ImporterTest, DBRejectedRecordUnderStopStoresNothingOfItsBatch) {
  Open(/*auto_create_users=*/false);
  ASSERT_TRUE(db_->UpsertUsers(WriteOptions(), {User{"u0", {}, {}}, User{"u1", {}, {}},
                                                User{"u2", {}, {}}})
                  .ok());
  std::vector<std::string> lines;
  for (int i = 1; i <= 10; ++i) lines.push_back(EventLine(i));
  lines[5] = R"({"user":"ghost","item":"i6","ts":1700000006})";
  std::string path = WriteFile("events.jsonl", lines);
  ImportOptions opt;
  opt.batch_size = 4;
  opt.on_error = OnError::kStop;
  Importer importer(db_.get(), opt);
  Status s = importer.ImportFile(path, RecordKind::kEvent);
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_NE(s.message().find(path + ":6:"), std::string::npos) << s.message();
  EXPECT_EQ(Events(), 4);
}

TEST_F(ImporterTest, UnknownEventTypeIsABadLine) {
  std::string path = WriteFile("events.jsonl", {EventLine(1),
                                                R"({"user":"u","item":"i","type":"teleport","ts":1})",
                                                EventLine(3)});
  ImportOptions opt;
  opt.on_bad_record = [this](const std::string& m) { bad_.push_back(m); };
  Importer importer(db_.get(), opt);
  ASSERT_TRUE(importer.ImportFile(path, RecordKind::kEvent).ok());
  ASSERT_EQ(bad_.size(), 1u);
  EXPECT_NE(bad_[0].find(":2: type: unknown event type 'teleport'"), std::string::npos) << bad_[0];
  EXPECT_EQ(Events(), 2);
}

TEST_F(ImporterTest, CsvItemsAndUsers) {
  std::string items = WriteFile("items.csv", {"id,title,categories,attributes.price:number",
                                              "i1,\"Cup, large\",Kitchen|Gifts,9.5",
                                              "i2,Plate,Kitchen,not-a-number", "i3,Bowl,,"});
  std::string users = WriteFile("users.csv", {"id,consent.training", "u1,false", "u2,"});
  ImportOptions opt;
  opt.on_bad_record = [this](const std::string& m) { bad_.push_back(m); };
  Importer importer(db_.get(), opt);
  ASSERT_TRUE(importer.ImportFile(items, RecordKind::kItem).ok());
  ASSERT_TRUE(importer.ImportFile(users, RecordKind::kUser).ok());
  ASSERT_EQ(bad_.size(), 1u);
  EXPECT_EQ(bad_[0].rfind(items + ":3: attributes.price:number", 0), 0u) << bad_[0];
  auto cup = db_->GetItem("i1");
  ASSERT_TRUE(cup.ok());
  EXPECT_EQ(cup->title, "Cup, large");
  EXPECT_EQ(cup->categories, (std::vector<std::string>{"Kitchen", "Gifts"}));
  EXPECT_TRUE(db_->GetItem("i3").ok());
  auto u1 = db_->GetUser("u1");
  ASSERT_TRUE(u1.ok());
  EXPECT_FALSE(u1->consent.training);
}

TEST_F(ImporterTest, BadCsvHeaderStopsTheFile) {
  std::string path = WriteFile("events.csv", {"user,item,when", "u1,i1,5"});
  Importer importer(db_.get(), ImportOptions());
  Status s = importer.ImportFile(path, RecordKind::kEvent);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find(path + ":1: header"), std::string::npos) << s.message();
}

TEST_F(ImporterTest, UnknownExtensionAndMissingFileAreClearErrors) {
  Importer importer(db_.get(), ImportOptions());
  Status ext = importer.ImportFile(dir_.Sub("events.txt"), RecordKind::kEvent);
  EXPECT_TRUE(ext.IsInvalidArgument());
  Status missing = importer.ImportFile(dir_.Sub("nope.jsonl"), RecordKind::kEvent);
  EXPECT_TRUE(missing.IsIOError());
  EXPECT_NE(missing.message().find("nope.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace recdb::tools

namespace recdb::tools {
namespace {

TEST_F(ImporterTest, ImportedEventsAreCountedPerItemAcrossReopen) {
  std::string path = WriteFile("events.jsonl", {EventLine(1), EventLine(1), EventLine(2)});
  Importer importer(db_.get(), ImportOptions());
  ASSERT_TRUE(importer.ImportFile(path, RecordKind::kEvent).ok());
  auto before = db_->GetItemCounts("i1");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->total, 2);
  ASSERT_TRUE(db_->Close().ok());
  Open();
  auto after = db_->GetItemCounts("i1");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->total, 2);
  ASSERT_TRUE(db_->Close().ok());
  db_.reset();
  Options ro;
  ro.read_only = true;
  auto db = DB::Open(ro, dir_.Sub("db"));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto read_only = (*db)->GetItemCounts("i1");
  ASSERT_TRUE(read_only.ok());
  EXPECT_EQ(read_only->total, 2);
}

// Issue 19 #15: ml-latest's tags.csv is imported as the item attribute
// "tags" and counted, not skipped without a word; a bad tag row is a bad
// line like any other; a film from 1922 keeps its (negative) date.
TEST_F(ImporterTest, MovieLensLatestTagsAndOldFilms) {
  WriteFile("movies.csv", {"movieId,title,genres", "1,Toy Story (1995),Animation|Comedy",
                           "2,Nosferatu (1922),Horror"});
  WriteFile("ratings.csv", {"userId,movieId,rating,timestamp", "7,1,4.0,1500000000",
                            "7,2,3.5,1500000100"});
  WriteFile("tags.csv", {"userId,movieId,tag,timestamp", "7,1,pixar,1500000000",
                         "8,1,Pixar,1500000001", "8,1,funny,1500000002", "8,x,bad,1500000003",
                         "9,2,vampire,1500000004"});
  std::vector<std::string> bad;
  ImportOptions o;
  o.on_bad_record = [&](const std::string& m) { bad.push_back(m); };
  Importer importer(db_.get(), o);
  ASSERT_TRUE(importer.ImportMovieLens(dir_.path()).ok());
  EXPECT_EQ(importer.summary().tags, 4);
  EXPECT_EQ(importer.summary().skipped, 1);
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_NE(bad[0].find("tags.csv:5"), std::string::npos) << bad[0];
  EXPECT_NE(bad[0].find("movieId"), std::string::npos) << bad[0];
  EXPECT_EQ(importer.summary().items, 2);
  EXPECT_EQ(importer.summary().events, 2);
  auto toy = db_->GetItem("1");
  ASSERT_TRUE(toy.ok());
  EXPECT_EQ(std::get<std::vector<std::string>>(toy->attributes.at("tags")),
            (std::vector<std::string>{"pixar", "funny"}));
  auto old = db_->GetItem("2");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->created_at, -1514764800);
  EXPECT_EQ(std::get<std::vector<std::string>>(old->attributes.at("tags")),
            (std::vector<std::string>{"vampire"}));
}

}  // namespace
}  // namespace recdb::tools
