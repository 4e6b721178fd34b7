#include "tools/serve/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "tools/serve/api_service.h"
#include "tools/serve/console.h"
#include "tools/serve/request.h"

namespace recdb::serve {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

class Session;

// Beast 1.74 has its own string_view type.
std::string_view Sv(beast::string_view s) { return std::string_view(s.data(), s.size()); }

// Bytes a lingering close reads and drops before giving up on the client.
constexpr size_t kMaxLingerBytes = 64u << 20;
constexpr auto kMaxLinger = std::chrono::milliseconds(2000);

// Whether `header` carries "Bearer <token>", compared in constant time (the
// token's length is not secret; its bytes are).
bool Authorized(std::string_view header, const std::string& token) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() < kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = header[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return false;
  }
  std::string_view given = header.substr(kScheme.size());
  while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  while (!given.empty() && given.back() == ' ') given.remove_suffix(1);
  if (given.size() != token.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < token.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ token[i]);
  }
  return diff == 0;
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(DB* db, const ServerOptions& options)
      : options_(options),
        service_(db, ApiService::Config{options.backup_dir, options.evaluate,
                                        options.aggregate_privacy,
                                        options.popularity_epsilon}),
        ioc_(options.threads),
        acceptor_(net::make_strand(ioc_)),
        accept_retry_(acceptor_.get_executor()),
        signals_(ioc_) {}

  ~Impl() {
    Shutdown();
    Wait();
  }

  Status Listen();
  void Run();
  void Shutdown();
  void Wait();

  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  const ServerOptions& options() const { return options_; }
  ApiService& service() { return service_; }
  // ServerOptions::front if set, else the service.
  ApiResponse Answer(std::string_view method, std::string_view target, std::string_view body) {
    if (!options_.front) return service_.Handle(method, target, body);
    try {
      return options_.front(service_, method, target, body);
    } catch (...) {
      return ApiService::Error(500, "internal", "unexpected error in the request front");
    }
  }
  std::chrono::milliseconds timeout() const {
    return std::chrono::milliseconds(std::max<int64_t>(1, options_.request_timeout_ms));
  }

  void Register(const std::shared_ptr<Session>& s);
  void Unregister(Session* s) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(s);
  }
  void BeginRequest() { in_flight_.fetch_add(1); }
  void EndRequest(bool written) {
    in_flight_.fetch_sub(1);
    if (written) served_.fetch_add(1);
  }

  std::string address_;
  uint16_t port_ = 0;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> served_{0};

 private:
  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);

  const ServerOptions options_;
  ApiService service_;
  net::io_context ioc_;  // before the I/O objects that use it
  tcp::acceptor acceptor_;
  net::steady_timer accept_retry_;
  net::signal_set signals_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};

  std::mutex mu_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;  // guarded by mu_

  std::mutex wait_mu_;
  bool joined_ = false;  // guarded by wait_mu_
};

namespace {

// One connection: read a request, answer it, repeat while keep-alive. Every
// handler runs on the connection's strand, so the members need no lock.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, HttpServer::Impl* server)
      : stream_(std::move(socket)), server_(server) {}
  ~Session() { server_->Unregister(this); }

  void Start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::ReadHeader, shared_from_this()));
  }

  // On shutdown: closes the connection if it waits for a request (or drains
  // after a closing response); a request being handled finishes first.
  void CloseIfIdle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_) self->Close();
    });
  }

 private:
  void ReadHeader() {
    if (server_->stopping()) return Close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(server_->options().max_header_bytes, UINT32_MAX)));
    parser_->body_limit(server_->options().max_body_bytes);
    idle_ = true;
    stream_.expires_after(server_->timeout());
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    idle_ = false;
    if (ec) return OnReadError(ec);
    server_->BeginRequest();
    counted_ = true;
    const auto& req = parser_->get();
    // The console's static files are public: its login page must load.
    if (RequiresAuth(Sv(req.target())) && !IsConsoleTarget(Sv(req.target()))) {
      auto it = req.find(http::field::authorization);
      if (it == req.end() || !Authorized(Sv(it->value()), server_->options().token)) {
        ApiResponse r = ApiService::Error(
            401, "unauthenticated",
            it == req.end() ? "missing Authorization: Bearer TOKEN header"
                            : "wrong bearer token");
        return Respond(std::move(r), /*close=*/true);
      }
    }
    auto expect = req.find(http::field::expect);
    if (expect != req.end() && beast::iequals(expect->value(), "100-continue") &&
        !parser_->is_done()) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(server_->timeout());
      net::async_write(stream_, net::buffer(kContinue),
                       [self = shared_from_this()](beast::error_code ec2, size_t) {
                         if (ec2) return self->Abandon();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return Handle();
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnBody, shared_from_this()));
  }

  void OnBody(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    Handle();
  }

  // A read failed: a malformed or oversize request gets its status; a
  // timeout, a reset or the peer closing just ends the connection.
  void OnReadError(beast::error_code ec) {
    if (ec.category() != http::make_error_code(http::error::end_of_stream).category() ||
        ec == http::error::end_of_stream || ec == http::error::partial_message) {
      return Abandon();
    }
    if (!counted_) {
      server_->BeginRequest();
      counted_ = true;
    }
    if (ec == http::error::body_limit) {
      return Respond(ApiService::Error(413, "payload_too_large",
                                       "request body larger than " +
                                           std::to_string(server_->options().max_body_bytes) +
                                           " bytes"),
                     true);
    }
    if (ec == http::error::header_limit) {
      ApiResponse r = ApiService::Error(431, "header_too_large",
                                        "request header larger than " +
                                            std::to_string(server_->options().max_header_bytes) +
                                            " bytes");
      return Respond(std::move(r), true);
    }
    return Respond(ApiService::Error(400, "bad_request", "malformed HTTP request: " + ec.message()),
                   true);
  }

  void Handle() {
    auto& req = parser_->get();
    ApiResponse r = IsConsoleTarget(Sv(req.target()))
                        ? ServeConsole(Sv(req.method_string()), Sv(req.target()))
                        : server_->Answer(Sv(req.method_string()), Sv(req.target()),
                                          req.body());
    const bool close = !req.keep_alive() || server_->stopping();
    Respond(std::move(r), close, /*linger=*/false, /*head=*/req.method() == http::verb::head);
  }

  // `head`: the answer to a HEAD request, GET's status and headers
  // (Content-Length included) without the body.
  void Respond(ApiResponse r, bool close, bool linger = true, bool head = false) {
    res_.emplace(static_cast<http::status>(r.status), 11);
    res_->set(http::field::server, "recdb");
    res_->set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) res_->set(name, value);
    if (!r.allow.empty()) res_->set(http::field::allow, r.allow);
    if (r.status == 401) res_->set(http::field::www_authenticate, "Bearer realm=\"recdb\"");
    res_->keep_alive(!close);
    res_->body() = std::move(r.body);
    res_->prepare_payload();
    if (head) res_->body().clear();  // Content-Length stays GET's
    stream_.expires_after(server_->timeout());
    http::async_write(stream_, *res_,
                      [self = shared_from_this(), close, linger](beast::error_code ec, size_t) {
                        self->OnWrite(ec, close, linger);
                      });
  }

  void OnWrite(beast::error_code ec, bool close, bool linger) {
    res_.reset();
    if (counted_) {
      server_->EndRequest(!ec);
      counted_ = false;
    }
    if (ec) return Close();
    if (!close) return ReadHeader();
    if (!linger) return Close();
    // Lingering close: stop sending, read and drop what the client still
    // sends (the unread body), then close, so it sees our response.
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::min<std::chrono::milliseconds>(server_->timeout(), kMaxLinger));
    idle_ = true;
    Drain();
  }

  void Drain() {
    stream_.async_read_some(net::buffer(drain_), [self = shared_from_this()](beast::error_code ec,
                                                                           size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kMaxLingerBytes) return self->Close();
      self->Drain();
    });
  }

  // Ends the connection without a response.
  void Abandon() {
    if (counted_) {
      server_->EndRequest(false);
      counted_ = false;
    }
    Close();
  }

  void Close() {
    idle_ = false;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  HttpServer::Impl* server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
  bool idle_ = false;     // waiting for a request, or draining before close
  bool counted_ = false;  // this request is counted in in_flight
  std::array<char, 16384> drain_;
  size_t drained_ = 0;
};

}  // namespace

void HttpServer::Impl::Register(const std::shared_ptr<Session>& s) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_[s.get()] = s;
}

Status HttpServer::CheckOptions(const ServerOptions& options) {
  if (options.token.empty()) {
    return Status::InvalidArgument("a bearer token is required (--token or --token-file)");
  }
  if (options.threads < 1 || options.threads > 256) {
    return Status::InvalidArgument("threads must be in 1..256");
  }
  const std::string addr = options.address == "localhost" ? "127.0.0.1" : options.address;
  beast::error_code ec;
  net::ip::address ip = net::ip::make_address(addr, ec);
  if (ec) return Status::InvalidArgument("not an IP address: '" + options.address + "'");
  if (!ip.is_loopback() && !options.allow_remote) {
    return Status::InvalidArgument(
        "refusing to listen on " + addr +
        ", which is not a loopback address: the service speaks plain HTTP. Pass "
        "--allow-remote to do it anyway (put TLS in front of it)");
  }
  return Status::OK();
}

Status HttpServer::Impl::Listen() {
  RECDB_RETURN_IF_ERROR(HttpServer::CheckOptions(options_));
  std::string addr = options_.address == "localhost" ? "127.0.0.1" : options_.address;
  beast::error_code ec;
  net::ip::address ip = net::ip::make_address(addr, ec);
  tcp::endpoint endpoint(ip, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IOError("cannot listen on " + addr + ":" + std::to_string(options_.port) +
                           ": " + ec.message());
  }
  address_ = addr;
  port_ = acceptor_.local_endpoint(ec).port();
  return Status::OK();
}

void HttpServer::Impl::Run() {
  if (options_.handle_signals) {
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.async_wait([this](beast::error_code ec, int) {
      if (!ec) Shutdown();
    });
  }
  net::dispatch(acceptor_.get_executor(), [this] { Accept(); });
  threads_.reserve(options_.threads);
  for (int i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this] { ioc_.run(); });
  }
}

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_),
                         beast::bind_front_handler(&Impl::OnAccept, this));
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopping()) return;  // the socket, if any, closes here
  if (ec) {
    if (ec == net::error::operation_aborted) return;
    // Out of file descriptors and the like: try again shortly rather than spin.
    accept_retry_.expires_after(std::chrono::milliseconds(50));
    accept_retry_.async_wait([this](beast::error_code tec) {
      if (!tec && !stopping()) Accept();
    });
    return;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto session = std::make_shared<Session>(std::move(socket), this);
  Register(session);
  session->Start();
  Accept();
}

void HttpServer::Impl::Shutdown() {
  if (stopping_.exchange(true, std::memory_order_acq_rel)) return;
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
  });
  net::post(ioc_, [this] {
    beast::error_code ignored;
    signals_.cancel(ignored);
  });
  // Lock only to copy: a session's destructor takes mu_.
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [_, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->CloseIfIdle();
}

void HttpServer::Impl::Wait() {
  std::lock_guard<std::mutex> lock(wait_mu_);
  if (joined_) return;
  for (auto& t : threads_) t.join();
  joined_ = true;
}

// --- HttpServer ----------------------------------------------------------------

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(DB* db, const ServerOptions& options) {
  RECDB_RETURN_IF_ERROR(CheckOptions(options));
  auto impl = std::make_unique<Impl>(db, options);
  RECDB_RETURN_IF_ERROR(impl->Listen());
  impl->Run();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

std::string HttpServer::address() const { return impl_->address_; }
uint16_t HttpServer::port() const { return impl_->port_; }
void HttpServer::Shutdown() { impl_->Shutdown(); }
void HttpServer::Wait() { impl_->Wait(); }
int64_t HttpServer::in_flight() const { return impl_->in_flight_.load(); }
int64_t HttpServer::requests_served() const { return impl_->served_.load(); }

}  // namespace recdb::serve
