#include "redis/client.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <charconv>
#include <csignal>

#include "core/error.h"
#include "core/utf8.h"

namespace llmkit::redis {

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};

[[noreturn]] void bad_url(std::string_view url, std::string_view why) {
  fail(LLMKIT_INVALID_ARGUMENT, "invalid redis URL " + utf8::quote(url) + ": " + std::string(why));
}

int parse_number(std::string_view s, int max, std::string_view url, std::string_view what) {
  int v = -1;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0 || v > max) {
    bad_url(url, std::string(what) + " must be a number from 0 to " + std::to_string(max));
  }
  return v;
}

// %XX escapes, as in any URL's user and password.
std::string unescape(std::string_view s, std::string_view url) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    unsigned v = 0;
    if (i + 2 >= s.size() ||
        std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16).ptr != s.data() + i + 3) {
      bad_url(url, "a '%' must start an escape such as %40");
    }
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

timeval to_timeval(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000),
          static_cast<suseconds_t>(ms.count() % 1000 * 1000)};
}

// Writing to a connection the server closed raises SIGPIPE, whose default
// action kills the process. The host's handlers are not ours to change, so
// the signal is blocked for this thread while it talks to Redis, and one
// that arrived meanwhile is taken off the thread before it is unblocked.
class SigpipeBlock {
 public:
  SigpipeBlock() noexcept {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) == 1 && sigismember(&old_, SIGPIPE) == 0) {
      const timespec zero{0, 0};
      sigtimedwait(&pipe_, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t pipe_{};
  sigset_t old_{};
};

// Queues one command on `c`; false when hiredis runs out of memory.
bool append(redisContext* c, std::span<const std::string_view> args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const std::string_view a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()) ==
         REDIS_OK;
}

Reply convert(const redisReply& r) {
  Reply out;
  switch (r.type) {
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      out.type = r.type == REDIS_REPLY_STRING   ? Reply::Type::kString
                 : r.type == REDIS_REPLY_STATUS ? Reply::Type::kStatus
                                                : Reply::Type::kError;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      out.elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(convert(*r.element[i]));
      break;
    default:
      break;
  }
  return out;
}

}  // namespace

Endpoint Endpoint::parse(std::string_view url) {
  Endpoint e;
  std::string_view rest;
  const bool unix_socket = url.starts_with("unix://");
  if (unix_socket) {
    rest = url.substr(7);
  } else if (url.starts_with("redis://")) {
    rest = url.substr(8);
  } else {
    bad_url(url, "it must start with redis:// or unix://");
  }
  // [[user:]password@]
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view info = rest.substr(0, at);
    const auto colon = info.find(':');
    if (colon == std::string_view::npos) {
      e.password = unescape(info, url);
    } else {
      e.user = unescape(info.substr(0, colon), url);
      e.password = unescape(info.substr(colon + 1), url);
    }
    rest = rest.substr(at + 1);
  }
  if (unix_socket) {
    if (const auto q = rest.find("?db="); q != std::string_view::npos) {
      e.db = parse_number(rest.substr(q + 4), 1 << 20, url, "the database");
      rest = rest.substr(0, q);
    }
    if (!rest.starts_with('/')) bad_url(url, "the socket path must be absolute");
    e.socket_path = std::string(rest);
    return e;
  }
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (slash + 1 < rest.size()) {
      e.db = parse_number(rest.substr(slash + 1), 1 << 20, url, "the database");
    }
    rest = rest.substr(0, slash);
  }
  std::string_view host = rest;
  if (rest.starts_with('[')) {  // [IPv6]:port
    const auto close = rest.find(']');
    if (close == std::string_view::npos) bad_url(url, "'[' without ']'");
    host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) bad_url(url, "junk after ']'");
    if (!rest.empty()) e.port = parse_number(rest.substr(1), 65535, url, "the port");
  } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    e.port = parse_number(rest.substr(colon + 1), 65535, url, "the port");
  }
  if (host.empty()) bad_url(url, "no host");
  e.host = std::string(host);
  return e;
}

std::string Endpoint::where() const {
  return socket_path.empty() ? host + ":" + std::to_string(port) : socket_path;
}

// One thread's command, waiting in the queue or in a batch.
struct Client::Call {
  std::span<const std::string_view> argv;
  Reply reply;
  std::string error;  // non-empty: the command did not run
  bool done = false;
};

void Client::ContextFree::operator()(redisContext* c) const noexcept {
  redisFree(c);
}

Client::Client(Endpoint endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {}

Client::~Client() = default;

Reply Client::run(std::span<const std::string_view> argv) {
  Call call{argv, {}, {}, false};
  std::unique_lock<std::mutex> lock(mutex_);
  queue_.push_back(&call);
  while (!call.done) {
    if (busy_) {
      done_.wait(lock);
      continue;
    }
    // Lead: send everything queued so far, this call included.
    busy_ = true;
    std::vector<Call*> batch;
    batch.swap(queue_);
    lock.unlock();
    execute(batch);
    lock.lock();
    for (Call* c : batch) c->done = true;
    busy_ = false;
    done_.notify_all();
  }
  if (!call.error.empty()) fail(LLMKIT_UNAVAILABLE, call.error);
  return std::move(call.reply);
}

Reply Client::eval(const std::string& script, std::span<const std::string_view> keys,
                   std::span<const std::string_view> args) {
  for (int attempt = 0;; ++attempt) {
    std::string sha;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      sha = sha_;
    }
    if (sha.empty()) {
      const std::string_view load[] = {"SCRIPT", "LOAD", script};
      Reply r = run(load);
      if (r.type != Reply::Type::kString) {
        fail(LLMKIT_UNAVAILABLE, "redis at " + endpoint_.where() + " refused llmkit's script: " +
                                     std::string(r.str.data(), r.str.size()));
      }
      sha.assign(r.str.data(), r.str.size());
      std::lock_guard<std::mutex> lock(mutex_);
      sha_ = sha;
    }
    const std::string nkeys = std::to_string(keys.size());
    std::vector<std::string_view> argv{"EVALSHA", sha, nkeys};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    Reply r = run(argv);
    // The server lost its script cache (a restart, SCRIPT FLUSH): load again.
    if (attempt == 0 && r.is_error() && std::string_view(r.str).starts_with("NOSCRIPT")) {
      std::lock_guard<std::mutex> lock(mutex_);
      sha_.clear();
      continue;
    }
    return r;
  }
}

bool Client::connect() noexcept {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_try_) return false;
  std::string error;
  try {
    const timeval tv = to_timeval(timeout_);
    context_.reset(endpoint_.socket_path.empty()
                       ? redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, tv)
                       : redisConnectUnixWithTimeout(endpoint_.socket_path.c_str(), tv));
    if (!context_) {
      error = "out of memory";
    } else if (context_->err != 0) {
      error = context_->errstr;
    } else {
      redisSetTimeout(context_.get(), tv);
      if (endpoint_.socket_path.empty()) redisEnableKeepAlive(context_.get());
      // AUTH and SELECT, in one round trip.
      const std::string db = std::to_string(endpoint_.db);
      std::vector<std::vector<std::string_view>> setup;
      if (!endpoint_.password.empty()) {
        setup.push_back(
            endpoint_.user.empty()
                ? std::vector<std::string_view>{"AUTH", endpoint_.password}
                : std::vector<std::string_view>{"AUTH", endpoint_.user, endpoint_.password});
      }
      if (endpoint_.db != 0) setup.push_back({"SELECT", db});
      for (const auto& cmd : setup) append(context_.get(), cmd);
      for (std::size_t i = 0; i < setup.size() && error.empty(); ++i) {
        void* raw = nullptr;
        if (redisGetReply(context_.get(), &raw) != REDIS_OK) {
          error = context_->errstr;
          break;
        }
        const auto* r = static_cast<redisReply*>(raw);
        if (r->type == REDIS_REPLY_ERROR) error = std::string(setup[i][0]) + ": " + r->str;
        freeReplyObject(raw);
      }
    }
  } catch (...) {
    error = "out of memory";
  }
  if (error.empty()) {
    backoff_ = std::chrono::milliseconds{0};
    return true;
  }
  context_.reset();
  backoff_ = std::clamp(backoff_ * 2, kFirstBackoff, kMaxBackoff);
  next_try_ = now + backoff_;
  last_error_ = "cannot reach redis at " + endpoint_.where() + ": " + error;
  return false;
}

void Client::execute(std::span<Call* const> batch) noexcept {
  const SigpipeBlock no_sigpipe;
  if (!context_ && !connect()) {
    for (Call* c : batch) c->error = last_error_ + " (tried again after a back-off)";
    return;
  }
  std::size_t sent = 0;
  try {
    while (sent < batch.size() && append(context_.get(), batch[sent]->argv)) ++sent;
  } catch (...) {  // out of memory building argv: those not appended fail below
  }
  std::string error;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i >= sent) {
      batch[i]->error = "out of memory sending to redis";
      continue;
    }
    if (!error.empty()) {
      batch[i]->error = error;
      continue;
    }
    void* raw = nullptr;
    if (redisGetReply(context_.get(), &raw) != REDIS_OK) {
      try {
        error = "lost the connection to redis at " + endpoint_.where() + ": " + context_->errstr;
      } catch (...) {
        error = "lost the connection to redis";
      }
      batch[i]->error = error;
      continue;
    }
    try {
      batch[i]->reply = convert(*static_cast<redisReply*>(raw));
    } catch (...) {
      batch[i]->error = "out of memory reading a redis reply";
    }
    freeReplyObject(raw);
  }
  // A broken or timed-out connection may hold half a reply: start afresh.
  if (!error.empty() || sent < batch.size()) context_.reset();
}

}  // namespace llmkit::redis
