// recdb vectors DIR import --space NAME --kind item|user FILE: precomputed
// embeddings from JSONL, CSV or fvecs (tools/import/vector_reader.h).
#include <iostream>

#include "tools/cli/args.h"
#include "tools/cli/db_access.h"
#include "tools/cli/format.h"
#include "tools/import/vector_reader.h"

namespace recdb::cli {
namespace {

constexpr size_t kBatch = 1000;

int VectorsMain(int argc, char** argv) {
  ArgParser args("vectors", "Import precomputed vectors into an embedding space.",
                 "  recdb vectors DIR import --space NAME --kind item|user FILE\n"
                 "FILE is JSONL ({\"id\": \"...\", \"vector\": [...]}), CSV (id,v1,v2,...) or\n"
                 "fvecs (ids = row numbers, or --ids FILE with one id per line). Vectors are\n"
                 "stored in batches of 1000, each atomic; the first bad line stops the import\n"
                 "and names its line (earlier batches stay stored).");
  args.AddPositional("DIR", "database directory");
  args.AddPositional("ACTION", "import");
  args.AddPositional("FILE", "the vector file");
  args.AddFlag("space", "NAME", "the embedding space (must exist: recdb space DIR create)");
  args.AddFlag("kind", "KIND", "item or user", "item");
  args.AddFlag("format", "FORMAT", "jsonl, csv or fvecs (default: from the extension)");
  args.AddFlag("ids", "FILE", "fvecs: one id per line, in row order");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  if (args.Positional("ACTION") != "import") {
    std::cerr << "recdb vectors: unknown action \"" << args.Positional("ACTION") << "\" (import)\n";
    return kExitUsage;
  }
  if (!args.Has("space")) {
    std::cerr << "recdb vectors import: --space NAME is required\n";
    return kExitUsage;
  }
  const std::string kind_name = args.Get("kind");
  if (kind_name != "item" && kind_name != "user") {
    std::cerr << "recdb vectors import: --kind must be item or user\n";
    return kExitUsage;
  }
  const EntityKind kind = kind_name == "item" ? EntityKind::kItem : EntityKind::kUser;
  const std::string file = args.Positional("FILE");
  tools::VectorReadOptions ro;
  auto format = args.Has("format") ? tools::ParseVectorFileFormat(args.Get("format"))
                                   : tools::VectorFileFormatFromPath(file);
  if (!format.ok()) return Fail("vectors", format.status());
  ro.format = *format;
  ro.ids_path = args.Get("ids");
  const std::string space = args.Get("space");

  auto db = OpenDatabase(args.Positional("DIR"), OpenMode::kReadWrite);
  if (!db.ok()) return Fail("vectors", db.status());
  auto info = (*db)->DescribeSpace(space);
  if (!info.ok()) return Fail("vectors", info.status());
  ro.expected_dimension = info->options.dimension;

  std::vector<VectorRecord> batch;
  int64_t stored = 0;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::OK();
    RECDB_RETURN_IF_ERROR((*db)->PutVectors(WriteOptions{}, space, kind, batch));
    stored += static_cast<int64_t>(batch.size());
    batch.clear();
    return Status::OK();
  };
  Status s = tools::ReadVectorFile(file, ro, [&](VectorRecord&& r) -> Status {
    batch.push_back(std::move(r));
    return batch.size() >= kBatch ? flush() : Status::OK();
  });
  if (s.ok()) s = flush();
  Status closed = CloseDatabase(std::move(db).value());
  if (!s.ok()) {
    std::cerr << "recdb vectors: " << FormatCount(stored) << " vectors stored before the error\n";
    return Fail("vectors", s);
  }
  if (!closed.ok()) return Fail("vectors", closed);
  std::cout << "imported " << FormatCount(stored) << " " << kind_name << " vectors into " << space
            << "\n";
  return kExitOk;
}

}  // namespace
RECDB_REGISTER_COMMAND("vectors", VectorsMain, 61, "import precomputed vectors into a space");
}  // namespace recdb::cli
