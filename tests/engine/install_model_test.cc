// DB::InstallModel: a model trained by another database of the same data (a
// cluster's trainer) serves here once it verifies; a damaged, truncated or
// foreign model is refused with a clear status and the previous model keeps
// serving (in memory and on disk).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "db_test_util.h"
#include "engine/recommend/model_file.h"
#include "test_util.h"

namespace recdb {
namespace {

namespace fs = std::filesystem;
using test::MakeEvent;
using test::TopScores;
using test::OpenOrDie;
using test::TempDir;

constexpr int64_t kT0 = 1700000000;

// 40 users in two clusters of 12 items; `shift` changes who saw what (the
// same items in the same first-seen order, other co-occurrences).
void RecordWorld(DB& db, int shift) {
  std::vector<Event> events;
  for (int i = 0; i < 12; ++i) {
    events.push_back(MakeEvent("seed", "a" + std::to_string(i), "view", kT0 + i));
    events.push_back(MakeEvent("seed", "b" + std::to_string(i), "view", kT0 + i));
  }
  for (int u = 0; u < 40; ++u) {
    for (int j = 0; j < 8; ++j) {
      events.push_back(MakeEvent("u" + std::to_string(u),
                                 (u % 2 ? "a" : "b") + std::to_string((u * shift + j) % 12),
                                 "view", kT0 + 100 + u * 100 + j));
    }
  }
  ASSERT_TRUE(db.RecordEvents({}, events).ok());
}

// Copies `db_dir`'s trained model files to `to` (what a trainer ships).
void CopyModel(const std::string& db_dir, const std::string& to) {
  fs::create_directories(to);
  for (const char* name : {kModelFileName, kRetrievalFileName}) {
    const fs::path from = fs::path(db_dir) / "derived" / name;
    if (fs::exists(from)) {
      fs::copy_file(from, fs::path(to) / name, fs::copy_options::overwrite_existing);
    }
  }
}

TEST(InstallModelTest, AModelOfTheSameDataServesAsOnItsTrainer) {
  TempDir trainer, serving, ship;
  std::vector<std::pair<std::string, double>> want;
  uint64_t version = 0;
  {
    auto t = OpenOrDie(trainer.path());
    RecordWorld(*t, 1);
    auto report = t->Train();
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    version = report->model_version;
    want = TopScores(*t, "u3");
  }
  CopyModel(trainer.path(), ship.path());
  auto s = OpenOrDie(serving.path());
  RecordWorld(*s, 1);
  RecommendRequest request;
  request.user = "u3";
  EXPECT_FALSE(s->Recommend(request).ok()) << "no model before the install";
  ASSERT_TRUE(s->InstallModel(ship.path()).ok());
  EXPECT_EQ(s->GetModelReport()->model_version, version);
  EXPECT_EQ(TopScores(*s, "u3"), want) << "same lists and scores as the trainer";
  // User-side scoring stays local and real time: a fresh event here changes
  // the next answer without a model.
  ASSERT_TRUE(s->RecordEvents({}, {MakeEvent("u3", "b5", "view", kT0 + 90000)}).ok());
  EXPECT_NE(TopScores(*s, "u3"), want);
  // Written to DIR/derived: a reopen serves the installed model.
  s.reset();
  auto again = OpenOrDie(serving.path());
  EXPECT_EQ(again->GetStats()->model_version, version) << again->GetStats()->model_problem;
  EXPECT_EQ(again->GetStats()->model_problem, "");
}

TEST(InstallModelTest, ADamagedOrForeignModelIsRefusedAndThePreviousOneServes) {
  TempDir trainer, other, serving, ship;
  {
    auto t = OpenOrDie(trainer.path());
    RecordWorld(*t, 1);
    ASSERT_TRUE(t->Train().ok());
  }
  auto s = OpenOrDie(serving.path());
  RecordWorld(*s, 3);  // the same items, other histories
  auto own = s->Train();
  ASSERT_TRUE(own.ok());
  const auto before = TopScores(*s, "u3");
  const std::string stored = s->GetStats().value().model_problem;
  auto model_bytes = [&] {
    std::ifstream in(serving.path() + "/derived/" + kModelFileName, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string on_disk = model_bytes();

  // No model file: InvalidArgument.
  Status none = s->InstallModel(ship.path());
  EXPECT_TRUE(none.IsInvalidArgument()) << none.ToString();

  // One byte flipped in the payload: Corruption (CRC-32C of the file).
  CopyModel(trainer.path(), ship.path());
  const std::string shipped = ship.path() + "/" + kModelFileName;
  {
    std::fstream f(shipped, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(fs::file_size(shipped) / 2));
    char c = 0;
    f.read(&c, 1);
    c ^= 0x20;
    f.seekp(static_cast<std::streamoff>(fs::file_size(shipped) / 2));
    f.write(&c, 1);
  }
  Status damaged = s->InstallModel(ship.path());
  EXPECT_TRUE(damaged.IsCorruption()) << damaged.ToString();
  EXPECT_NE(damaged.message().find("serving model is unchanged"), std::string::npos)
      << damaged.ToString();
  EXPECT_EQ(TopScores(*s, "u3"), before);
  EXPECT_EQ(s->GetModelReport()->model_version, own->model_version);

  // Truncated: Corruption.
  CopyModel(trainer.path(), ship.path());
  fs::resize_file(shipped, fs::file_size(shipped) - 100);
  Status truncated = s->InstallModel(ship.path());
  EXPECT_TRUE(truncated.IsCorruption()) << truncated.ToString();
  EXPECT_EQ(TopScores(*s, "u3"), before);

  // A model of other data (items first seen in another order: other internal
  // ids; one user more): FailedPrecondition.
  {
    auto o = OpenOrDie(other.path());
    std::vector<Event> events;
    for (int i = 11; i >= 0; --i) {
      events.push_back(MakeEvent("w", "b" + std::to_string(i), "view", kT0 + i));
      events.push_back(MakeEvent("w", "a" + std::to_string(i), "view", kT0 + i));
    }
    ASSERT_TRUE(o->RecordEvents({}, events).ok());
    RecordWorld(*o, 1);
    ASSERT_TRUE(o->Train().ok());
  }
  fs::remove_all(ship.path());
  CopyModel(other.path(), ship.path());
  Status foreign = s->InstallModel(ship.path());
  EXPECT_TRUE(foreign.IsFailedPrecondition()) << foreign.ToString();
  EXPECT_NE(foreign.message().find("this database"), std::string::npos) << foreign.ToString();

  // Through it all the previous model served and its file stayed.
  EXPECT_EQ(TopScores(*s, "u3"), before);
  EXPECT_EQ(s->GetModelReport()->model_version, own->model_version);
  EXPECT_EQ(model_bytes(), on_disk);
  EXPECT_EQ(s->GetStats().value().model_problem, stored);

  // The good one then installs.
  fs::remove_all(ship.path());
  CopyModel(trainer.path(), ship.path());
  ASSERT_TRUE(s->InstallModel(ship.path()).ok());
  EXPECT_NE(TopScores(*s, "u3"), before);

  // After Close: FailedPrecondition.
  ASSERT_TRUE(s->Close().ok());
  EXPECT_TRUE(s->InstallModel(ship.path()).IsFailedPrecondition());
}

}  // namespace
}  // namespace recdb
