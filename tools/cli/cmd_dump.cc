// recdb dump DIR: every record as JSONL, in the import format.
#include <cstdio>
#include <cstring>
#include <iostream>

#include "tools/cli/args.h"
#include "tools/cli/db_access.h"
#include "tools/import/record_json.h"

namespace recdb::cli {
namespace {

int DumpMain(int argc, char** argv) {
  ArgParser args(
      "dump", "Write every event type, item, user and event of DIR as JSONL.",
      "One JSON object per line with a \"kind\" field (event_type, item, user, event), in\n"
      "that order; users and items in creation order, each user's events oldest first.\n"
      "The lines are in the import format: `recdb import NEWDIR --dump FILE` reads them\n"
      "back, so dump -> import round-trips. Events of users who refused event storage\n"
      "were never stored and so are not dumped.");
  args.AddPositional("DIR", "database directory");
  args.AddFlag("output", "FILE", "write to FILE instead of stdout");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  auto db = OpenDatabase(args.Positional("DIR"), OpenMode::kReadOnly);
  if (!db.ok()) return Fail("dump", db.status());

  std::FILE* out = stdout;
  const std::string output = args.Get("output");
  if (!output.empty()) {
    out = std::fopen(output.c_str(), "wb");
    if (out == nullptr) return Fail("dump", output + ": " + std::strerror(errno));
  }
  int64_t lines = 0;
  auto write = [out, &lines](const tools::AnyRecord& r) -> Status {
    std::string line = tools::JsonLine(tools::ToDumpJson(r));
    line.push_back('\n');
    if (std::fwrite(line.data(), 1, line.size(), out) != line.size()) {
      return Status::IOError(std::string("write failed: ") + std::strerror(errno));
    }
    ++lines;
    return Status::OK();
  };
  Status s;
  auto types = (*db)->ListEventTypes();
  if (!types.ok()) s = types.status();
  for (size_t i = 0; s.ok() && i < types->size(); ++i) s = write((*types)[i]);
  if (s.ok()) s = (*db)->ForEachItem([&](const Item& x) { return write(x); });
  if (s.ok()) s = (*db)->ForEachUser([&](const User& x) { return write(x); });
  if (s.ok()) s = (*db)->ForEachEvent([&](const Event& x) { return write(x); });
  if (std::fflush(out) != 0 && s.ok()) {
    s = Status::IOError(std::string("write failed: ") + std::strerror(errno));
  }
  if (out != stdout && std::fclose(out) != 0 && s.ok()) {
    s = Status::IOError(output + ": close failed");
  }
  Status closed = CloseDatabase(std::move(db).value());
  if (!s.ok()) return Fail("dump", s);
  if (!closed.ok()) return Fail("dump", closed);
  if (!output.empty()) std::cerr << "Wrote " << lines << " records to " << output << "\n";
  return kExitOk;
}

}  // namespace
RECDB_REGISTER_COMMAND("dump", DumpMain, 60, "write everything as JSONL (re-importable)");
}  // namespace recdb::cli
