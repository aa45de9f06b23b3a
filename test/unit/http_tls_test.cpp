// The HTTP transport and the client over HTTPS against a local nginx with a
// fresh self-signed certificate: verification on by default, trust through
// ca_file (tls.ca_file), verify_tls off as the escape hatch, HTTP/2 by ALPN
// multiplexing concurrent transfers on one connection, and HTTP/1.1 opening
// more. nginx's access log tells the protocol and connection of each request.
// Failing to start nginx fails the tests; nothing is skipped.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/json.h"
#include "http/transport.h"
#include "llmkit.h"
#include "support/fixture.h"
#include "support/nginx_server.h"

namespace {

using namespace std::chrono_literals;
using llmkit::make_string;
using llmkit::http::Headers;
using llmkit::http::Request;
using llmkit::http::Settings;
using llmkit::http::Transport;
using llmkit::test::NginxOptions;
using llmkit::test::NginxServer;

constexpr std::string_view kChatBody =
    R"({"model":"m","messages":[{"role":"user","content":"hi"}]})";

// Records one transfer's callbacks; wait() blocks until on_done.
class TlsRecorder : public llmkit::http::Receiver {
 public:
  // Recorders sharing an Overlap count the answers under way at once (head
  // arrived, not yet done) and keep the most.
  struct Overlap {
    std::atomic<int> open{0};
    std::atomic<int> most{0};
  };
  explicit TlsRecorder(Overlap* overlap = nullptr) : overlap_(overlap) {}

  void on_head(int code, const Headers&) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++heads;
    status = code;
    if (overlap_ != nullptr) {
      // Through start() every callback runs on the loop's one thread.
      overlap_->most = std::max(overlap_->most.load(), ++overlap_->open);
    }
  }
  bool on_body(std::string_view bytes) override {
    std::lock_guard<std::mutex> lock(mutex_);
    body.append(bytes);
    return true;
  }
  void on_done(llmkit_status s, std::string_view m) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++dones;
    if (overlap_ != nullptr && heads > 0) --overlap_->open;
    done = s;
    message = m;
    cv_.notify_all();  // under the lock: the waiter may destroy this at once
  }
  bool wait(std::chrono::milliseconds limit = 10s) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, limit, [&] { return dones > 0; });
  }

  // Read after wait() returned.
  int heads = 0;
  int dones = 0;
  int status = 0;
  std::string body;
  llmkit_status done = LLMKIT_INTERNAL;
  std::string message;

 private:
  Overlap* overlap_;
  std::mutex mutex_;
  std::condition_variable cv_;
};

// One access log line: "$server_protocol $connection $status $request".
struct Logged {
  std::string protocol;
  std::string connection;
  std::string status;
  std::string method;  // the first word of $request
};

class HttpTls : public testing::Test {
 protected:
  void SetUp() override {
    // A server per test: each test reads a log of its own requests only.
    try {
      server_ = std::make_unique<NginxServer>(body_, NginxOptions{.tls = true});
    } catch (const std::exception& e) {
      FAIL() << "cannot start nginx over TLS: " << e.what();
    }
  }

  // Starts `count` transfers at once and checks that each is answered whole.
  // All at once: each waits `delay_ms` in the loop, so that on a slow
  // machine (sanitizers) the first does not finish before the last starts
  // and leave its connection free for reuse.
  void start_all(Transport& transport, int count, TlsRecorder::Overlap* overlap = nullptr,
                 std::int64_t delay_ms = 0) {
    std::vector<std::unique_ptr<TlsRecorder>> recorders;
    for (int i = 0; i < count; ++i) recorders.push_back(std::make_unique<TlsRecorder>(overlap));
    for (auto& r : recorders) {
      Request request = post();
      request.delay_ms = delay_ms;
      transport.start(std::move(request), *r);
    }
    for (auto& r : recorders) {
      ASSERT_TRUE(r->wait());
      EXPECT_EQ(r->done, LLMKIT_OK) << r->message;
      EXPECT_EQ(r->status, 200);
      EXPECT_EQ(r->body, body_);
    }
  }

  Settings trusting() const {
    Settings s;
    s.ca_file = make_string(server_->cert_file());
    return s;
  }

  Request post() const {
    Request r;
    r.url = make_string(server_->url("/v1/chat/completions"));
    r.headers.push_back(make_string("Content-Type: application/json"));
    r.body = make_string(kChatBody);
    return r;
  }

  // nginx logs a request once it has sent the answer, so the client may see
  // the answer first: wait for `count` lines.
  std::vector<Logged> logged(std::size_t count) const {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    std::vector<std::string> lines = server_->access_log();
    while (lines.size() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
      lines = server_->access_log();
    }
    std::vector<Logged> out;
    for (const auto& line : lines) {
      Logged l;
      std::istringstream(line) >> l.protocol >> l.connection >> l.status >> l.method;
      out.push_back(l);
    }
    return out;
  }

  const std::string body_ = llmkit::test::fixture("openai/chat_completion_text.json");
  std::unique_ptr<NginxServer> server_;
};

TEST_F(HttpTls, VerifiesTheCertificateByDefault) {
  Transport transport(Settings{});
  TlsRecorder r;
  transport.perform(post(), r);
  EXPECT_EQ(r.done, LLMKIT_NETWORK) << r.message;
  EXPECT_NE(r.message.find("SSL certificate problem"), std::string::npos) << r.message;
  EXPECT_EQ(r.heads, 0);
  EXPECT_EQ(r.body, "");
  // The handshake failed, so nginx never saw a request.
  EXPECT_TRUE(server_->access_log().empty());
}

TEST_F(HttpTls, TrustsCaFileAndSpeaksHttp2) {
  Transport transport(trusting());
  TlsRecorder r;
  transport.perform(post(), r);
  ASSERT_EQ(r.done, LLMKIT_OK) << r.message;
  EXPECT_EQ(r.heads, 1);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, body_);
  const auto log = logged(1);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].protocol, "HTTP/2.0");
  EXPECT_EQ(log[0].method, "POST");
  EXPECT_EQ(log[0].status, "200");
}

TEST_F(HttpTls, Http2MultiplexesConcurrentTransfersOnOneConnection) {
  constexpr int kCount = 20;
  Transport transport(trusting());
  TlsRecorder::Overlap overlap;
  start_all(transport, kCount, &overlap);
  EXPECT_EQ(transport.connections_opened(), 1u);
  // One connection alone could be keep-alive reuse, one transfer after
  // another; answers under way at once on it can only be multiplexed.
  EXPECT_GT(overlap.most.load(), 1);
  const auto log = logged(kCount);
  ASSERT_EQ(log.size(), static_cast<std::size_t>(kCount));
  std::set<std::string> connections;
  for (const auto& l : log) {
    EXPECT_EQ(l.protocol, "HTTP/2.0");
    EXPECT_EQ(l.method, "POST");
    EXPECT_EQ(l.status, "200");
    connections.insert(l.connection);
  }
  EXPECT_EQ(connections.size(), 1u);
}

TEST_F(HttpTls, Http1OpensAConnectionPerConcurrentTransfer) {
  constexpr int kCount = 8;
  Settings settings = trusting();
  settings.http2 = false;
  Transport transport(settings);
  start_all(transport, kCount, nullptr, 300);
  EXPECT_GT(transport.connections_opened(), 1u);
  const auto log = logged(kCount);
  ASSERT_EQ(log.size(), static_cast<std::size_t>(kCount));
  std::set<std::string> connections;
  for (const auto& l : log) {
    EXPECT_EQ(l.protocol, "HTTP/1.1");
    EXPECT_EQ(l.method, "POST");
    EXPECT_EQ(l.status, "200");
    connections.insert(l.connection);
  }
  // Every connection curl counted served a request: the two views agree.
  EXPECT_EQ(connections.size(), transport.connections_opened());
}

TEST_F(HttpTls, VerifyTlsOffAcceptsAnUntrustedCertificate) {
  Settings settings;
  settings.verify_tls = false;
  Transport transport(settings);
  TlsRecorder r;
  transport.perform(post(), r);
  ASSERT_EQ(r.done, LLMKIT_OK) << r.message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, body_);
}

using Options = std::unique_ptr<llmkit_options, decltype(&llmkit_options_free)>;
using Client = std::unique_ptr<llmkit_client, decltype(&llmkit_client_free)>;
using ChatRequest = std::unique_ptr<llmkit_request, decltype(&llmkit_request_free)>;
using Response = std::unique_ptr<llmkit_response, decltype(&llmkit_response_free)>;

// A client of the server as an OpenAI-compatible provider, trusting
// `ca_file` ("": the system's CAs); null when it cannot be made.
Client client_of(const NginxServer& server, const std::string& ca_file) {
  Client none(nullptr, llmkit_client_free);
  llmkit_options* raw = nullptr;
  if (llmkit_options_new(&raw) != LLMKIT_OK) return none;
  const Options options(raw, llmkit_options_free);
  std::vector<std::pair<const char*, std::string>> set = {
      {"provider", "openai-compatible"}, {"base_url", server.url("/v1")}, {"model", "m"}};
  if (!ca_file.empty()) set.emplace_back("tls.ca_file", ca_file);
  for (const auto& [key, value] : set) {
    if (llmkit_options_set(options.get(), key, value.c_str()) != LLMKIT_OK) return none;
  }
  llmkit_client* client = nullptr;
  if (llmkit_client_new(options.get(), &client) != LLMKIT_OK) return none;
  return Client(client, llmkit_client_free);
}

TEST_F(HttpTls, ClientChatsOverHttpsWithTlsCaFileAndFailsWithout) {
  simdjson::dom::parser parser;
  std::string_view content;
  ASSERT_EQ(
      llmkit::json::parse(parser, body_, "the fixture")["choices"].at(0)["message"]["content"].get(
          content),
      simdjson::SUCCESS);

  llmkit_request* raw = nullptr;
  ASSERT_EQ(llmkit_request_new(&raw), LLMKIT_OK);
  ChatRequest request(raw, llmkit_request_free);
  ASSERT_EQ(llmkit_request_set(request.get(), "model", "m"), LLMKIT_OK);
  ASSERT_EQ(llmkit_request_add_message(request.get(), "user", "hi"), LLMKIT_OK);

  const Client trusted = client_of(*server_, server_->cert_file());
  ASSERT_NE(trusted, nullptr) << llmkit_last_error();
  llmkit_response* answer = nullptr;
  const llmkit_status status =
      llmkit_client_chat(trusted.get(), request.get(), nullptr, nullptr, nullptr, nullptr, &answer);
  const Response ok(answer, llmkit_response_free);
  ASSERT_EQ(status, LLMKIT_OK) << llmkit_last_error();
  ASSERT_NE(ok, nullptr);
  const char* text = nullptr;
  std::size_t len = 0;
  ASSERT_EQ(llmkit_response_get(ok.get(), "text", &text, &len), LLMKIT_OK);
  EXPECT_EQ(std::string_view(text, len), content);
  const auto log = logged(1);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].protocol, "HTTP/2.0");
  EXPECT_EQ(log[0].method, "POST");

  const Client strict = client_of(*server_, "");
  ASSERT_NE(strict, nullptr) << llmkit_last_error();
  answer = nullptr;
  EXPECT_EQ(
      llmkit_client_chat(strict.get(), request.get(), nullptr, nullptr, nullptr, nullptr, &answer),
      LLMKIT_NETWORK);
  const Response failed(answer, llmkit_response_free);
  EXPECT_EQ(failed, nullptr);
  const std::string error = llmkit_last_error();
  EXPECT_NE(error.find("SSL certificate problem"), std::string::npos) << error;
}

}  // namespace
