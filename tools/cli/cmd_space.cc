// recdb space DIR create|list|describe|drop: embedding spaces.
#include <iostream>

#include <nlohmann/json.hpp>

#include "tools/cli/admin_json.h"
#include "tools/cli/args.h"
#include "tools/cli/db_access.h"
#include "tools/cli/format.h"

namespace recdb::cli {
namespace {

StatusOr<Metric> ParseMetric(const std::string& s) {
  if (s == "cosine") return Metric::kCosine;
  if (s == "ip") return Metric::kInnerProduct;
  if (s == "l2") return Metric::kL2;
  return Status::InvalidArgument("--metric must be cosine, ip or l2, not \"" + s + "\"");
}

void PrintText(const SpaceInfo& info) {
  const SpaceOptions& o = info.options;
  std::cout << "name           " << o.name << "\n"
            << "dimension      " << o.dimension << "\n"
            << "metric         " << MetricName(o.metric) << "\n"
            << "model          " << (o.model_name.empty() ? "-" : o.model_name)
            << (o.model_version.empty() ? "" : " " + o.model_version) << "\n"
            << "hnsw           M " << o.hnsw_m << ", ef_construction " << o.hnsw_ef_construction
            << ", ef_search " << o.hnsw_ef_search << "\n"
            << "item vectors   " << FormatCount(info.item_vectors) << "\n"
            << "user vectors   " << FormatCount(info.user_vectors) << "\n";
}

int SpaceMain(int argc, char** argv) {
  ArgParser args("space", "Create, list, describe or drop embedding spaces.",
                 "  recdb space DIR create NAME --dim N [--metric cosine|ip|l2] [--model NAME]\n"
                 "  recdb space DIR list [--json]\n"
                 "  recdb space DIR describe NAME [--json]\n"
                 "  recdb space DIR drop NAME\n"
                 "Dropping a space deletes its vectors and index files for good.");
  args.AddPositional("DIR", "database directory");
  args.AddPositional("ACTION", "create, list, describe or drop");
  args.AddPositional("NAME", "the space ([A-Za-z0-9_.-], at most 64 characters)", false);
  args.AddFlag("dim", "N", "create: vector dimension (1..4096)");
  args.AddFlag("metric", "METRIC", "create: cosine, ip or l2", "cosine");
  args.AddFlag("model", "NAME", "create: the model that produces the vectors");
  args.AddFlag("model-version", "V", "create: the model's version");
  args.AddFlag("M", "N", "create: HNSW graph degree", "16");
  args.AddFlag("ef-construction", "N", "create: HNSW build effort", "200");
  args.AddFlag("ef-search", "N", "create: HNSW search effort", "64");
  args.AddSwitch("json", "list/describe: print JSON");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  const std::string action = args.Positional("ACTION");
  const std::string name = args.Positional("NAME");
  if (action != "create" && action != "list" && action != "describe" && action != "drop") {
    std::cerr << "recdb space: unknown action \"" << action
              << "\" (create, list, describe, drop)\n";
    return kExitUsage;
  }
  if (action != "list" && name.empty()) {
    std::cerr << "recdb space " << action << ": give the space NAME\n";
    return kExitUsage;
  }
  SpaceOptions o;
  if (action == "create") {
    if (!args.Has("dim")) {
      std::cerr << "recdb space create: --dim N is required\n";
      return kExitUsage;
    }
    auto dim = args.GetInt("dim");
    auto m = args.GetInt("M");
    auto efc = args.GetInt("ef-construction");
    auto efs = args.GetInt("ef-search");
    auto metric = ParseMetric(args.Get("metric"));
    for (const Status& s : {dim.status(), m.status(), efc.status(), efs.status(), metric.status()}) {
      if (!s.ok()) return Fail("space", s);
    }
    auto narrow = [](int64_t v) {
      return static_cast<int>(std::max<int64_t>(INT32_MIN, std::min<int64_t>(INT32_MAX, v)));
    };
    o.name = name;
    o.dimension = narrow(*dim);
    o.metric = *metric;
    o.model_name = args.Get("model");
    o.model_version = args.Get("model-version");
    o.hnsw_m = narrow(*m);
    o.hnsw_ef_construction = narrow(*efc);
    o.hnsw_ef_search = narrow(*efs);
  }
  const bool read_only = action == "list" || action == "describe";
  auto db = OpenDatabase(args.Positional("DIR"), read_only ? OpenMode::kReadOnly : OpenMode::kReadWrite);
  if (!db.ok()) return Fail("space", db.status());
  if (action == "create") {
    Status s = (*db)->CreateSpace(o);
    if (!s.ok()) return Fail("space", s);
    std::cout << "created space " << name << " (" << o.dimension << " dims, "
              << MetricName(o.metric) << ")\n";
  } else if (action == "drop") {
    Status s = (*db)->DropSpace(name);
    if (!s.ok()) return Fail("space", s);
    std::cout << "dropped space " << name << "\n";
  } else if (action == "describe") {
    auto info = (*db)->DescribeSpace(name);
    if (!info.ok()) return Fail("space", info.status());
    if (args.Has("json")) {
      std::cout << SpaceToJson(*info).dump(2) << "\n";
    } else {
      PrintText(*info);
    }
  } else {
    auto list = (*db)->ListSpaces();
    if (!list.ok()) return Fail("space", list.status());
    if (args.Has("json")) {
      nlohmann::ordered_json arr = nlohmann::ordered_json::array();
      for (const SpaceInfo& i : *list) arr.push_back(SpaceToJson(i));
      std::cout << nlohmann::ordered_json{{"spaces", arr}}.dump(2) << "\n";
    } else if (list->empty()) {
      std::cout << "no embedding spaces\n";
    } else {
      for (const SpaceInfo& i : *list) {
        std::cout << i.options.name << "  " << i.options.dimension << " dims  "
                  << MetricName(i.options.metric) << "  " << FormatCount(i.item_vectors)
                  << " item / " << FormatCount(i.user_vectors) << " user vectors"
                  << (i.options.model_name.empty() ? "" : "  model " + i.options.model_name)
                  << "\n";
      }
    }
  }
  Status closed = CloseDatabase(std::move(db).value());
  if (!closed.ok()) return Fail("space", closed);
  return kExitOk;
}

}  // namespace
RECDB_REGISTER_COMMAND("space", SpaceMain, 60, "create, list, describe or drop embedding spaces");
}  // namespace recdb::cli
