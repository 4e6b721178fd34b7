// The five-line example from the README, as a downstream app.
#include <recdb/db.h>
#include <recdb/options_file.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  // The options an application would keep in a file the CLI reads too.
  auto parsed = recdb::ParseOptionsJson(R"({"create_if_missing": true})");
  if (!parsed.ok()) return std::fprintf(stderr, "%s\n", parsed.status().ToString().c_str()), 1;
  recdb::Options options = *parsed;
  auto db = recdb::DB::Open(options, argv[1]);
  if (!db.ok()) return std::fprintf(stderr, "%s\n", db.status().ToString().c_str()), 1;
  recdb::Status s = (*db)->RecordEvents({}, {{.user = "u1", .item = "i1", .type = "view",
                                               .timestamp = 1700000000}});
  if (!s.ok()) return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
  auto stats = (*db)->GetStats();
  if (!stats.ok() || stats->events != 1) return 1;
  std::printf("downstream ok: %lld event\n", static_cast<long long>(stats->events));
  return (*db)->Close().ok() ? 0 : 1;
}
