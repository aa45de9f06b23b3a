#include "metrics/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "core/error.h"
#include "core/utf8.h"
#include "metrics/prometheus.h"
#include "metrics/stats_json.h"

namespace llmkit::metrics {
namespace {

constexpr int kReadTimeoutMs = 5000;
constexpr std::size_t kMaxHead = 8192;
constexpr const char* kJson = "application/json";
constexpr const char* kText = "text/plain; charset=utf-8";

// A socket address for `address`:`port`; INVALID_ARGUMENT for a bad literal.
struct Address {
  sockaddr_storage storage{};
  socklen_t size = 0;
};

Address address_of(std::string_view address, int port) {
  Address a;
  const std::string text(address);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    a.size = sizeof *v4;
  } else if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    a.size = sizeof *v6;
  } else {
    fail(LLMKIT_INVALID_ARGUMENT,
         "address " + utf8::quote(address) + " is not an IPv4 or IPv6 address (e.g. 127.0.0.1)");
  }
  return a;
}

[[noreturn]] void socket_failed(const std::string& what) {
  fail(LLMKIT_UNAVAILABLE, what + ": " + std::system_category().message(errno));
}

const char* reason_of(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
    default:
      return "Internal Server Error";
  }
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;  // the scraper went away: nothing to tell it
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// The request's head, up to its blank line; "" when the client sent none
// in time or too much.
std::string read_head(int fd) {
  std::string head;
  char buf[1024];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < kMaxHead) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, kReadTimeoutMs) <= 0) return {};
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return {};
    head.append(buf, static_cast<std::size_t>(n));
  }
  return head;
}

}  // namespace

Page page_of(std::string_view path, const View& view) {
  if (path == "/metrics") return {200, kPrometheusType, prometheus_text(view)};
  if (path == "/stats") return {200, kJson, stats_json(view)};
  if (path == "/health") {
    const HealthReport h = health_of(view);
    return {h.state == Health::kUnhealthy ? 503 : 200, kJson, health_json(h)};
  }
  return {404, kText, make_string("not found: try /metrics, /health or /stats\n")};
}

Server::Server(std::string_view address, int port, Handler handler) : handler_(std::move(handler)) {
  if (port < 0 || port > 65535) {
    fail(LLMKIT_INVALID_ARGUMENT, "port " + std::to_string(port) + " is not in 0..65535");
  }
  const Address a = address_of(address, port);
  listen_fd_ = socket(a.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) socket_failed("cannot make a socket");
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  try {
    if (bind(listen_fd_, reinterpret_cast<const sockaddr*>(&a.storage), a.size) != 0) {
      socket_failed("cannot listen on " + std::string(address) + " port " + std::to_string(port));
    }
    if (listen(listen_fd_, 16) != 0) socket_failed("cannot listen");
    sockaddr_storage bound{};
    socklen_t size = sizeof bound;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &size);
    port_ =
        ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port
                                          : reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
    if (pipe2(wake_, O_CLOEXEC) != 0) socket_failed("cannot make a pipe");
    thread_ = std::thread([this] { run(); });
  } catch (...) {
    close(listen_fd_);
    for (const int fd : wake_) {
      if (fd >= 0) close(fd);
    }
    throw;
  }
}

Server::~Server() {
  const char stop = 0;
  while (write(wake_[1], &stop, 1) < 0 && errno == EINTR) {
  }
  thread_.join();
  close(listen_fd_);
  close(wake_[0]);
  close(wake_[1]);
}

void Server::run() noexcept {
  for (;;) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents != 0) return;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    answer(fd);
    close(fd);
  }
}

void Server::answer(int fd) noexcept {
  try {
    const std::string head = read_head(fd);
    if (head.empty()) return;
    const std::size_t method_end = head.find(' ');
    const std::size_t path_end = head.find(' ', method_end + 1);
    if (method_end == std::string::npos || path_end == std::string::npos) return;
    const std::string_view method(head.data(), method_end);
    std::string_view path(head.data() + method_end + 1, path_end - method_end - 1);
    path = path.substr(0, path.find('?'));
    Page page;
    if (method != "GET" && method != "HEAD") {
      page = {405, kText, make_string("only GET\n")};
    } else {
      try {
        page = handler_(path);
      } catch (const Error& e) {
        page = {e.status() == LLMKIT_UNAVAILABLE ? 503 : 500, kText,
                make_string(std::string(llmkit_status_str(e.status())) + ": " + e.what() + "\n")};
      }
    }
    std::string out = "HTTP/1.1 " + std::to_string(page.status) + " " + reason_of(page.status) +
                      "\r\nContent-Type: " + std::string(page.type) +
                      "\r\nContent-Length: " + std::to_string(page.body.size()) +
                      "\r\nConnection: close\r\n\r\n";
    if (method != "HEAD") out.append(page.body);
    write_all(fd, out);
  } catch (
      ...) {  // NOLINT(bugprone-empty-catch): no memory for an answer: the scraper sees a close
  }
}

}  // namespace llmkit::metrics
