// The bindings' bar scenario through the C++ API, whose results the C
// (capi_ml100k_test.c) and Python (python/tests/test_ml100k_bar.py) runs of
// the same scenario must reproduce:
//
//   1. import ml-100k: every line of u.data, in file order, as a "rating"
//      event with the rating as value, in batches of 5000;
//   2. train (default TrainOptions);
//   3. recommend for user "1", k = 10, now = kNow;
//   4. forget user "2";
//   5. train again, reusing the stored fusion weights;
//   6. recommend for user "1" again.
//
// Works in a temporary directory; writes OUT (argv[1]) as lines of
// space-separated fields:
//   ml100k DIR                      (or "skip" when ml-100k is absent)
//   before ITEM SCORE ITEM SCORE ...
//   forgot EVENTS_REMOVED
//   after ITEM SCORE ...
// Scores are printed with %.17g so a binding can compare them bit for bit.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "recdb/db.h"
#include "test_util.h"

namespace {

constexpr int64_t kNow = 893300000;  // just after ml-100k's last rating

int Fail(const recdb::Status& s, const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return 1;
}

std::string Line(const char* tag, const recdb::RecommendResponse& r) {
  std::string out = tag;
  char score[40];
  for (const auto& rec : r.items) {
    std::snprintf(score, sizeof(score), "%.17g", rec.score);
    out += " " + rec.id + " " + score;
  }
  return out + "\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_FILE\n", argv[0]);
    return 2;
  }
  std::ofstream out(argv[1], std::ios::trunc);
  const std::string ml = recdb::test::Ml100kDir();
  if (ml.empty()) {
    out << "skip\n";
    std::printf("ml-100k not found: bar tests will skip\n");
    return 0;
  }
  out << "ml100k " << ml << "\n";

  recdb::Options options;
  options.create_if_missing = true;
  options.error_if_exists = true;
  options.background_threads = 0;
  recdb::test::TempDir dir;
  auto opened = recdb::DB::Open(options, dir.Sub("db"));
  if (!opened.ok()) return Fail(opened.status(), "open");
  std::unique_ptr<recdb::DB> db = std::move(opened).value();

  std::ifstream in(ml + "/u.data");
  std::vector<recdb::Event> batch;
  std::string line;
  auto flush = [&]() -> recdb::Status {
    recdb::Status s = db->RecordEvents({}, batch);
    batch.clear();
    return s;
  };
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    recdb::Event e;
    double rating = 0;
    ls >> e.user >> e.item >> rating >> e.timestamp;
    if (ls.fail()) return Fail(recdb::Status::Corruption(line), "u.data");
    e.type = "rating";
    e.value = rating;
    e.has_value = true;
    batch.push_back(std::move(e));
    if (batch.size() == 5000) {
      if (auto s = flush(); !s.ok()) return Fail(s, "record");
    }
  }
  if (auto s = flush(); !s.ok()) return Fail(s, "record");

  if (auto t = db->Train(); !t.ok()) return Fail(t.status(), "train");
  recdb::RecommendRequest request;
  request.user = "1";
  request.k = 10;
  request.now = kNow;
  auto before = db->Recommend(request);
  if (!before.ok()) return Fail(before.status(), "recommend");
  out << Line("before", *before);

  auto receipt = db->ForgetUser("2");
  if (!receipt.ok()) return Fail(receipt.status(), "forget");
  out << "forgot " << receipt->events_removed << "\n";

  recdb::TrainOptions reuse;
  reuse.reuse_stored_weights = true;
  if (auto t = db->Train(reuse); !t.ok()) return Fail(t.status(), "retrain");
  auto after = db->Recommend(request);
  if (!after.ok()) return Fail(after.status(), "recommend after forget");
  out << Line("after", *after);
  if (auto s = db->Close(); !s.ok()) return Fail(s, "close");
  out.close();
  return out.good() ? 0 : 1;
}
