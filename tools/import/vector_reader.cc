#include "tools/import/vector_reader.h"

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <nlohmann/json.hpp>

#include "tools/import/line_reader.h"

namespace recdb::tools {
namespace {

static_assert(std::endian::native == std::endian::little, "fvecs parsing assumes little-endian");

// Yields the next line: true with *line set, false at the end. A line that
// cannot be read sets *error.
using NextLine = std::function<bool(std::string* line, Status* error)>;

Status RowError(const std::string& name, int64_t line, const std::string& what) {
  return Status::InvalidArgument(name + ":" + std::to_string(line) + ": " + what);
}

// Checks the row's dimension against the file's (fixed by the first row or
// the options).
Status CheckDimension(size_t n, int* dim) {
  if (n == 0) return Status::InvalidArgument("empty vector");
  if (n > static_cast<size_t>(kMaxVectorDimension)) {
    return Status::InvalidArgument(std::to_string(n) + " values, more than kMaxVectorDimension (" +
                                   std::to_string(kMaxVectorDimension) + ")");
  }
  if (*dim == 0) *dim = static_cast<int>(n);
  if (n != static_cast<size_t>(*dim)) {
    return Status::InvalidArgument(std::to_string(n) + " values, expected " +
                                   std::to_string(*dim));
  }
  return Status::OK();
}

// Parses a whole token as a finite float.
bool ParseFloat(std::string_view token, float* out) {
  while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  if (token.empty() || token.size() > 64) return false;
  char buf[65];
  std::memcpy(buf, token.data(), token.size());
  buf[token.size()] = '\0';
  char* end = nullptr;
  errno = 0;
  const float v = std::strtof(buf, &end);
  if (end != buf + token.size() || errno == ERANGE || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

Status ParseJsonLine(const std::string& line, int* dim, VectorRecord* out) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("not a JSON object");
  auto id = j.find("id");
  if (id == j.end()) return Status::InvalidArgument("missing \"id\"");
  if (id->is_string()) {
    out->id = id->get<std::string>();
  } else if (id->is_number_integer()) {
    out->id = id->dump();
  } else {
    return Status::InvalidArgument("\"id\" must be a string or an integer");
  }
  if (out->id.empty()) return Status::InvalidArgument("empty \"id\"");
  auto vec = j.find("vector");
  if (vec == j.end()) return Status::InvalidArgument("missing \"vector\"");
  if (!vec->is_array()) return Status::InvalidArgument("\"vector\" must be an array of numbers");
  RECDB_RETURN_IF_ERROR(CheckDimension(vec->size(), dim));
  out->values.clear();
  out->values.reserve(vec->size());
  for (size_t i = 0; i < vec->size(); ++i) {
    const nlohmann::json& x = (*vec)[i];
    if (!x.is_number()) {
      return Status::InvalidArgument("\"vector\"[" + std::to_string(i) + "] is not a number");
    }
    const double d = x.get<double>();
    const float f = static_cast<float>(d);
    if (!std::isfinite(d) || !std::isfinite(f)) {
      return Status::InvalidArgument("\"vector\"[" + std::to_string(i) +
                                     "] is not a finite float");
    }
    out->values.push_back(f);
  }
  return Status::OK();
}

// Splits off the id field (optionally "quoted", "" escapes a quote).
Status SplitCsvId(std::string_view line, std::string* id, std::string_view* rest) {
  id->clear();
  if (!line.empty() && line.front() == '"') {
    size_t i = 1;
    for (;; ++i) {
      if (i >= line.size()) return Status::InvalidArgument("unterminated quoted id");
      if (line[i] == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          id->push_back('"');
          ++i;
          continue;
        }
        break;
      }
      id->push_back(line[i]);
    }
    line.remove_prefix(i + 1);
    if (line.empty() || line.front() != ',') {
      return Status::InvalidArgument("expected ',' after the quoted id");
    }
  } else {
    const size_t comma = line.find(',');
    if (comma == std::string_view::npos) return Status::InvalidArgument("no values after the id");
    id->assign(line.substr(0, comma));
    line.remove_prefix(comma);
  }
  if (id->empty()) return Status::InvalidArgument("empty id");
  *rest = line.substr(1);
  return Status::OK();
}

Status ParseCsvLine(std::string_view line, int* dim, VectorRecord* out) {
  std::string_view rest;
  RECDB_RETURN_IF_ERROR(SplitCsvId(line, &out->id, &rest));
  out->values.clear();
  size_t field = 1;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view token = rest.substr(0, comma);
    float v = 0;
    if (!ParseFloat(token, &v)) {
      return Status::InvalidArgument("field " + std::to_string(field + 1) +
                                     " is not a finite number: \"" +
                                     std::string(token.substr(0, 32)) + "\"");
    }
    out->values.push_back(v);
    if (out->values.size() > static_cast<size_t>(kMaxVectorDimension)) break;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
    ++field;
  }
  return CheckDimension(out->values.size(), dim);
}

// A CSV header: a second field that is not a number.
bool LooksLikeCsvHeader(std::string_view line) {
  std::string id;
  std::string_view rest;
  if (!SplitCsvId(line, &id, &rest).ok()) return false;
  float v;
  return !ParseFloat(rest.substr(0, rest.find(',')), &v);
}

Status ParseText(const NextLine& next, const std::string& name, const VectorReadOptions& options,
                 const VectorSink& sink) {
  int dim = options.expected_dimension;
  std::string line;
  Status read_error;
  int64_t line_no = 0;
  VectorRecord rec;
  while (next(&line, &read_error)) {
    ++line_no;
    if (!read_error.ok()) return read_error.WithContext(name + ":" + std::to_string(line_no));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    Status s;
    if (options.format == VectorFileFormat::kJsonl) {
      s = ParseJsonLine(line, &dim, &rec);
    } else {
      if (line_no == 1 && LooksLikeCsvHeader(line)) continue;
      s = ParseCsvLine(line, &dim, &rec);
    }
    if (!s.ok()) return RowError(name, line_no, s.message());
    RECDB_RETURN_IF_ERROR(sink(std::move(rec)));
    rec = VectorRecord{};
  }
  if (!read_error.ok()) return read_error.WithContext(name);
  return Status::OK();
}

// Reads up to n bytes; returns the count (< n only at the end) or -1 on error.
using ReadBytes = std::function<int64_t(char* dst, size_t n)>;

Status ParseFvecs(const ReadBytes& read, const std::string& name, const VectorReadOptions& options,
                  const std::vector<std::string>* ids, const VectorSink& sink) {
  int dim = options.expected_dimension;
  uint64_t offset = 0;
  std::vector<char> buf;
  for (uint64_t row = 0;; ++row) {
    auto where = [&] {
      return name + ": row " + std::to_string(row) + " (byte offset " + std::to_string(offset) +
             "): ";
    };
    int32_t n = 0;
    const int64_t got = read(reinterpret_cast<char*>(&n), sizeof(n));
    if (got < 0) return Status::IOError(where() + "read failed");
    if (got == 0) {
      if (ids != nullptr && row < ids->size()) {
        return Status::InvalidArgument(name + ": " + std::to_string(row) + " vectors but " +
                                       std::to_string(ids->size()) + " ids");
      }
      return Status::OK();
    }
    if (got != sizeof(n)) return Status::InvalidArgument(where() + "truncated dimension field");
    if (n <= 0) return Status::InvalidArgument(where() + "dimension " + std::to_string(n));
    Status dim_ok = CheckDimension(static_cast<size_t>(n), &dim);
    if (!dim_ok.ok()) return Status::InvalidArgument(where() + dim_ok.message());
    const size_t bytes = static_cast<size_t>(n) * sizeof(float);
    buf.resize(bytes);
    const int64_t body = read(buf.data(), bytes);
    if (body < 0) return Status::IOError(where() + "read failed");
    if (static_cast<size_t>(body) != bytes) {
      return Status::InvalidArgument(where() + "truncated: " + std::to_string(body) + " of " +
                                     std::to_string(bytes) + " bytes");
    }
    VectorRecord rec;
    rec.values.resize(static_cast<size_t>(n));
    std::memcpy(rec.values.data(), buf.data(), bytes);
    for (size_t i = 0; i < rec.values.size(); ++i) {
      if (!std::isfinite(rec.values[i])) {
        return Status::InvalidArgument(where() + "value " + std::to_string(i) + " is not finite");
      }
    }
    if (ids != nullptr) {
      if (row >= ids->size()) {
        return Status::InvalidArgument(where() + "more vectors than ids (" +
                                       std::to_string(ids->size()) + ")");
      }
      rec.id = (*ids)[row];
    } else {
      rec.id = std::to_string(row);
    }
    RECDB_RETURN_IF_ERROR(sink(std::move(rec)));
    offset += sizeof(n) + bytes;
  }
}

StatusOr<std::vector<std::string>> ReadIds(const std::string& path) {
  RECDB_ASSIGN_OR_RETURN(std::unique_ptr<LineReader> reader, LineReader::Open(path));
  std::vector<std::string> ids;
  std::string line;
  while (true) {
    switch (reader->Next(&line)) {
      case LineReader::Result::kLine:
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) {
          return Status::InvalidArgument(path + ":" + std::to_string(reader->line_number()) +
                                         ": empty id");
        }
        ids.push_back(line);
        break;
      case LineReader::Result::kEof:
        return ids;
      case LineReader::Result::kTooLong:
        return Status::InvalidArgument(path + ":" + std::to_string(reader->line_number()) +
                                       ": line too long");
      case LineReader::Result::kIOError:
        return Status::IOError("reading " + path);
    }
  }
}

}  // namespace

StatusOr<VectorFileFormat> ParseVectorFileFormat(std::string_view name) {
  if (name == "jsonl") return VectorFileFormat::kJsonl;
  if (name == "csv") return VectorFileFormat::kCsv;
  if (name == "fvecs") return VectorFileFormat::kFvecs;
  return Status::InvalidArgument("unknown vector format \"" + std::string(name) +
                                 "\" (jsonl, csv, fvecs)");
}

StatusOr<VectorFileFormat> VectorFileFormatFromPath(const std::string& path) {
  auto ends = [&](std::string_view ext) {
    return path.size() >= ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
  };
  if (ends(".jsonl") || ends(".ndjson") || ends(".json")) return VectorFileFormat::kJsonl;
  if (ends(".csv")) return VectorFileFormat::kCsv;
  if (ends(".fvecs")) return VectorFileFormat::kFvecs;
  return Status::InvalidArgument("cannot tell the format of " + path +
                                 " from its extension (.jsonl, .csv, .fvecs); pass --format");
}

Status ReadVectorFile(const std::string& path, const VectorReadOptions& options,
                      const VectorSink& sink) {
  try {
    if (options.format == VectorFileFormat::kFvecs) {
      std::vector<std::string> ids;
      if (!options.ids_path.empty()) {
        RECDB_ASSIGN_OR_RETURN(ids, ReadIds(options.ids_path));
      }
      std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"),
                                                        &std::fclose);
      if (!f) return Status::IOError("cannot open " + path + ": " + std::strerror(errno));
      return ParseFvecs(
          [&](char* dst, size_t n) -> int64_t {
            const size_t got = std::fread(dst, 1, n, f.get());
            if (got < n && std::ferror(f.get())) return -1;
            return static_cast<int64_t>(got);
          },
          path, options, options.ids_path.empty() ? nullptr : &ids, sink);
    }
    RECDB_ASSIGN_OR_RETURN(std::unique_ptr<LineReader> reader, LineReader::Open(path));
    return ParseText(
        [&](std::string* line, Status* error) {
          switch (reader->Next(line)) {
            case LineReader::Result::kLine:
              return true;
            case LineReader::Result::kEof:
              return false;
            case LineReader::Result::kTooLong:
              *error = Status::InvalidArgument("line too long");
              return true;
            case LineReader::Result::kIOError:
              *error = Status::IOError("read failed");
              return false;
          }
          return false;
        },
        path, options, sink);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory reading " + path);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("reading ") + path + ": " + e.what());
  }
}

Status ParseVectorBytes(std::string_view bytes, const std::string& name,
                        const VectorReadOptions& options,
                        const std::vector<std::string>* fvecs_ids, const VectorSink& sink) {
  try {
    if (options.format == VectorFileFormat::kFvecs) {
      size_t pos = 0;
      return ParseFvecs(
          [&](char* dst, size_t n) -> int64_t {
            const size_t got = std::min(n, bytes.size() - pos);
            if (got > 0) std::memcpy(dst, bytes.data() + pos, got);
            pos += got;
            return static_cast<int64_t>(got);
          },
          name, options, fvecs_ids, sink);
    }
    size_t pos = 0;
    return ParseText(
        [&](std::string* line, Status*) {
          if (pos >= bytes.size()) return false;
          const size_t nl = bytes.find('\n', pos);
          const size_t end = nl == std::string_view::npos ? bytes.size() : nl;
          line->assign(bytes.substr(pos, end - pos));
          pos = end + 1;
          return true;
        },
        name, options, sink);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory parsing " + name);
  } catch (const std::exception& e) {
    return Status::Internal("parsing " + name + ": " + e.what());
  }
}

}  // namespace recdb::tools
