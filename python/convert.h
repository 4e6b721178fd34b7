// Conversions between Python objects (dicts, lists, numpy arrays) and the
// records of the C++ API (recdb/records.h, recommend.h, embedding.h), and the
// mapping of a non-OK Status to a recdb.Error exception.
//
// Every function here needs the GIL. A malformed input raises
// recdb.InvalidArgumentError naming the record and field, e.g.
// "events[3].timestamp: expected integer, got str".
#pragma once

#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "recdb/db.h"

namespace recdb::python {

namespace py = pybind11;

// Creates recdb.Error and one subclass per status code (NotFoundError,
// InvalidArgumentError, ...) in module `m`. Call once, at import.
void RegisterErrors(py::module_& m);

// Raises the recdb.Error subclass for s.code() with s.message(); the
// exception has attributes `code` (e.g. "not_found"), `status` (the int
// value of recdb::StatusCode) and `message`. REQUIRES: !s.ok().
[[noreturn]] void Raise(const Status& s);

// Raises if !s.ok().
inline void Check(const Status& s) {
  if (!s.ok()) Raise(s);
}
template <typename T>
T Unwrap(StatusOr<T>&& r) {
  if (!r.ok()) Raise(r.status());
  return std::move(r).value();
}

// ---- Python -> C++

std::vector<Event> EventsFrom(const py::iterable& events);
std::vector<Item> ItemsFrom(const py::iterable& items);
std::vector<User> UsersFrom(const py::iterable& users);
// `vectors`: a 2-D numpy array (any real dtype, cast to float32) or a
// sequence of sequences of numbers; one row per id.
std::vector<VectorRecord> VectorRecordsFrom(const std::vector<std::string>& ids,
                                            const py::handle& vectors);
// `vector`: a 1-D numpy array or a sequence of numbers.
std::vector<float> VectorFrom(const py::handle& vector, const std::string& what);
// A sequence of numbers, kept in double precision (e.g. propensities).
std::vector<double> DoublesFrom(const py::handle& values, const std::string& what);
// Scalar arguments taken as Python objects, so that a wrong one raises
// recdb.InvalidArgumentError naming it rather than pybind11's TypeError.
// An int (or __index__) in [0, SIZE_MAX]; a float such as 2.5 is an error.
size_t SizeArg(const py::handle& v, const char* name);
// An int (or __index__) that fits int64.
int64_t Int64Arg(const py::handle& v, const char* name);
// A str (or, for ids, an int written in decimal) with a UTF-8 form.
std::string StrArg(const py::handle& v, const char* name);
EntityKind KindFrom(const std::string& kind);
Metric MetricFrom(const std::string& metric);
// Filter keywords shared by recommend, similar and search.
ItemFilter FilterFrom(const py::object& categories, const py::object& attributes,
                      const py::object& exclude, bool available_only);
CareOptions CareFrom(const py::dict& care);

// ---- C++ -> Python (plain dicts and lists)

py::dict ItemToDict(const Item& item);
py::dict UserToDict(const User& user);
py::dict EventToDict(const Event& event);
// with_policy (recommend): each dict also holds "propensity" and "policy",
// and "policy_note" when the response has one (RecommendResponse).
py::list RecommendationsToList(const RecommendResponse& r, bool explain, bool with_policy);
py::list ScoredItemsToList(const std::vector<ScoredItem>& items);
py::dict TrainReportToDict(const TrainReport& r);
py::dict ReceiptToDict(const ErasureReceipt& r);
py::dict SpaceInfoToDict(const SpaceInfo& s);
py::dict SnapshotInfoToDict(const SnapshotInfo& s);
py::dict StatsToDict(const DBStats& s);

}  // namespace recdb::python
