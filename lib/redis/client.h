// A Redis client for the backends that share state through Redis (the rate
// limiter; the cache later): one connection (hiredis) that every thread
// shares. Commands that threads send while a round trip is under way are
// queued and go out together in the next one, so many threads cost few
// round trips (pipelining without a batch API).
//
// When Redis cannot be reached the call fails with UNAVAILABLE at once,
// and it is tried again after a back-off (100 ms doubling to 2 s), so a
// dead server costs callers one timeout per back-off, not one per call.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/alloc.h"

struct redisContext;

namespace llmkit::redis {

// Where Redis is: "redis://[[user]:password@]host[:port][/db]" or
// "unix://[[user]:password@]/path/to/socket[?db=N]".
struct Endpoint {
  std::string host;  // empty for a Unix socket
  int port = 6379;
  std::string socket_path;
  std::string user;
  std::string password;
  int db = 0;

  // INVALID_ARGUMENT naming what is wrong.
  static Endpoint parse(std::string_view url);
  // host:port or the socket path, without credentials.
  std::string where() const;
};

struct Reply {
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };
  Type type = Type::kNil;
  std::int64_t integer = 0;
  String str;  // kString, kStatus, kError
  std::vector<Reply, Allocator<Reply>> elements;

  bool is_error() const { return type == Type::kError; }
};

class Client {
 public:
  Client(Endpoint endpoint, std::chrono::milliseconds timeout);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Runs one command. An error reply is a Reply of type kError; a server
  // that cannot be reached, or a connection that breaks or times out, is
  // UNAVAILABLE. Any thread.
  Reply run(std::span<const std::string_view> argv);

  // Runs the Lua `script` (EVALSHA, loading it on first use and again after
  // a server restart or SCRIPT FLUSH) with `keys` and `args`.
  Reply eval(const std::string& script, std::span<const std::string_view> keys,
             std::span<const std::string_view> args);

 private:
  struct Call;
  struct ContextFree {
    void operator()(redisContext* c) const noexcept;
  };

  void execute(std::span<Call* const> batch) noexcept;
  bool connect() noexcept;

  const Endpoint endpoint_;
  const std::chrono::milliseconds timeout_;

  std::mutex mutex_;  // guards queue_, busy_, sha_
  std::condition_variable done_;
  std::vector<Call*> queue_;
  bool busy_ = false;  // a thread is running a batch
  std::string sha_;    // of the loaded script

  // Touched only by the thread running a batch.
  std::unique_ptr<redisContext, ContextFree> context_;
  std::string last_error_;
  std::chrono::steady_clock::time_point next_try_{};
  std::chrono::milliseconds backoff_{0};
};

}  // namespace llmkit::redis
