#include "tools/import/movielens.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "tools/import/record_csv.h"
#include "tools/import/text_encoding.h"

namespace recdb::tools {

namespace {

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool ParseUint(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < 0) return false;
  *out = v;
  return true;
}

bool ParseFiniteDouble(std::string_view s, double* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(*out);
}

Status BadField(const char* field, std::string_view value, const char* want) {
  std::string v(value.substr(0, 64));
  if (!IsValidUtf8(v)) v = Latin1ToUtf8(v);
  return Status::InvalidArgument(std::string(field) + ": expected " + want + ", got '" + v + "'");
}

Status CheckId(std::string_view id, const char* field) {
  int64_t n = 0;
  if (!ParseUint(id, &n)) return BadField(field, id, "a numeric id");
  return Status::OK();
}

Status MakeRating(std::string_view user, std::string_view item, std::string_view rating,
                  std::string_view ts, Event* e) {
  RECDB_RETURN_IF_ERROR(CheckId(user, "user"));
  RECDB_RETURN_IF_ERROR(CheckId(item, "item"));
  double value = 0;
  if (!ParseFiniteDouble(rating, &value)) return BadField("rating", rating, "a number");
  int64_t t = 0;
  if (!ParseUint(ts, &t)) return BadField("timestamp", ts, "seconds since epoch");
  e->user.assign(user);
  e->item.assign(item);
  e->type = "rating";
  e->value = value;
  e->has_value = true;
  e->timestamp = t;
  return Status::OK();
}

}  // namespace

const std::vector<std::string>& DefaultMovieLensGenres() {
  static const std::vector<std::string> kGenres = {
      "unknown", "Action",  "Adventure", "Animation", "Children's", "Comedy",  "Crime",
      "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror",    "Musical", "Mystery",
      "Romance", "Sci-Fi",  "Thriller",  "War",       "Western"};
  return kGenres;
}

int64_t UnixSecondsFromDate(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (era * 146097 + static_cast<int64_t>(doe) - 719468) * 86400;
}

std::optional<int64_t> ParseMovieLensDate(std::string_view date) {
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto parts = Split(date, '-');
  if (parts.size() != 3) return std::nullopt;
  int64_t day = 0, year = 0;
  if (!ParseUint(parts[0], &day) || !ParseUint(parts[2], &year)) return std::nullopt;
  unsigned month = 0;
  for (unsigned i = 0; i < 12; ++i) {
    if (parts[1] == kMonths[i]) month = i + 1;
  }
  if (month == 0 || day < 1 || day > 31 || year < 1 || year > 9999) return std::nullopt;
  return UnixSecondsFromDate(year, month, static_cast<unsigned>(day));
}

std::optional<int64_t> YearFromTitle(std::string_view title) {
  while (!title.empty() && title.back() == ' ') title.remove_suffix(1);
  if (title.size() < 6 || title.back() != ')') return std::nullopt;
  std::string_view y = title.substr(title.size() - 5, 4);
  if (title[title.size() - 6] != '(') return std::nullopt;
  int64_t year = 0;
  if (!ParseUint(y, &year) || year < 1 || year > 9999) return std::nullopt;
  return UnixSecondsFromDate(year, 1, 1);
}

Status ParseMovieLensGenreLine(std::string_view line, std::vector<std::string>* genres) {
  if (line.empty()) return Status::OK();
  auto parts = Split(line, '|');
  int64_t index = 0;
  if (parts.size() != 2 || !ParseUint(parts[1], &index) || index >= 1000 || parts[0].empty()) {
    return Status::InvalidArgument("expected 'name|index'");
  }
  if (genres->size() <= static_cast<size_t>(index)) genres->resize(index + 1);
  (*genres)[index] = Latin1ToUtf8(parts[0]);
  return Status::OK();
}

StatusOr<Item> ParseMovieLensItemLine(std::string_view latin1_line,
                                      const std::vector<std::string>& genres) {
  auto f = Split(latin1_line, '|');
  if (f.size() < 5) {
    return Status::InvalidArgument("expected 24 '|'-separated fields, got " +
                                   std::to_string(f.size()));
  }
  const size_t flags = f.size() - 5;
  if (flags != genres.size()) {
    return Status::InvalidArgument("expected " + std::to_string(5 + genres.size()) +
                                   " '|'-separated fields, got " + std::to_string(f.size()));
  }
  RECDB_RETURN_IF_ERROR(CheckId(f[0], "id"));
  Item item;
  item.id.assign(f[0]);
  item.title = Latin1ToUtf8(f[1]);
  if (auto ts = ParseMovieLensDate(f[2])) item.created_at = *ts;
  if (!f[4].empty()) item.attributes["imdb_url"] = Latin1ToUtf8(f[4]);
  for (size_t g = 0; g < flags; ++g) {
    std::string_view flag = f[5 + g];
    if (flag == "1") {
      item.categories.push_back(genres[g]);
    } else if (flag != "0") {
      return BadField("genre flag", flag, "0 or 1");
    }
  }
  return item;
}

StatusOr<User> ParseMovieLensUserLine(std::string_view line) {
  auto f = Split(line, '|');
  if (f.size() != 5) {
    return Status::InvalidArgument("expected 5 '|'-separated fields, got " +
                                   std::to_string(f.size()));
  }
  RECDB_RETURN_IF_ERROR(CheckId(f[0], "id"));
  User user;
  user.id.assign(f[0]);
  int64_t age = 0;
  if (!ParseUint(f[1], &age)) return BadField("age", f[1], "a number");
  user.attributes["age"] = static_cast<double>(age);
  user.attributes["gender"] = Latin1ToUtf8(f[2]);
  user.attributes["occupation"] = Latin1ToUtf8(f[3]);
  user.attributes["zip"] = Latin1ToUtf8(f[4]);
  return user;
}

StatusOr<Event> ParseMovieLensRatingLine(std::string_view line) {
  auto f = Split(line, '\t');
  if (f.size() != 4) {
    return Status::InvalidArgument("expected 4 tab-separated fields, got " +
                                   std::to_string(f.size()));
  }
  Event e;
  RECDB_RETURN_IF_ERROR(MakeRating(f[0], f[1], f[2], f[3], &e));
  return e;
}

StatusOr<Item> ParseMovieLensMovieRow(const std::vector<std::string>& row) {
  if (row.size() != 3) {
    return Status::InvalidArgument("expected 3 fields (movieId,title,genres), got " +
                                   std::to_string(row.size()));
  }
  RECDB_RETURN_IF_ERROR(CheckId(row[0], "movieId"));
  if (!IsValidUtf8(row[1]) || !IsValidUtf8(row[2])) {
    return Status::InvalidArgument("not valid UTF-8");
  }
  Item item;
  item.id = row[0];
  item.title = row[1];
  if (auto ts = YearFromTitle(row[1])) item.created_at = *ts;
  if (row[2] != "(no genres listed)") item.categories = SplitList(row[2]);
  return item;
}

StatusOr<Event> ParseMovieLensRatingRow(const std::vector<std::string>& row) {
  if (row.size() != 4) {
    return Status::InvalidArgument("expected 4 fields (userId,movieId,rating,timestamp), got " +
                                   std::to_string(row.size()));
  }
  Event e;
  RECDB_RETURN_IF_ERROR(MakeRating(row[0], row[1], row[2], row[3], &e));
  return e;
}

Status AddMovieLensTagRow(const std::vector<std::string>& row, MovieLensTags* tags) {
  if (row.size() != 4) {
    return Status::InvalidArgument("expected 4 fields (userId,movieId,tag,timestamp), got " +
                                   std::to_string(row.size()));
  }
  RECDB_RETURN_IF_ERROR(CheckId(row[0], "userId"));
  RECDB_RETURN_IF_ERROR(CheckId(row[1], "movieId"));
  if (!IsValidUtf8(row[2])) return Status::InvalidArgument("tag: not valid UTF-8");
  std::string_view tag = row[2];
  while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
  while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
  if (tag.empty()) return Status::InvalidArgument("tag: empty");
  std::string lower(tag);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  ++(*tags)[row[1]][lower];
  return Status::OK();
}

std::vector<std::string> MovieLensTagAttribute(const std::map<std::string, int64_t>& counts) {
  std::vector<std::pair<int64_t, std::string>> by_count;
  for (const auto& [tag, n] : counts) {
    if (tag.size() <= kMaxAttributeValueBytes) by_count.push_back({-n, tag});
  }
  std::sort(by_count.begin(), by_count.end());
  if (by_count.size() > kMaxListElements) by_count.resize(kMaxListElements);
  std::vector<std::string> out;
  for (auto& [n, tag] : by_count) out.push_back(std::move(tag));
  return out;
}

}  // namespace recdb::tools
