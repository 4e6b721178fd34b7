// EmbeddingsClient: calls a model server that speaks the OpenAI-compatible
// `POST /v1/embeddings` protocol (llama.cpp server, Ollama, vLLM,
// text-embeddings-inference, ...) to turn item text into vectors.
//
// Request:  {"model": M, "input": ["text", ...]}
// Response: {"data": [{"index": i, "embedding": [f, ...]}, ...]}
//
// Plain HTTP only (a local model server); an https URL is NotSupported.
// Transient failures (connection errors, timeouts, HTTP 429 and 5xx) are
// retried with exponential backoff; other errors return at once.
//
// Thread-safety: Embed may be called concurrently; each call uses its own
// connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recdb/status.h"

namespace recdb {

struct EmbeddingEndpoint {
  // e.g. "http://127.0.0.1:8080" (the client appends /v1/embeddings) or a
  // full ".../embeddings" URL, used as is.
  std::string url;
  std::string model;    // sent as "model"
  std::string api_key;  // sent as "Authorization: Bearer ..." when not empty
  int timeout_ms = 30000;       // per attempt
  int max_retries = 3;          // extra attempts after the first
  int initial_backoff_ms = 200; // doubles after each failed attempt
};

class EmbeddingsClient {
 public:
  // Errors: InvalidArgument for a URL that is not http://host[:port][/path];
  // NotSupported for https.
  static StatusOr<EmbeddingsClient> Create(const EmbeddingEndpoint& endpoint);

  // Embeds `inputs` in one request; returns one vector per input, in order.
  // Errors: IOError when the server cannot be reached after the retries or
  // answers with an HTTP error (the message names the status and the body's
  // first bytes); Corruption for a response that is not the protocol's JSON,
  // has the wrong number of vectors, ragged dimensions or non-finite values.
  StatusOr<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& inputs) const;

  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  const std::string& target() const { return target_; }

 private:
  EmbeddingsClient() = default;
  // One HTTP round trip. `retryable` is set when a retry may help.
  StatusOr<std::string> PostOnce(const std::string& body, bool* retryable) const;

  EmbeddingEndpoint endpoint_;
  std::string host_;
  uint16_t port_ = 80;
  std::string target_;
};

}  // namespace recdb
