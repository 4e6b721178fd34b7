// Parsers for the MovieLens data sets, one line (or CSV row) at a time.
//
// ml-100k layout: u.item (ISO-8859-1, '|'-separated, 24 fields: id, title,
// release date, video release date, IMDb URL, 19 genre flags), u.genre
// ("name|index"), u.user ("id|age|gender|occupation|zip"), u.data (tab-separated
// "user item rating timestamp").
// ml-latest layout: movies.csv ("movieId,title,genres", genres '|'-separated),
// ratings.csv ("userId,movieId,rating,timestamp") and tags.csv
// ("userId,movieId,tag,timestamp"), UTF-8, with a header.
//
// Ratings become events of type "rating" with the rating as value. Items get
// the title, the genre names as categories and created_at from the release
// date (ml-100k) or the "(1995)" year in the title (ml-latest) when parseable;
// films from before 1970 get a negative created_at (records.h, kMinCreatedAt).
// Tags become the item attribute "tags": the movie's tags, trimmed and
// lower-cased, the ones most users gave first (ties by name), at most
// kMaxListElements; tags longer than kMaxAttributeValueBytes are left out.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "recdb/records.h"
#include "recdb/status.h"

namespace recdb::tools {

// The 19 ml-100k genres in u.genre order, used when u.genre is absent.
const std::vector<std::string>& DefaultMovieLensGenres();

// Parses one u.genre line ("Action|1") into (*genres)[index]. Blank lines are
// OK and ignored. Errors: InvalidArgument.
[[nodiscard]] Status ParseMovieLensGenreLine(std::string_view line,
                                             std::vector<std::string>* genres);

// Parses one u.item line, given in Latin-1 (converted here to UTF-8).
[[nodiscard]] StatusOr<Item> ParseMovieLensItemLine(std::string_view latin1_line,
                                                    const std::vector<std::string>& genres);
// Parses one u.user line into a user with attributes age, gender, occupation, zip.
[[nodiscard]] StatusOr<User> ParseMovieLensUserLine(std::string_view line);
// Parses one u.data line.
[[nodiscard]] StatusOr<Event> ParseMovieLensRatingLine(std::string_view line);

// ml-latest rows (after the header).
[[nodiscard]] StatusOr<Item> ParseMovieLensMovieRow(const std::vector<std::string>& row);
[[nodiscard]] StatusOr<Event> ParseMovieLensRatingRow(const std::vector<std::string>& row);

// tags.csv, movie id -> tag -> how many rows gave it.
using MovieLensTags = std::map<std::string, std::map<std::string, int64_t>>;
// Adds one tags.csv row (after the header). Errors: InvalidArgument naming the field.
[[nodiscard]] Status AddMovieLensTagRow(const std::vector<std::string>& row, MovieLensTags* tags);
// The "tags" attribute value for one movie's counts (see the top of this file).
std::vector<std::string> MovieLensTagAttribute(const std::map<std::string, int64_t>& counts);

// "01-Jan-1995" -> seconds since epoch at 00:00 UTC; nullopt if unparseable.
std::optional<int64_t> ParseMovieLensDate(std::string_view date);
// "Toy Story (1995)" -> 1995-01-01 00:00 UTC; nullopt without a year.
std::optional<int64_t> YearFromTitle(std::string_view title);
// Seconds since epoch of a proleptic Gregorian date at 00:00 UTC.
int64_t UnixSecondsFromDate(int64_t year, unsigned month, unsigned day);

}  // namespace recdb::tools
