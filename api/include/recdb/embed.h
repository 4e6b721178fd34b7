// Computing item vectors from item text: the providers behind `recdb embed`.
//
// EmbedItemTexts fills an embedding space (recdb/embedding.h) with one vector
// per item, from the item's text fields, using either the built-in text model
// (hashed word/trigram TF-IDF, no downloads) or an OpenAI-compatible
// /v1/embeddings server (llama.cpp, Ollama, vLLM, TEI). Each batch is stored
// as it arrives, so an interrupted run keeps what it stored.
//
// Thread-safety: as the DB write calls (DB::PutVectors); one call at a time
// per space is the intended use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "recdb/db.h"
#include "recdb/export.h"
#include "recdb/status.h"

namespace recdb {

struct EmbedTextOptions {
  // The built-in text model when true; the endpoint below otherwise. The
  // built-in model reads title, description and categories (`fields` is
  // ignored) and is stored with the space, dimension = the space's (8..4096).
  bool builtin = false;

  // The endpoint: "http://host[:port]" (/v1/embeddings is appended) or a full
  // ".../embeddings" URL. https is NotSupported.
  std::string endpoint_url;
  std::string model;    // sent as "model"; required with an endpoint
  std::string api_key;  // sent as "Authorization: Bearer ..." when not empty
  int timeout_ms = 30000;  // per attempt
  int max_retries = 3;     // extra attempts after a transient failure
  // Item fields joined into the text sent to the model, in this order:
  // "title", "description", "categories", "creator".
  std::vector<std::string> fields = {"title", "description"};
  size_t batch_size = 64;  // inputs per request, 1..2048

  // Called after each stored batch with (items done, items in total).
  std::function<void(int64_t done, int64_t total)> progress;
};

// What EmbedItemTexts did.
struct EmbedTextReport {
  int64_t items = 0;          // items visited
  int64_t embedded = 0;       // vectors written
  int64_t skipped_empty = 0;  // items with no text in the chosen fields
};

// Embeds every item's text into `space`, which must exist (DB::CreateSpace)
// with the model's dimension. `db` must be a database DB::Open returned.
// Errors: NotFound (no such space); InvalidArgument (unknown field, bad batch
// size, a server vector of the wrong dimension, a dimension the built-in
// model does not support); IOError after the retries; Corruption for a
// malformed server response; NotSupported for a DB not opened by DB::Open.
RECDB_EXPORT StatusOr<EmbedTextReport> EmbedItemTexts(DB* db, const std::string& space,
                                                      const EmbedTextOptions& options);

}  // namespace recdb
