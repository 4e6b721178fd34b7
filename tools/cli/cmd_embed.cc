// recdb embed DIR --space NAME (--builtin | --endpoint URL --model NAME):
// compute item vectors into an embedding space.
#include <chrono>
#include <iostream>

#include "recdb/embed.h"
#include "tools/cli/args.h"
#include "tools/cli/db_access.h"
#include "tools/cli/format.h"
#include "tools/cli/progress.h"

namespace recdb::cli {
namespace {

int EmbedMain(int argc, char** argv) {
  ArgParser args(
      "embed", "Embed every item's text into an embedding space.",
      "  recdb embed DIR --space NAME --builtin\n"
      "      the built-in text model (hashed word/trigram TF-IDF, no downloads) on title,\n"
      "      description and categories; creates the space (128 dims, cosine) if absent.\n"
      "  recdb embed DIR --space NAME --endpoint URL --model NAME [--fields title,description]\n"
      "      an OpenAI-compatible /v1/embeddings server (llama.cpp, Ollama, vLLM, TEI);\n"
      "      the space must exist with the model's dimension. Each batch is stored as it\n"
      "      arrives; transient failures are retried with backoff.");
  args.AddPositional("DIR", "database directory");
  args.AddFlag("space", "NAME", "the embedding space");
  args.AddSwitch("builtin", "use the built-in text model");
  args.AddFlag("endpoint", "URL", "embeddings server, e.g. http://127.0.0.1:8080");
  args.AddFlag("model", "NAME", "model name sent to the server");
  args.AddFlag("api-key", "KEY", "sent as Authorization: Bearer KEY");
  args.AddFlag("fields", "LIST", "item fields: title,description,categories,creator",
               "title,description");
  args.AddFlag("batch", "N", "texts per request", "64");
  args.AddFlag("retries", "N", "extra attempts per request after a transient failure", "3");
  args.AddFlag("timeout-ms", "MS", "per attempt", "30000");
  args.AddFlag("dim", "N", "--builtin: dimension of a space created here", "128");
  int code = 0;
  if (!args.Parse(argc, argv, &code)) return code;
  if (!args.Has("space")) {
    std::cerr << "recdb embed: --space NAME is required\n";
    return kExitUsage;
  }
  if (args.Has("builtin") == args.Has("endpoint")) {
    std::cerr << "recdb embed: give exactly one of --builtin and --endpoint URL\n";
    return kExitUsage;
  }
  if (args.Has("endpoint") && !args.Has("model")) {
    std::cerr << "recdb embed: --endpoint needs --model NAME\n";
    return kExitUsage;
  }
  auto batch = args.GetInt("batch");
  auto retries = args.GetInt("retries");
  auto timeout = args.GetInt("timeout-ms");
  auto dim = args.GetInt("dim");
  for (const Status& s : {batch.status(), retries.status(), timeout.status(), dim.status()}) {
    if (!s.ok()) return Fail("embed", s);
  }
  const std::string space = args.Get("space");

  auto db = OpenDatabase(args.Positional("DIR"), OpenMode::kReadWrite);
  if (!db.ok()) return Fail("embed", db.status());
  ProgressBar bar(true);
  const auto start = std::chrono::steady_clock::now();
  EmbedTextOptions o;
  o.progress = [&](int64_t done, int64_t total) {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bar.Update("embed", static_cast<uint64_t>(done), static_cast<uint64_t>(total), done, secs);
  };
  if (args.Has("builtin")) {
    if ((*db)->DescribeSpace(space).status().IsNotFound()) {
      SpaceOptions so;
      so.name = space;
      so.dimension = static_cast<int>(std::min<int64_t>(std::max<int64_t>(*dim, 0), 1 << 20));
      so.metric = Metric::kCosine;
      so.model_name = "recdb-text";
      so.model_version = "1";
      Status s = (*db)->CreateSpace(so);
      if (!s.ok()) return Fail("embed", s);
      std::cerr << "created space " << space << " (" << so.dimension << " dims, cosine)\n";
    }
    o.builtin = true;
  } else {
    o.endpoint_url = args.Get("endpoint");
    o.model = args.Get("model");
    o.api_key = args.Get("api-key");
    o.max_retries = static_cast<int>(std::clamp<int64_t>(*retries, 0, 100));
    o.timeout_ms = static_cast<int>(std::clamp<int64_t>(*timeout, 1, 3600000));
    o.fields = SplitCommas(args.Get("fields"));
    o.batch_size = static_cast<size_t>(std::max<int64_t>(*batch, 0));
  }
  StatusOr<EmbedTextReport> report = EmbedItemTexts(db->get(), space, o);
  bar.Clear();
  Status closed = CloseDatabase(std::move(db).value());
  if (!report.ok()) return Fail("embed", report.status());
  if (!closed.ok()) return Fail("embed", closed);
  std::cout << "embedded " << FormatCount(report->embedded) << " of " << FormatCount(report->items)
            << " items into " << space;
  if (report->skipped_empty > 0) {
    std::cout << " (" << FormatCount(report->skipped_empty) << " without text skipped)";
  }
  std::cout << "\n";
  return kExitOk;
}

}  // namespace
RECDB_REGISTER_COMMAND("embed", EmbedMain, 62, "embed items' text into a space (built-in or endpoint)");
}  // namespace recdb::cli
