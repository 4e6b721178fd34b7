#include "engine/embed/embeddings_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

namespace recdb {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

StatusOr<EmbeddingsClient> EmbeddingsClient::Create(const EmbeddingEndpoint& endpoint) {
  const std::string& url = endpoint.url;
  if (url.rfind("https://", 0) == 0) {
    return Status::NotSupported("embeddings endpoint: https is not supported; use a local http:// server");
  }
  if (url.rfind("http://", 0) != 0) {
    return Status::InvalidArgument("embeddings endpoint: URL must start with http://, got '" + url + "'");
  }
  std::string rest = url.substr(7);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  if (authority.empty()) return Status::InvalidArgument("embeddings endpoint: URL has no host");
  EmbeddingsClient c;
  c.endpoint_ = endpoint;
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos) {
    c.host_ = authority.substr(0, colon);
    std::string port = authority.substr(colon + 1);
    char* end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p <= 0 || p > 65535) {
      return Status::InvalidArgument("embeddings endpoint: bad port '" + port + "'");
    }
    c.port_ = static_cast<uint16_t>(p);
  } else {
    c.host_ = authority;
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.size() >= 11 && path.compare(path.size() - 11, 11, "/embeddings") == 0) {
    c.target_ = path;
  } else {
    c.target_ = path + "/v1/embeddings";
  }
  if (endpoint.model.empty()) return Status::InvalidArgument("embeddings endpoint: model is empty");
  return c;
}

StatusOr<std::string> EmbeddingsClient::PostOnce(const std::string& body, bool* retryable) const {
  *retryable = true;
  try {
    asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::milliseconds(endpoint_.timeout_ms));
    auto results = resolver.resolve(host_, std::to_string(port_));
    stream.connect(results);
    http::request<http::string_body> req{http::verb::post, target_, 11};
    req.set(http::field::host, host_);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "recdb");
    if (!endpoint_.api_key.empty()) req.set(http::field::authorization, "Bearer " + endpoint_.api_key);
    req.body() = body;
    req.prepare_payload();
    stream.expires_after(std::chrono::milliseconds(endpoint_.timeout_ms));
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    http::read(stream, buffer, parser);
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    const auto& res = parser.get();
    unsigned code = res.result_int();
    if (code != 200) {
      *retryable = code == 429 || code >= 500;
      return Status::IOError("embeddings endpoint answered HTTP " + std::to_string(code) + ": " +
                             res.body().substr(0, 200));
    }
    return res.body();
  } catch (const std::exception& e) {
    return Status::IOError(std::string("embeddings endpoint ") + host_ + ":" +
                           std::to_string(port_) + ": " + e.what());
  }
}

StatusOr<std::vector<std::vector<float>>> EmbeddingsClient::Embed(
    const std::vector<std::string>& inputs) const {
  if (inputs.empty()) return std::vector<std::vector<float>>{};
  nlohmann::json req = {{"model", endpoint_.model}, {"input", inputs}};
  std::string body;
  try {
    body = req.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("embeddings request: ") + e.what());
  }
  Status last;
  int backoff = endpoint_.initial_backoff_ms;
  for (int attempt = 0; attempt <= endpoint_.max_retries; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
      backoff *= 2;
    }
    bool retryable = false;
    auto res = PostOnce(body, &retryable);
    if (!res.ok()) {
      last = res.status();
      if (!retryable) return last;
      continue;
    }
    nlohmann::json doc = nlohmann::json::parse(*res, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("data") || !doc["data"].is_array()) {
      return Status::Corruption("embeddings response is not {\"data\": [...]}: " + res->substr(0, 200));
    }
    const auto& data = doc["data"];
    if (data.size() != inputs.size()) {
      return Status::Corruption("embeddings response has " + std::to_string(data.size()) +
                                " vectors for " + std::to_string(inputs.size()) + " inputs");
    }
    std::vector<std::vector<float>> out(inputs.size());
    std::vector<bool> seen(inputs.size(), false);
    size_t dim = 0;
    for (size_t i = 0; i < data.size(); ++i) {
      const auto& entry = data[i];
      if (!entry.is_object() || !entry.contains("embedding") || !entry["embedding"].is_array()) {
        return Status::Corruption("embeddings response entry " + std::to_string(i) + " has no embedding");
      }
      size_t index = i;
      if (entry.contains("index")) {
        if (!entry["index"].is_number_unsigned() || entry["index"].get<size_t>() >= inputs.size()) {
          return Status::Corruption("embeddings response entry " + std::to_string(i) + " has a bad index");
        }
        index = entry["index"].get<size_t>();
      }
      if (seen[index]) return Status::Corruption("embeddings response repeats index " + std::to_string(index));
      seen[index] = true;
      const auto& vec = entry["embedding"];
      if (vec.empty()) return Status::Corruption("embeddings response has an empty vector");
      if (dim == 0) dim = vec.size();
      if (vec.size() != dim) return Status::Corruption("embeddings response has ragged dimensions");
      out[index].reserve(dim);
      for (const auto& x : vec) {
        if (!x.is_number()) return Status::Corruption("embeddings response has a non-number");
        double v = x.get<double>();
        if (!std::isfinite(v)) return Status::Corruption("embeddings response has a non-finite value");
        out[index].push_back(static_cast<float>(v));
      }
    }
    return out;
  }
  return last.WithContext("after " + std::to_string(endpoint_.max_retries + 1) + " attempts");
}

}  // namespace recdb
