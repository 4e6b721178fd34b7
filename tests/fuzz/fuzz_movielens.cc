// Fuzzes every MovieLens line parser (ml-100k u.item/u.user/u.data/u.genre,
// ml-latest movies.csv/ratings.csv rows) and the date/year helpers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "tools/import/csv_reader.h"
#include "tools/import/movielens.h"
#include "tools/import/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recdb::tools;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> genres = DefaultMovieLensGenres();
  recdb::fuzz::ForEachLine(text, [&](std::string_view line) {
    ParseMovieLensGenreLine(line, &genres).IgnoreError();
    if (genres.size() > 10000) genres.resize(19);
    if (auto item = ParseMovieLensItemLine(line, genres); item.ok()) {
      ValidateItem(*item).IgnoreError();
    }
    if (auto user = ParseMovieLensUserLine(line); user.ok()) ValidateUser(*user).IgnoreError();
    if (auto event = ParseMovieLensRatingLine(line); event.ok()) {
      ValidateEvent(*event).IgnoreError();
    }
    ParseMovieLensDate(line);
    YearFromTitle(line);
    std::vector<std::string> row;
    bool complete = false;
    if (ParseCsvRecord(line, ',', &row, &complete).ok() && complete) {
      if (auto movie = ParseMovieLensMovieRow(row); movie.ok()) ValidateItem(*movie).IgnoreError();
      if (auto rating = ParseMovieLensRatingRow(row); rating.ok()) {
        ValidateEvent(*rating).IgnoreError();
      }
    }
  });
  return 0;
}
