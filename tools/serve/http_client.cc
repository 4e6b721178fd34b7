#include "tools/serve/http_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace recdb::serve {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

class HttpClient::Impl {
 public:
  Impl(std::string host, uint16_t port) : host_(std::move(host)), port_(port), socket_(ioc_) {}

  Status Open() {
    beast::error_code ec;
    socket_.close(ec);
    buffer_.clear();
    auto ip = net::ip::make_address(host_, ec);
    if (ec) return Status::InvalidArgument("not an IP address: " + host_);
    socket_.connect(tcp::endpoint(ip, port_), ec);
    if (ec) return Status::IOError("connect " + host_ + ":" + std::to_string(port_) + ": " + ec.message());
    socket_.set_option(tcp::no_delay(true), ec);
    return Status::OK();
  }

  StatusOr<HttpResponse> Once(const std::string& method, const std::string& target,
                              const std::string& body, const std::string& token) {
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    if (req.method() == http::verb::unknown) req.method_string(method);
    req.set(http::field::host, host_);
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.keep_alive(true);
    req.prepare_payload();
    beast::error_code ec;
    http::write(socket_, req, ec);
    if (ec) return Status::IOError("write: " + ec.message());
    http::response_parser<http::string_body> parser;
    parser.body_limit(1u << 30);
    http::read(socket_, buffer_, parser, ec);
    if (ec) return Status::IOError("read: " + ec.message());
    auto& res = parser.get();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.body = std::move(res.body());
    for (const auto& f : res) {
      std::string name(f.name_string().data(), f.name_string().size());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers[name] = std::string(f.value().data(), f.value().size());
    }
    if (!res.keep_alive()) closed_ = true;
    return out;
  }

  std::string host_;
  uint16_t port_;
  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  bool closed_ = false;
};

StatusOr<std::unique_ptr<HttpClient>> HttpClient::Connect(const std::string& host, uint16_t port) {
  auto impl = std::make_unique<Impl>(host, port);
  RECDB_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

StatusOr<HttpResponse> HttpClient::Send(const std::string& method, const std::string& target,
                                        const std::string& body, const std::string& token) {
  if (impl_->closed_) {
    RECDB_RETURN_IF_ERROR(impl_->Open());
    impl_->closed_ = false;
  }
  // No retry: a request that may have reached the server is not re-sent.
  return impl_->Once(method, target, body, token);
}

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace recdb::serve
