// A small HTTP/1.1 server for scrapers (Prometheus, a health check): GET
// /metrics, /health and /stats, answered one connection at a time on a
// thread of its own, each connection closed after its answer. Scrapes are
// rare and small; a client that sends nothing is dropped after 5 s.
#pragma once

#include <functional>
#include <string_view>
#include <thread>

#include "core/alloc.h"
#include "metrics/view.h"

namespace llmkit::metrics {

struct Page {
  int status = 200;
  std::string_view type;
  String body;
};

// The page of `path` for a view: /metrics (Prometheus text), /health (JSON;
// 503 when unhealthy), /stats (llmkit_client_stats_json's JSON); 404 else.
Page page_of(std::string_view path, const View& view);

class Server {
 public:
  // Answers GET `path` (the query string cut off). A throw becomes a 500
  // (503 for UNAVAILABLE) with its message.
  using Handler = std::function<Page(std::string_view path)>;

  // Listens on `address` (an IPv4 or IPv6 literal) and `port` (0: a free
  // one). INVALID_ARGUMENT for a bad address; UNAVAILABLE when the port
  // cannot be had.
  Server(std::string_view address, int port, Handler handler);
  // Stops listening; a scrape being answered is finished first.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const { return port_; }

 private:
  void run() noexcept;
  void answer(int fd) noexcept;

  Handler handler_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // a pipe: a byte on it stops run()
  int port_ = 0;
  std::thread thread_;
};

}  // namespace llmkit::metrics
