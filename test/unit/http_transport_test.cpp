// The HTTP transport against test/upstream/upstream.py, the fake provider,
// started per test process on a free loopback port: whole bodies, headers,
// connection reuse, concurrent starts, every timeout, resets and truncated
// bodies, cancellation from another thread and from the receiver, closing
// with transfers in flight, and messages that never carry a header value.
// Failing to start the server fails the tests; nothing is skipped.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.h"
#include "http/proxy.h"
#include "http/transport.h"
#include "status_of.h"
#include "support/fixture.h"
#include "support/loopback.h"
#include "support/upstream.h"

namespace {

using namespace std::chrono_literals;
using llmkit::make_string;
using llmkit::http::Headers;
using llmkit::http::Request;
using llmkit::http::Settings;
using llmkit::http::Transport;
using llmkit::test::Upstream;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kSecret = "sk-test-0123456789abcdef-do-not-print";
constexpr std::string_view kChatBody =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]})";

long long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// Records one transfer's callbacks; wait() blocks until on_done.
class Recorder : public llmkit::http::Receiver {
 public:
  void on_head(int code, const Headers& head) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++heads;
    head_before_body = bodies == 0;
    status = code;
    for (const auto& [name, value] : head) headers.emplace_back(name, value);
  }
  bool on_body(std::string_view bytes) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++bodies;
    body.append(bytes);
    if (throw_on_body) {
      if (throw_status == LLMKIT_INTERNAL) throw std::runtime_error(throw_message);
      throw llmkit::Error(throw_status, throw_message);
    }
    return stop_after_bodies == 0 || bodies < stop_after_bodies;
  }
  void on_done(llmkit_status s, std::string_view m) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++dones;
    done = s;
    message = m;
    done_at = Clock::now();
    cv_.notify_all();  // under the lock: the waiter may destroy this at once
  }

  bool wait(std::chrono::milliseconds limit = 20s) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, limit, [&] { return dones > 0; });
  }
  int done_count() {
    std::lock_guard<std::mutex> lock(mutex_);
    return dones;
  }
  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return "<none>";
  }

  // Read after wait() returned.
  int heads = 0;
  int bodies = 0;
  int dones = 0;
  bool head_before_body = false;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  llmkit_status done = LLMKIT_INTERNAL;
  std::string message;
  Clock::time_point done_at;

  // Set before the transfer starts.
  int stop_after_bodies = 0;  // on_body returns false on this call; 0: never
  bool throw_on_body = false;
  llmkit_status throw_status = LLMKIT_PROVIDER_ERROR;  // INTERNAL: a std::runtime_error
  std::string throw_message;

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
};

// A Recorder that also notes the thread its on_done ran on.
class ThreadRecorder : public Recorder {
 public:
  void on_done(llmkit_status s, std::string_view m) override {
    thread = std::this_thread::get_id();  // published by Recorder's lock
    Recorder::on_done(s, m);
  }
  std::thread::id thread;
};

// A listener whose accept queue is full (backlog 0, one connection waiting,
// never accepted): the kernel drops further SYNs, so a connect hangs.
class FullListener {
 public:
  FullListener() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        listen(listener_, 0) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      throw std::runtime_error("cannot listen");
    }
    port_ = ntohs(a.sin_port);
    for (int i = 0; i < 3; ++i) {  // fill the queue; the later ones hang
      const int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
      fillers_.push_back(c);
    }
  }
  ~FullListener() {
    for (const int c : fillers_) close(c);
    close(listener_);
  }
  FullListener(const FullListener&) = delete;
  FullListener& operator=(const FullListener&) = delete;
  int port() const { return port_; }

 private:
  int listener_ = -1;
  int port_ = 0;
  std::vector<int> fillers_;
};

class HttpTransport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      upstream_ = std::make_unique<Upstream>();
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }
  static void TearDownTestSuite() { upstream_.reset(); }
  void SetUp() override {
    ASSERT_NE(upstream_, nullptr) << "cannot start test/upstream/upstream.py: " << error_;
  }

  // A chat call with a key, a marker the upstream's log can be searched
  // for, and the fault items `faults`.
  static Request chat(std::string_view faults = "", std::string_view marker = "") {
    Request r;
    r.url = make_string(upstream_->url("/v1/chat/completions"));
    r.headers.push_back(make_string("Content-Type: application/json"));
    r.headers.push_back(make_string("Authorization: Bearer " + std::string(kSecret)));
    if (!faults.empty()) {
      r.headers.push_back(make_string("X-Upstream-Fault: " + std::string(faults)));
    }
    if (!marker.empty()) r.headers.push_back(make_string("X-Test-Id: " + std::string(marker)));
    r.body = make_string(kChatBody);
    return r;
  }

  static Request get(std::string_view path) {
    Request r;
    r.method = make_string("GET");
    r.url = make_string(upstream_->url(path));
    return r;
  }

  // Waits until the upstream has logged `count` requests carrying `marker`:
  // it logs a request before its injected delay, so the transfer is then
  // known to be in flight. The server has no way to tell us; we ask it.
  static void wait_logged(Transport& transport, std::string_view marker, int count = 1) {
    const std::string needle = "\"x-test-id\": \"" + std::string(marker) + "\"";
    const auto deadline = Clock::now() + 10s;
    for (;;) {
      Recorder log;
      transport.perform(get("/_upstream/requests"), log);
      ASSERT_EQ(log.done, LLMKIT_OK) << log.message;
      int seen = 0;
      for (auto at = log.body.find(needle); at != std::string::npos;
           at = log.body.find(needle, at + 1)) {
        ++seen;
      }
      if (seen >= count) return;
      ASSERT_LT(Clock::now(), deadline) << "the upstream never logged " << marker;
      std::this_thread::sleep_for(2ms);
    }
  }

  static std::unique_ptr<Upstream> upstream_;
  static std::string error_;
};

std::unique_ptr<Upstream> HttpTransport::upstream_;
std::string HttpTransport::error_;

TEST_F(HttpTransport, WholeBodyArrivesByteExactWithLowerCasedHeaders) {
  Transport transport(Settings{});
  Recorder r;
  transport.perform(chat(), r);
  ASSERT_EQ(r.done, LLMKIT_OK) << r.message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.heads, 1);
  EXPECT_TRUE(r.head_before_body);
  EXPECT_EQ(r.dones, 1);
  const std::string expected = llmkit::test::fixture("openai/chat_completion_text.json");
  EXPECT_EQ(r.body, expected);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("content-length"), std::to_string(expected.size()));
  for (const auto& [name, value] : r.headers) {
    for (const char c : name) EXPECT_FALSE(c >= 'A' && c <= 'Z') << name;
    EXPECT_EQ(value.find_first_of("\r\n"), std::string::npos) << name;
    EXPECT_FALSE(value.empty() || value.front() == ' ' || value.back() == ' ') << name;
  }
}

TEST_F(HttpTransport, BodyInPiecesArrivesWhole) {
  Transport transport(Settings{});
  Recorder r;
  transport.perform(chat("chunk=100,drip=5"), r);
  ASSERT_EQ(r.done, LLMKIT_OK) << r.message;
  EXPECT_GT(r.bodies, 1);
  EXPECT_EQ(r.body, llmkit::test::fixture("openai/chat_completion_text.json"));
}

TEST_F(HttpTransport, SendsHeadersAndBodyWithoutExpectContinue) {
  Transport transport(Settings{});
  Recorder r;
  transport.perform(chat("", "sends-headers"), r);
  ASSERT_EQ(r.done, LLMKIT_OK) << r.message;
  Recorder log;
  transport.perform(get("/_upstream/requests"), log);
  ASSERT_EQ(log.done, LLMKIT_OK) << log.message;
  EXPECT_NE(log.body.find("\"authorization\": \"Bearer " + std::string(kSecret) + "\""),
            std::string::npos);
  EXPECT_NE(log.body.find(R"({\"model\":\"gpt-4o-mini\")"), std::string::npos) << log.body;
  EXPECT_EQ(log.body.find("\"expect\""), std::string::npos) << log.body;
}

TEST_F(HttpTransport, LargeBodyIsSentWhole) {
  // Over 1 MiB, where curl would otherwise wait for a 100-continue.
  const std::string text(3 << 20, 'a');
  Request req;
  req.url = make_string(upstream_->url("/v1/embeddings"));
  req.headers.push_back(make_string("Content-Type: application/json"));
  req.body = make_string(R"({"model":"text-embedding-3-small","input":")" + text + "\"}");
  Transport transport(Settings{});
  Recorder r;
  transport.perform(std::move(req), r);
  ASSERT_EQ(r.done, LLMKIT_OK) << r.message;
  EXPECT_EQ(r.status, 200);
  // The synthetic vector starts with the input's length in bytes.
  EXPECT_NE(r.body.find("[" + std::to_string(text.size()) + ".0,"), std::string::npos) << r.body;
}

TEST_F(HttpTransport, ItsProxyIsUsedUnlessNoProxyNamesTheHost) {
  // A proxy nobody listens on: a call through it fails, one around it works.
  Settings through;
  through.proxies.http =
      make_string("http://127.0.0.1:" + std::to_string(llmkit::test::free_port()));
  {
    Transport transport(through);
    Recorder r;
    transport.perform(chat(), r);
    EXPECT_EQ(r.done, LLMKIT_NETWORK) << r.message;
  }
  Settings around = through;
  around.proxies.no_proxy = make_string("localhost,127.0.0.1");
  Transport transport(around);
  Recorder r;
  transport.perform(chat(), r);
  EXPECT_EQ(r.done, LLMKIT_OK) << r.message;
}

TEST(HttpProxies, FollowLibcurlsPrecedenceAndTheOptionWins) {
  const auto from = [](std::map<std::string, std::string> vars, std::string_view configured = "") {
    return llmkit::http::Proxies::of(configured, [vars](const char* name) -> const char* {
      const auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    });
  };
  auto p = from({{"HTTP_PROXY", "cgi"}, {"HTTPS_PROXY", "s"}, {"ALL_PROXY", "all"}});
  EXPECT_EQ(p.http, "all");  // HTTP_PROXY may be a CGI request's header: never read
  EXPECT_EQ(p.https, "s");
  p = from({{"https_proxy", ""}, {"HTTPS_PROXY", "s"}, {"all_proxy", "a"}, {"NO_PROXY", "n"}});
  EXPECT_EQ(p.https, "");  // set, even empty, it decides
  EXPECT_EQ(p.http, "a");
  EXPECT_EQ(p.no_proxy, "n");
  p = from({{"no_proxy", "x"}, {"NO_PROXY", "n"}, {"http_proxy", "h"}}, "opt");
  EXPECT_EQ(p.http, "opt");
  EXPECT_EQ(p.https, "opt");
  EXPECT_EQ(p.no_proxy, "x");
  p = from({});
  EXPECT_EQ(p.http, "");
  EXPECT_EQ(p.https, "");
  EXPECT_EQ(p.no_proxy, "");
}

TEST_F(HttpTransport, GetAndAnErrorStatusAreAnswers) {
  Transport transport(Settings{});
  Recorder health;
  transport.perform(get("/_upstream/health"), health);
  ASSERT_EQ(health.done, LLMKIT_OK) << health.message;
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok");

  Recorder limited;
  transport.perform(chat("status=429,retry_after=7"), limited);
  ASSERT_EQ(limited.done, LLMKIT_OK) << limited.message;  // HTTP errors are the caller's to map
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.header("retry-after"), "7");
  EXPECT_NE(limited.body.find("rate_limit_exceeded"), std::string::npos);
}

TEST_F(HttpTransport, SequentialRequestsReuseOneConnection) {
  Transport transport(Settings{});
  for (int i = 0; i < 100; ++i) {
    Recorder r;
    transport.perform(chat(), r);
    ASSERT_EQ(r.done, LLMKIT_OK) << i << ": " << r.message;
  }
  EXPECT_GE(transport.connections_opened(), 1U);
  EXPECT_LE(transport.connections_opened(), 2U);
}

TEST_F(HttpTransport, ConcurrentStartsFromFourThreadsAllComplete) {
  Settings settings;
  settings.max_connections_per_host = 4;
  Transport transport(settings);
  constexpr int kThreads = 4;
  constexpr int kEach = 50;
  std::vector<std::unique_ptr<Recorder>> recorders;
  for (int i = 0; i < kThreads * kEach; ++i) recorders.push_back(std::make_unique<Recorder>());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) transport.start(chat(), *recorders[t * kEach + i]);
    });
  }
  for (auto& t : threads) t.join();
  for (auto& r : recorders) {
    ASSERT_TRUE(r->wait());
    EXPECT_EQ(r->done, LLMKIT_OK) << r->message;
    EXPECT_EQ(r->dones, 1);
    EXPECT_EQ(r->body.size(), llmkit::test::fixture("openai/chat_completion_text.json").size());
  }
  EXPECT_LE(transport.connections_opened(), 4U);  // max_connections_per_host
}

TEST_F(HttpTransport, ConnectRefusedIsNetwork) {
  Transport transport(Settings{});
  Request req = chat();
  req.url = make_string("http://127.0.0.1:" + std::to_string(llmkit::test::free_port()) +
                        "/v1/chat/completions");
  Recorder r;
  transport.perform(std::move(req), r);
  EXPECT_EQ(r.done, LLMKIT_NETWORK);
  EXPECT_EQ(r.heads, 0);
  EXPECT_NE(r.message.find("connect"), std::string::npos) << r.message;
}

TEST_F(HttpTransport, ConnectTimeoutIsNamed) {
  FullListener hang;
  Transport transport(Settings{});
  Request req = chat();
  req.url = make_string("http://127.0.0.1:" + std::to_string(hang.port()) + "/");
  req.timeouts.connect_ms = 200;
  Recorder r;
  const auto started = Clock::now();
  transport.perform(std::move(req), r);
  EXPECT_EQ(r.done, LLMKIT_TIMEOUT) << r.message;
  EXPECT_EQ(r.message, "connect took longer than 200 ms");
  EXPECT_LT(ms_since(started), 3000);

  req = chat();
  req.url = make_string("http://127.0.0.1:" + std::to_string(hang.port()) + "/");
  req.timeouts.connect_ms = 10'000;
  req.timeouts.total_ms = 200;
  Recorder total;
  transport.perform(std::move(req), total);
  EXPECT_EQ(total.done, LLMKIT_TIMEOUT) << total.message;
  EXPECT_EQ(total.message, "the call took longer than 200 ms");
}

TEST_F(HttpTransport, FirstByteTimeout) {
  Transport transport(Settings{});
  Request req = chat("delay=5000");
  req.timeouts.first_byte_ms = 100;
  Recorder r;
  const auto started = Clock::now();
  transport.perform(std::move(req), r);
  EXPECT_EQ(r.done, LLMKIT_TIMEOUT);
  EXPECT_EQ(r.message, "no first byte within 100 ms");
  EXPECT_EQ(r.heads, 0);
  EXPECT_LT(ms_since(started), 2500);
}

TEST_F(HttpTransport, IdleTimeoutBetweenChunks) {
  Transport transport(Settings{});
  Request req = chat("stall=5000");  // the first 16-byte piece, then a pause
  req.timeouts.idle_ms = 100;
  req.timeouts.first_byte_ms = 4000;  // met: bytes come at once
  Recorder r;
  const auto started = Clock::now();
  transport.perform(std::move(req), r);
  EXPECT_EQ(r.done, LLMKIT_TIMEOUT);
  EXPECT_EQ(r.message, "no data for 100 ms between chunks");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.body.empty());
  EXPECT_LT(ms_since(started), 2500);
}

TEST_F(HttpTransport, IdleTimeoutDoesNotCountTheWaitForTheFirstByte) {
  Transport transport(Settings{});
  Request req = chat("delay=300");
  req.timeouts.idle_ms = 100;
  Recorder r;
  transport.perform(std::move(req), r);
  EXPECT_EQ(r.done, LLMKIT_OK) << r.message;
}

TEST_F(HttpTransport, TotalTimeout) {
  Transport transport(Settings{});
  Request req = chat("delay=5000");
  req.timeouts.total_ms = 200;
  Recorder r;
  const auto started = Clock::now();
  transport.perform(std::move(req), r);
  EXPECT_EQ(r.done, LLMKIT_TIMEOUT);
  EXPECT_EQ(r.message, "the call took longer than 200 ms");
  EXPECT_LT(ms_since(started), 2500);
}

TEST_F(HttpTransport, ResetMidBodyIsNetwork) {
  Transport transport(Settings{});
  Recorder r;
  transport.perform(chat("chunk=16,reset=100"), r);
  EXPECT_EQ(r.done, LLMKIT_NETWORK) << r.message;
  EXPECT_EQ(r.status, 200);
  EXPECT_LE(r.body.size(), 100U);
}

TEST_F(HttpTransport, TruncatedBodyIsNetwork) {
  Transport transport(Settings{});
  Recorder r;
  transport.perform(chat("truncate"), r);
  EXPECT_EQ(r.done, LLMKIT_NETWORK) << r.message;
  EXPECT_EQ(r.status, 200);
  EXPECT_LT(r.body.size(), llmkit::test::fixture("openai/chat_completion_text.json").size());
}

TEST_F(HttpTransport, CancelFromAnotherThreadEndsTheWaitPromptly) {
  Transport transport(Settings{});
  llmkit::Cancel cancel;
  Request req = chat("delay=5000", "cancel-me");
  req.cancel = &cancel;
  Recorder r;
  transport.start(std::move(req), r);
  wait_logged(transport, "cancel-me");  // the server holds it: in flight
  Clock::time_point triggered;
  std::thread([&] {
    triggered = Clock::now();
    cancel.trigger();
  }).join();
  ASSERT_TRUE(r.wait());
  EXPECT_EQ(r.done, LLMKIT_CANCELLED);
  EXPECT_EQ(r.dones, 1);
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(r.done_at - triggered).count(),
            1000);
}

TEST_F(HttpTransport, CancelledBeforeStartEndsAtOnce) {
  Transport transport(Settings{});
  llmkit::Cancel cancel;
  cancel.trigger();
  Request req = chat("delay=5000");
  req.cancel = &cancel;
  Recorder r;
  const auto started = Clock::now();
  transport.perform(std::move(req), r);
  EXPECT_EQ(r.done, LLMKIT_CANCELLED);
  EXPECT_LT(ms_since(started), 2500);
}

TEST_F(HttpTransport, OnBodyReturningFalseCancels) {
  Transport transport(Settings{});
  Recorder r;
  r.stop_after_bodies = 1;
  transport.perform(chat("chunk=16,drip=5"), r);
  EXPECT_EQ(r.done, LLMKIT_CANCELLED);
  EXPECT_EQ(r.bodies, 1);
  EXPECT_EQ(r.dones, 1);
}

TEST_F(HttpTransport, ReceiverExceptionEndsTheTransferWithItsStatus) {
  Transport transport(Settings{});
  Recorder typed;
  typed.throw_on_body = true;
  typed.throw_status = LLMKIT_PROVIDER_ERROR;
  typed.throw_message = "the answer is not JSON";
  transport.perform(chat(), typed);
  EXPECT_EQ(typed.done, LLMKIT_PROVIDER_ERROR);
  EXPECT_EQ(typed.message, "the answer is not JSON");
  EXPECT_EQ(typed.bodies, 1);

  Recorder other;
  other.throw_on_body = true;
  other.throw_status = LLMKIT_INTERNAL;  // a std::runtime_error
  other.throw_message = "boom";
  transport.perform(chat(), other);
  EXPECT_EQ(other.done, LLMKIT_INTERNAL);
  EXPECT_NE(other.message.find("boom"), std::string::npos) << other.message;

  Recorder after;  // the loop lives on
  transport.perform(chat(), after);
  EXPECT_EQ(after.done, LLMKIT_OK) << after.message;
}

TEST_F(HttpTransport, ClosingWithTransfersInFlightCancelsEachOnce) {
  std::vector<std::unique_ptr<Recorder>> running;
  std::vector<std::unique_ptr<Recorder>> queued;
  auto transport = std::make_unique<Transport>(Settings{});
  for (int i = 0; i < 5; ++i) {
    running.push_back(std::make_unique<Recorder>());
    transport->start(chat("delay=5000", "closing"), *running.back());
  }
  wait_logged(*transport, "closing", 5);
  for (int i = 0; i < 5; ++i) {  // some may still be in the queue
    queued.push_back(std::make_unique<Recorder>());
    transport->start(chat("delay=5000"), *queued.back());
  }
  const auto started = Clock::now();
  transport.reset();
  EXPECT_LT(ms_since(started), 2500);
  for (auto* list : {&running, &queued}) {
    for (auto& r : *list) {
      EXPECT_EQ(r->done_count(), 1);
      EXPECT_EQ(r->done, LLMKIT_CANCELLED);
      EXPECT_EQ(r->message, "the client was closed");
      EXPECT_EQ(r->heads, 0);
    }
  }
}

TEST_F(HttpTransport, MessagesNeverContainHeaderValues) {
  Transport transport(Settings{});
  const auto check = [&](Request req, Recorder& r) {
    transport.perform(std::move(req), r);
    EXPECT_NE(r.done, LLMKIT_OK);
    EXPECT_EQ(r.message.find(kSecret), std::string::npos) << r.message;
  };
  Request refused = chat();
  refused.url = make_string("http://127.0.0.1:" + std::to_string(llmkit::test::free_port()) +
                            "/?key=" + std::string(kSecret));
  Recorder a;
  check(std::move(refused), a);

  Recorder b;
  b.throw_on_body = true;  // a receiver quoting the key in its error
  b.throw_message = "rejected Bearer " + std::string(kSecret);
  check(chat(), b);
  EXPECT_EQ(b.message, "rejected [redacted]");  // the whole value "Bearer sk-..."

  Request in_url = chat();
  in_url.url = make_string(upstream_->url("/v1/chat/completions?key=" + std::string(kSecret)));
  Recorder c;
  c.throw_on_body = true;
  c.throw_message = "bad answer for key=" + std::string(kSecret);
  check(std::move(in_url), c);

  for (const char* fault : {"reset=10", "truncate", "delay=3000"}) {
    Request req = chat(fault);
    req.timeouts.first_byte_ms = 100;
    Recorder r;
    check(std::move(req), r);
  }
}

TEST_F(HttpTransport, BadRequestsAreRefusedByStart) {
  Transport transport(Settings{});
  Recorder r;
  const auto refused = [&](Request req) {
    return status_of([&] { transport.start(std::move(req), r); });
  };
  Request no_url = chat();
  no_url.url.clear();
  EXPECT_EQ(refused(std::move(no_url)), LLMKIT_INVALID_ARGUMENT);
  Request ftp = chat();
  ftp.url = make_string("ftp://127.0.0.1/x");
  EXPECT_EQ(refused(std::move(ftp)), LLMKIT_INVALID_ARGUMENT);
  Request garbage = chat();
  garbage.url = make_string("http://[::1");
  EXPECT_EQ(refused(std::move(garbage)), LLMKIT_INVALID_ARGUMENT);
  Request no_colon = chat();
  no_colon.headers.push_back(make_string("Authorization Bearer x"));
  EXPECT_EQ(refused(std::move(no_colon)), LLMKIT_INVALID_ARGUMENT);
  Request injected = chat();
  injected.headers.push_back(make_string("X-A: b\r\nX-B: c"));
  EXPECT_EQ(refused(std::move(injected)), LLMKIT_INVALID_ARGUMENT);
  Request method = chat();
  method.method = make_string("PO ST");
  EXPECT_EQ(refused(std::move(method)), LLMKIT_INVALID_ARGUMENT);
  Request negative = chat();
  negative.timeouts.idle_ms = -1;
  EXPECT_EQ(refused(std::move(negative)), LLMKIT_INVALID_ARGUMENT);
  Request back_in_time = chat();
  back_in_time.delay_ms = -1;
  EXPECT_EQ(refused(std::move(back_in_time)), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(r.done_count(), 0);  // nothing was started
}

TEST_F(HttpTransport, ADelayedStartIsSentNoSoonerThanItsDelay) {
  Transport transport(Settings{});
  Request req = chat("", "delayed");
  req.delay_ms = 300;
  req.timeouts.first_byte_ms = 200;  // counts from the send, not from start()
  Recorder r;
  const auto started = Clock::now();
  transport.start(std::move(req), r);
  Recorder quick;  // an undelayed transfer meanwhile is not held back
  transport.start(chat(), quick);
  ASSERT_TRUE(quick.wait());
  EXPECT_EQ(quick.done, LLMKIT_OK);
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(quick.done_at - started).count(),
            300);
  ASSERT_TRUE(r.wait());
  EXPECT_EQ(r.done, LLMKIT_OK) << r.message;
  EXPECT_GE(std::chrono::duration_cast<std::chrono::milliseconds>(r.done_at - started).count(),
            300);
}

TEST_F(HttpTransport, CancellingADelayedStartEndsItWithoutSending) {
  Transport transport(Settings{});
  llmkit::Cancel cancel;
  Request req = chat("", "never-sent");
  req.delay_ms = 60'000;
  req.cancel = &cancel;
  Recorder r;
  transport.start(std::move(req), r);
  cancel.trigger();
  ASSERT_TRUE(r.wait(5s));
  EXPECT_EQ(r.done, LLMKIT_CANCELLED);
  Recorder log;
  transport.perform(get("/_upstream/requests"), log);
  EXPECT_EQ(log.body.find("never-sent"), std::string::npos);
}

// Calls `other` (may be null) and then its own transport from on_done.
class Nested : public Recorder {
 public:
  Nested(Transport& own, Transport* other, Request (*make)())
      : own_(own), other_(other), make_(make) {}
  void on_done(llmkit_status s, std::string_view m) override {
    if (other_ != nullptr) {
      Recorder elsewhere;
      other_->perform(make_(), elsewhere);
      other_done = elsewhere.done;
    }
    Recorder inner;
    nested = status_of([&] { own_.perform(make_(), inner); });
    Recorder::on_done(s, m);
  }
  llmkit_status other_done = LLMKIT_INTERNAL;
  llmkit_status nested = LLMKIT_OK;

 private:
  Transport& own_;
  Transport* other_;
  Request (*make_)();
};

TEST_F(HttpTransport, PerformFromAReceiverIsRefused) {
  Transport transport(Settings{});
  Nested r(transport, nullptr, [] { return get("/_upstream/health"); });
  transport.perform(get("/_upstream/health"), r);
  EXPECT_EQ(r.done, LLMKIT_OK) << r.message;
  EXPECT_EQ(r.nested, LLMKIT_INVALID_ARGUMENT);
}

TEST_F(HttpTransport, PerformFromAReceiverIsRefusedAfterACallOnAnotherTransport) {
  Transport transport(Settings{});
  Transport other(Settings{});
  Nested r(transport, &other, [] { return get("/_upstream/health"); });
  transport.perform(get("/_upstream/health"), r);
  EXPECT_EQ(r.done, LLMKIT_OK) << r.message;
  EXPECT_EQ(r.other_done, LLMKIT_OK);  // another transport's loop is free to call
  EXPECT_EQ(r.nested, LLMKIT_INVALID_ARGUMENT);
}

TEST_F(HttpTransport, PerformRunsOnTheCallingThread) {
  Transport transport(Settings{});
  ThreadRecorder blocking;
  transport.perform(chat(), blocking);
  ASSERT_EQ(blocking.done, LLMKIT_OK) << blocking.message;
  EXPECT_EQ(blocking.thread, std::this_thread::get_id());  // no hand-off to the loop thread
  ThreadRecorder async;
  transport.start(chat(), async);
  ASSERT_TRUE(async.wait());
  EXPECT_EQ(async.done, LLMKIT_OK) << async.message;
  EXPECT_NE(async.thread, std::this_thread::get_id());
}

TEST_F(HttpTransport, AsyncCallbacksNeverRunOnACallerDrivingTheLoop) {
  Transport transport(Settings{});
  std::thread::id driver;
  Recorder slow;
  std::thread caller([&] {
    driver = std::this_thread::get_id();
    transport.perform(chat("delay=300", "driving"), slow);  // drives its own lane
  });
  wait_logged(transport, "driving");  // a blocking call while `caller` drives
  ThreadRecorder async;
  transport.start(chat(), async);
  ASSERT_TRUE(async.wait());
  caller.join();
  EXPECT_EQ(slow.done, LLMKIT_OK) << slow.message;
  EXPECT_EQ(async.done, LLMKIT_OK) << async.message;
  EXPECT_NE(async.thread, driver);
  EXPECT_NE(async.thread, std::this_thread::get_id());
}

TEST_F(HttpTransport, BlockingAndAsyncCallsMixFromManyThreads) {
  Transport transport(Settings{});
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::unique_ptr<ThreadRecorder>> async;
  for (int i = 0; i < kThreads * kEach; ++i) async.push_back(std::make_unique<ThreadRecorder>());
  std::mutex mutex;
  std::set<std::thread::id> callers;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      {
        std::lock_guard<std::mutex> lock(mutex);
        callers.insert(std::this_thread::get_id());
      }
      for (int i = 0; i < kEach; ++i) {
        Recorder r;
        transport.perform(chat(), r);
        if (r.done != LLMKIT_OK || r.dones != 1 || r.status != 200) ++failures;
        transport.start(chat(), *async[t * kEach + i]);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::set<std::thread::id> async_threads;
  for (auto& r : async) {
    ASSERT_TRUE(r->wait());
    EXPECT_EQ(r->done, LLMKIT_OK) << r->message;
    EXPECT_EQ(r->dones, 1);
    async_threads.insert(r->thread);
  }
  EXPECT_EQ(async_threads.size(), 1U);  // the transport's own thread
  for (const auto& id : async_threads) EXPECT_EQ(callers.count(id), 0U);
}

// `count` threads, each making one blocking call into its own recorder.
class BlockingCallers {
 public:
  BlockingCallers(Transport& transport, int count, const std::function<Request()>& make)
      : recorders(count), ids(count) {
    for (int i = 0; i < count; ++i) {
      threads_.emplace_back([this, &transport, make, i] {
        ids[i] = std::this_thread::get_id();
        transport.perform(make(), recorders[i]);
      });
    }
  }
  ~BlockingCallers() { join(); }
  BlockingCallers(const BlockingCallers&) = delete;
  BlockingCallers& operator=(const BlockingCallers&) = delete;

  void join() {
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  std::vector<ThreadRecorder> recorders;
  std::vector<std::thread::id> ids;  // each caller's thread

 private:
  std::vector<std::thread> threads_;
};

TEST_F(HttpTransport, ConcurrentPerformsRunAtOnceEachOnItsCallersThread) {
  Transport transport(Settings{});
  BlockingCallers callers(transport, 4, [] { return chat("delay=1500", "lanes"); });
  // All four are in the upstream at once, none answered yet: no caller
  // waited for another's transfer.
  wait_logged(transport, "lanes", 4);
  for (auto& r : callers.recorders) EXPECT_EQ(r.done_count(), 0);
  callers.join();
  for (std::size_t i = 0; i < callers.ids.size(); ++i) {
    EXPECT_EQ(callers.recorders[i].done, LLMKIT_OK) << callers.recorders[i].message;
    EXPECT_EQ(callers.recorders[i].thread, callers.ids[i]);
  }
}

TEST_F(HttpTransport, AConnectionLimitSendsBlockingCallsThroughOneThreadAndHoldsTheLimit) {
  Settings settings;
  settings.max_connections_per_host = 1;
  Transport transport(settings);
  BlockingCallers callers(transport, 3, [] { return chat("delay=100"); });
  callers.join();
  for (std::size_t i = 0; i < callers.ids.size(); ++i) {
    const ThreadRecorder& r = callers.recorders[i];
    EXPECT_EQ(r.done, LLMKIT_OK) << r.message;
    EXPECT_NE(r.thread, callers.ids[i]);  // the transport's thread
    EXPECT_EQ(r.thread, callers.recorders[0].thread);
  }
  EXPECT_EQ(transport.connections_opened(), 1U);
}

TEST_F(HttpTransport, FreeingTheTransportEndsBlockingCallsOnOtherThreads) {
  auto transport = std::make_unique<Transport>(Settings{});
  BlockingCallers callers(*transport, 3, [] { return chat("delay=5000", "freed"); });
  wait_logged(*transport, "freed", 3);
  const auto started = Clock::now();
  transport.reset();
  EXPECT_LT(ms_since(started), 2500);
  callers.join();
  for (auto& r : callers.recorders) {
    EXPECT_EQ(r.done_count(), 1);
    EXPECT_EQ(r.done, LLMKIT_CANCELLED);
    EXPECT_EQ(r.message, "the client was closed");
  }
}

TEST_F(HttpTransport, MoreUrlsThanItKeepsParsedAreEachCalledRight) {
  Transport transport(Settings{});
  for (int i = 0; i < 300; ++i) {  // past the 256 URLs the transport keeps
    Recorder r;
    transport.perform(get("/_upstream/health?n=" + std::to_string(i)), r);
    ASSERT_EQ(r.done, LLMKIT_OK) << i << ": " << r.message;
    ASSERT_EQ(r.body, "ok") << i;
  }
  Recorder again;  // the first one, parsed anew
  transport.perform(get("/_upstream/health?n=0"), again);
  EXPECT_EQ(again.done, LLMKIT_OK) << again.message;
}

TEST_F(HttpTransport, AReusedHandleForgetsTheLastTransfersOptions) {
  Transport transport(Settings{});
  Request timed = chat("delay=1000");
  timed.timeouts.total_ms = 100;
  Recorder first;
  transport.perform(std::move(timed), first);
  EXPECT_EQ(first.done, LLMKIT_TIMEOUT) << first.message;
  Recorder health;  // a GET in between
  transport.perform(get("/_upstream/health"), health);
  ASSERT_EQ(health.done, LLMKIT_OK) << health.message;
  EXPECT_EQ(health.body, "ok");
  Recorder second;  // no total timeout any more, and a POST again
  transport.perform(chat("delay=300"), second);
  EXPECT_EQ(second.done, LLMKIT_OK) << second.message;
  EXPECT_EQ(second.body, llmkit::test::fixture("openai/chat_completion_text.json"));
}

}  // namespace
