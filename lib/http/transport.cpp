// The HTTP transport: libcurl multi handles, each driven by one thread at a
// time.
//
// Async calls. start() (any thread) checks the request, configures its easy
// handle, queues the Transfer under Loop::mutex and, when the transport's
// thread waits in curl_multi_poll, wakes it with curl_multi_wakeup. That
// thread drives the shared multi handle: it adds each queued transfer, runs
// curl_multi_perform, reads finished transfers, enforces the timeouts curl
// has no option for, and calls every Receiver. So async callbacks always
// run on the transport's thread (bindings rely on it).
//
// Blocking calls. A perform() caller takes a lane, a multi handle of its
// own kept from an earlier call with its connections, and drives it on its
// own thread until its transfer ends, as curl_easy_perform would: no
// thread hand-off, and callers run their transfers in parallel. Through one
// loop thread for every call, eight callers took 1.3-1.4x the time per
// call of eight plain curl_easy_perform threads (bench/http_bench.cpp), as
// that thread did every call's socket work and woke each caller. Lanes are
// made when more callers block at once than ever before, and kept. With a
// connection limit (Settings) blocking calls go through the transport's
// thread instead: curl counts connections per multi handle.
//
// Connections. Each multi handle keeps its own pool: libcurl does not
// support one pool used by several threads at once. DNS answers and TLS
// sessions are shared by all of them through the share handle, so a new
// lane's connection resumes a TLS session another one made.
//
// Cancellation. A transfer whose Request has a Cancel registers a
// Cancel::Watch (lib/core/cancel.h) whose hook calls curl_multi_wakeup, so a
// trigger() from any thread ends curl_multi_poll at once; every loop pass
// then checks each active transfer's flag (an atomic load). Chosen over
// polling the flags with a short slice while cancellable transfers run:
// LLM streams last seconds to minutes, and a slice would cost hundreds of
// wake-ups a second each while still adding up to a slice of latency.
//
// Timers. connect and total are curl's own (CURLOPT_CONNECTTIMEOUT_MS,
// CURLOPT_TIMEOUT_MS). first_byte and idle are deadlines the loop keeps per
// transfer: curl_multi_poll waits no longer than the nearest one (and, by
// itself, no longer than curl's internal timers), and each pass ends the
// transfers whose deadline has passed. A delayed transfer (Request::delay_ms)
// waits in the active list, outside the multi handle, until its start time,
// which is one more deadline. A pass scans the active transfers, O(n) for
// the few hundred a client runs at most, small beside curl's work.
#include "http/transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace llmkit::http {
namespace {

using Clock = std::chrono::steady_clock;
constexpr Clock::time_point kNever = Clock::time_point::max();
// The longest poll when no deadline is near; wake-ups end it sooner.
constexpr int kMaxWaitMs = 10'000;
// curl's connect timeout when CURLOPT_CONNECTTIMEOUT_MS is 0.
constexpr std::int64_t kCurlDefaultConnectMs = 300'000;

constexpr std::string_view kClosed = "the client was closed";
constexpr std::string_view kCancelled = "the call was cancelled";

// curl_global_init once per process, whichever thread gets here first;
// std::call_once tries again after a failure. Never undone (a documented
// process-wide singleton: libcurl cannot be re-initialised safely while
// another library in the process may use it).
std::once_flag g_curl_once;

void init_curl() {
  std::call_once(g_curl_once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      fail(LLMKIT_INTERNAL, "curl_global_init failed");
    }
  });
}

void check(CURLcode rc, const char* what) {
  if (rc != CURLE_OK) {
    fail(rc == CURLE_OUT_OF_MEMORY ? LLMKIT_OUT_OF_MEMORY : LLMKIT_INTERNAL,
         std::string("curl_easy_setopt(") + what + "): " + curl_easy_strerror(rc));
  }
}

void check(CURLMcode rc, const char* what) {
  if (rc != CURLM_OK) {
    fail(rc == CURLM_OUT_OF_MEMORY ? LLMKIT_OUT_OF_MEMORY : LLMKIT_INTERNAL,
         std::string(what) + ": " + curl_multi_strerror(rc));
  }
}

void check(CURLSHcode rc, const char* what) {
  if (rc != CURLSHE_OK) {
    fail(rc == CURLSHE_NOMEM ? LLMKIT_OUT_OF_MEMORY : LLMKIT_INTERNAL,
         std::string(what) + ": " + curl_share_strerror(rc));
  }
}

struct EasyDeleter {
  void operator()(CURL* e) const noexcept { curl_easy_cleanup(e); }
};
struct MultiDeleter {
  void operator()(CURLM* m) const noexcept { curl_multi_cleanup(m); }
};
struct ShareDeleter {
  void operator()(CURLSH* s) const noexcept { curl_share_cleanup(s); }
};
struct UrlDeleter {
  void operator()(CURLU* u) const noexcept { curl_url_cleanup(u); }
};
struct UrlHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>()(s);
  }
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// RFC 9110 token characters: methods and header names. A table, as every
// header line of every call is checked.
constexpr std::array<bool, 256> kTokenChars = [] {
  std::array<bool, 256> table{};
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (const char c : std::string_view("!#$%&'*+-.^_`|~"))
    table[static_cast<unsigned char>(c)] = true;
  return table;
}();

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return kTokenChars[static_cast<unsigned char>(c)];
  });
}

// Whether `s` holds a byte that would end a header line early. One pass:
// find_first_of() calls memchr once per byte, 2k instructions a call.
bool breaks_line(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::string ms_text(std::int64_t ms) {
  return std::to_string(ms) + " ms";
}

// Checks what start() can check without the loop, but the URL (parsed once
// per URL, Loop::parsed_url); throws INVALID_ARGUMENT. Messages name a
// header by its index only: a line may carry a key.
void validate(const Request& r) {
  if (r.url.empty()) fail(LLMKIT_INVALID_ARGUMENT, "the request has no URL");
  if (!is_token(r.method))
    fail(LLMKIT_INVALID_ARGUMENT, "the request's method is not an HTTP token");
  const Timeouts& t = r.timeouts;
  if (t.connect_ms < 0 || t.first_byte_ms < 0 || t.total_ms < 0 || t.idle_ms < 0) {
    fail(LLMKIT_INVALID_ARGUMENT, "a timeout is negative");
  }
  if (r.delay_ms < 0) fail(LLMKIT_INVALID_ARGUMENT, "the delay is negative");
  for (std::size_t i = 0; i < r.headers.size(); ++i) {
    const std::string_view line = r.headers[i];
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon)) || breaks_line(line)) {
      fail(LLMKIT_INVALID_ARGUMENT,
           "request header " + std::to_string(i) + " is not one 'Name: value' line");
    }
  }
}

// Parses `text` for CURLOPT_CURLU; throws INVALID_ARGUMENT unless it is an
// http or https URL.
std::shared_ptr<CURLU> parse_url(const String& text) {
  std::shared_ptr<CURLU> url(curl_url(), UrlDeleter(), Allocator<char>());
  if (!url) throw std::bad_alloc();
  if (const CURLUcode rc = curl_url_set(url.get(), CURLUPART_URL, text.c_str(), 0);
      rc != CURLUE_OK) {
    fail(LLMKIT_INVALID_ARGUMENT, std::string("the URL is malformed: ") + curl_url_strerror(rc));
  }
  char* scheme = nullptr;
  if (curl_url_get(url.get(), CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
    fail(LLMKIT_INVALID_ARGUMENT, "the URL has no scheme");
  }
  const bool web = std::string_view(scheme) == "http" || std::string_view(scheme) == "https";
  curl_free(scheme);
  if (!web) fail(LLMKIT_INVALID_ARGUMENT, "the URL's scheme is not http or https");
  return url;
}

// Replaces every occurrence of `secret` in `text` (secrets shorter than 8
// bytes are left: they cannot be keys, and would only blank out words).
void scrub(String& text, std::string_view secret) {
  constexpr std::string_view kMark = "[redacted]";
  if (secret.size() < 8) return;
  for (auto at = text.find(secret); at != String::npos; at = text.find(secret, at + kMark.size())) {
    text.replace(at, secret.size(), kMark);
  }
}

void scrub_words(String& text, std::string_view value, char separator) {
  scrub(text, value);
  while (!value.empty()) {
    const auto end = std::min(value.find(separator), value.size());
    scrub(text, trim(value.substr(0, end)));
    value.remove_prefix(std::min(end + 1, value.size()));
  }
}

// `message` without the request's header values (whole, and word by word:
// "Bearer sk-...") or its URL's query values (Gemini's ?key=), which curl's
// messages or a Receiver's exception might quote.
String redact(std::string_view message, const Request& r) {
  String out = make_string(message);
  for (const String& line : r.headers) {
    const std::string_view h = line;
    scrub_words(out, trim(h.substr(std::min(h.find(':') + 1, h.size()))), ' ');
  }
  const std::string_view url = r.url;
  if (const auto q = url.find('?'); q != std::string_view::npos) {
    std::string_view query = url.substr(q + 1);
    query = query.substr(0, query.find('#'));
    while (!query.empty()) {
      const auto end = std::min(query.find('&'), query.size());
      const std::string_view item = query.substr(0, end);
      scrub(out, item.substr(std::min(item.find('=') + 1, item.size())));
      query.remove_prefix(std::min(end + 1, query.size()));
    }
  }
  return out;
}

// A perform() caller's side of its transfer: forwards to its Receiver, and
// wakes the caller when the transfer ends. The flag lives in a shared Sync:
// once `done` is seen the caller may return and destroy the Waiter before
// the notifying thread has finished.
class Waiter final : public Receiver {
 public:
  explicit Waiter(Receiver& inner)
      : inner_(inner), sync_(std::allocate_shared<Sync>(Allocator<Sync>())) {}

  void on_head(int status, const Headers& headers) override { inner_.on_head(status, headers); }
  bool on_body(std::string_view bytes) override { return inner_.on_body(bytes); }
  void on_done(llmkit_status status, std::string_view message) override {
    try {
      inner_.on_done(status, message);
    } catch (...) {
      error_ = std::current_exception();  // read by the caller after `done`
    }
    // Woken outside the lock: woken under it, the caller would only block
    // again on the mutex.
    const std::shared_ptr<Sync> sync = sync_;
    {
      std::lock_guard<std::mutex> lock(sync->mutex);
      sync->done = true;
    }
    sync->cv.notify_one();
  }

  // True once the transfer ended (read by the thread driving the loop, or
  // by the caller after wait()).
  bool done() const {
    std::lock_guard<std::mutex> lock(sync_->mutex);
    return sync_->done;
  }

  void wait() {
    std::unique_lock<std::mutex> lock(sync_->mutex);
    sync_->cv.wait(lock, [&] { return sync_->done; });
  }

  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  struct Sync {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
  };

  Receiver& inner_;
  std::shared_ptr<Sync> sync_;
  std::exception_ptr error_;
};

// One request on its way: owned by the queue, then by the active list,
// then destroyed just before its on_done. Heap-allocated and never moved:
// curl holds pointers into it (body, error buffer, callbacks' user data).
struct Transfer {
  Transfer(Request r, Receiver& rc)
      : request(std::move(r)),
        receiver(&rc),
        start_at(started + std::chrono::milliseconds(request.delay_ms)) {
    if (request.timeouts.first_byte_ms > 0) {
      first_byte_deadline = start_at + std::chrono::milliseconds(request.timeouts.first_byte_ms);
    }
  }

  // Records why a callback stops the transfer (curl then ends it with a
  // write error, which this replaces). The first reason wins. No throw.
  void stop(llmkit_status why, std::string_view message) noexcept {
    if (stop_status != LLMKIT_OK) return;
    stop_status = why;
    try {
      stop_message = make_string(message);
    } catch (...) {  // out of memory: the status alone has to do
      stop_message.clear();
    }
  }

  bool cancelled() const { return request.cancel != nullptr && request.cancel->triggered(); }

  Request request;
  Receiver* receiver;
  const Clock::time_point started = Clock::now();
  const Clock::time_point start_at;                // added to the multi handle then
  Clock::time_point first_byte_deadline = kNever;  // until any response byte
  Clock::time_point idle_deadline = kNever;        // from the first body byte on

  // What curl reads during the transfer, kept until its end: the parsed URL
  // and the request's header lines as curl's list (nodes pointing into
  // `request`, not copies: CURLOPT_HTTPHEADER's list is the application's).
  std::shared_ptr<CURLU> url;
  std::vector<curl_slist, Allocator<curl_slist>> header_nodes;
  std::unique_ptr<CURL, EasyDeleter> easy;
  bool in_active = false;
  bool in_multi = false;
  std::optional<Cancel::Watch> watch;  // engaged while registered
  std::array<char, CURL_ERROR_SIZE> error{};

  // The answer's head, as the header callback parses it.
  int status = 0;
  Headers headers;
  bool any_byte = false;
  bool head_sent = false;

  llmkit_status stop_status = LLMKIT_OK;
  String stop_message;

  Transfer* prev = nullptr;  // in the queue or the active list
  Transfer* next = nullptr;
};

// An intrusive list of transfers, so that moving one between lists never
// allocates (and so never throws) on the loop thread. Owns its elements.
class List {
 public:
  List() = default;
  List(const List&) = delete;
  List& operator=(const List&) = delete;
  ~List() {
    while (Transfer* t = pop_front()) destroy(t);
  }

  Transfer* front() const { return head_; }
  bool empty() const { return head_ == nullptr; }

  void push_back(Transfer* t) noexcept {
    t->next = nullptr;
    t->prev = tail_;
    (tail_ != nullptr ? tail_->next : head_) = t;
    tail_ = t;
  }

  void remove(Transfer* t) noexcept {
    (t->prev != nullptr ? t->prev->next : head_) = t->next;
    (t->next != nullptr ? t->next->prev : tail_) = t->prev;
    t->prev = t->next = nullptr;
  }

  Transfer* pop_front() noexcept {
    Transfer* t = head_;
    if (t != nullptr) remove(t);
    return t;
  }

  void swap(List& other) noexcept {
    std::swap(head_, other.head_);
    std::swap(tail_, other.tail_);
  }

 private:
  Transfer* head_ = nullptr;
  Transfer* tail_ = nullptr;
};

// Runs a Receiver callback at curl's callback boundary: an exception stops
// the transfer (its status and message go to on_done) instead of unwinding
// through C. False when it threw.
template <class F>
bool guarded(Transfer& t, F&& f) noexcept {
  try {
    std::forward<F>(f)();
    return true;
  } catch (const Error& e) {
    t.stop(e.status(), e.what());
  } catch (const std::bad_alloc&) {
    t.stop(LLMKIT_OUT_OF_MEMORY, "out of memory in a response callback");
  } catch (const std::exception& e) {
    t.stop(LLMKIT_INTERNAL, std::string("a response callback threw: ") + e.what());
  } catch (...) {
    t.stop(LLMKIT_INTERNAL, "a response callback threw an unknown exception");
  }
  return false;
}

void send_head(Transfer& t) {
  t.head_sent = true;
  if (t.status == 0) {  // no status line seen (cannot happen with HTTP/1.x or 2)
    long code = 0;
    curl_easy_getinfo(t.easy.get(), CURLINFO_RESPONSE_CODE, &code);
    t.status = static_cast<int>(code);
  }
  t.receiver->on_head(t.status, t.headers);
}

// One line of a head, CRLF included. A status line starts a new head (the
// last one is the answer: 1xx heads come before it); the blank line ending
// a final head sends it. Lines after that are trailers: ignored.
void header_line(Transfer& t, std::string_view line) {
  if (t.head_sent) return;
  line = trim(line);
  if (line.substr(0, 5) == "HTTP/") {
    t.headers.clear();
    t.status = 0;
    const auto space = line.find(' ');
    if (space != std::string_view::npos) {
      for (const char c : line.substr(space + 1, 3)) {
        if (c < '0' || c > '9') break;
        t.status = t.status * 10 + (c - '0');
      }
    }
    return;
  }
  if (line.empty()) {
    if (t.status >= 200) send_head(t);
    return;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return;
  t.headers.add(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t n = size * count;
  t.any_byte = true;
  if (t.cancelled()) {
    t.stop(LLMKIT_CANCELLED, kCancelled);
    return CURL_WRITEFUNC_ERROR;
  }
  return guarded(t, [&] { header_line(t, std::string_view(data, n)); }) ? n : CURL_WRITEFUNC_ERROR;
}

size_t on_write(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t n = size * count;
  t.any_byte = true;
  if (t.cancelled()) {
    t.stop(LLMKIT_CANCELLED, kCancelled);
    return CURL_WRITEFUNC_ERROR;
  }
  if (t.request.timeouts.idle_ms > 0) {
    t.idle_deadline = Clock::now() + std::chrono::milliseconds(t.request.timeouts.idle_ms);
  }
  const bool ok = guarded(t, [&] {
    if (!t.head_sent) send_head(t);
    if (!t.receiver->on_body(std::string_view(data, n))) {
      t.stop(LLMKIT_CANCELLED, "the receiver stopped the transfer");
    }
  });
  return ok && t.stop_status == LLMKIT_OK ? n : CURL_WRITEFUNC_ERROR;
}

void wake_loop(void* multi) {
  curl_multi_wakeup(static_cast<CURLM*>(multi));
}

}  // namespace

struct Transport::Loop {
  explicit Loop(const Settings& s);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  struct Multi;

  static void share_lock(CURL* /*easy*/, curl_lock_data data, curl_lock_access /*access*/,
                         void* user) {
    static_cast<Loop*>(user)->share_locks[data].lock();
  }
  static void share_unlock(CURL* /*easy*/, curl_lock_data data, void* user) {
    static_cast<Loop*>(user)->share_locks[data].unlock();
  }

  void enqueue(Unique<Transfer> t);  // to the transport's thread
  void perform(Unique<Transfer> t, Waiter& waiter);
  void thread_main() noexcept;
  Multi* take_lane();
  void give_lane(Multi* lane) noexcept;
  // On the thread that starts the transfer, so that the transport's thread
  // does no more than it must: it is one thread for every async call.
  void configure(Transfer& t);
  std::shared_ptr<CURLU> parsed_url(const String& url);
  CURL* take_easy();
  void prepare(CURL* easy);  // the options every transfer sets alike
  void give_back(CURL* easy) noexcept;
  CURLM* new_multi() const;

  const Settings settings;
  // Lanes for blocking calls unless the connections are limited: a limit is
  // per multi handle, so it holds only when every call goes through one.
  const bool lanes_on;
  // Every URL this transport was asked for, parsed: curl copies a CURLU
  // handle at a transfer's start instead of parsing the URL text again, 13k
  // of the 73k instructions a plain curl_easy_perform of a chat call runs
  // (callgrind). Read-only once made, so shared by every thread.
  std::mutex urls_mutex;
  std::unordered_map<String, std::shared_ptr<CURLU>, UrlHash, std::equal_to<>,
                     Allocator<std::pair<const String, std::shared_ptr<CURLU>>>>
      urls;                                                 // guarded by urls_mutex
  std::array<std::mutex, CURL_LOCK_DATA_LAST> share_locks;  // outlive `share`
  std::unique_ptr<CURLSH, ShareDeleter> share;
  std::atomic<std::uint64_t> connections{0};

  // Easy handles of ended transfers, for the next ones: reusing one costs a
  // fraction of curl_easy_init and curl_easy_cleanup, and it keeps the
  // options prepare() set (a curl_easy_reset and setting them again cost
  // 6k instructions a call). A spare keeps pointers into its last Transfer,
  // unread until configure() replaces each of them.
  std::mutex spare_mutex;
  std::vector<CURL*, Allocator<CURL*>> spare;  // guarded by spare_mutex

  // The transport's thread and its multi handle.
  std::unique_ptr<Multi> shared;  // after `share` and `spare`: goes before them
  std::mutex mutex;
  List queue;  // guarded by mutex
  // The thread waits in curl_multi_poll: set under `mutex` with the queue
  // seen empty, cleared without it (an enqueue() that still sees it set
  // only costs one spare wake-up).
  std::atomic<bool> polling{false};
  bool closing = false;  // guarded by mutex

  // Lanes: made when more callers block at once than ever before, kept
  // with their connections for the next ones.
  std::mutex lanes_mutex;
  std::condition_variable lanes_cv;                   // the last busy lane came back
  std::vector<std::unique_ptr<Multi>> lanes;          // guarded by lanes_mutex
  std::vector<Multi*, Allocator<Multi*>> idle_lanes;  // guarded by lanes_mutex
  std::size_t busy_lanes = 0;                         // guarded by lanes_mutex
  std::atomic<bool> lanes_closing{false};             // set under lanes_mutex

  std::thread thread;  // last: starts once everything above exists
};

// One multi handle and its transfers, driven by one thread at a time: the
// transport's thread (the shared one), or a perform() caller (a lane).
struct Transport::Loop::Multi {
  explicit Multi(Loop& owner);
  Multi(const Multi&) = delete;
  Multi& operator=(const Multi&) = delete;
  ~Multi();  // its transfers have ended

  // Into the active list; into the multi handle too, unless delayed.
  void begin(Transfer* t) noexcept;
  // Sends what is due, runs curl, ends what finished or timed out.
  void pass() noexcept;
  int wait_ms() const noexcept;
  void poll() noexcept { curl_multi_poll(handle, nullptr, 0, wait_ms(), nullptr); }
  void finish(Transfer* t, llmkit_status status, std::string_view message) noexcept;
  void finish_all(llmkit_status status, std::string_view message) noexcept;

  Loop& loop;
  CURLM* handle;
  List active;

 private:
  void send(Transfer* t) noexcept;
  void send_due() noexcept;  // the delayed transfers whose time has come
  void read_messages() noexcept;
  void complete(Transfer* t, CURLcode rc) noexcept;
  void sweep() noexcept;
};

namespace {

// The transport whose transfers the current thread drives, if any: a
// blocking perform() there, from a Receiver, could wait for itself.
thread_local const void* t_driving = nullptr;

struct Driving {
  explicit Driving(const void* loop) : outer(t_driving) { t_driving = loop; }
  ~Driving() { t_driving = outer; }  // a Receiver may have driven another transport
  Driving(const Driving&) = delete;
  Driving& operator=(const Driving&) = delete;
  const void* outer;
};

}  // namespace

Transport::Loop::Multi::Multi(Loop& owner) : loop(owner), handle(owner.new_multi()) {}

Transport::Loop::Multi::~Multi() {
  curl_multi_cleanup(handle);
}

Transport::Loop::Loop(const Settings& s)
    : settings(s), lanes_on(s.max_connections == 0 && s.max_connections_per_host == 0) {
  if (s.max_connections < 0 || s.max_connections_per_host < 0) {
    fail(LLMKIT_INVALID_ARGUMENT, "a connection limit is negative");
  }
  init_curl();
  share.reset(curl_share_init());
  if (!share) fail(LLMKIT_OUT_OF_MEMORY, "cannot create the curl share handle");
  CURLSH* sh = share.get();
  check(curl_share_setopt(sh, CURLSHOPT_USERDATA, this), "CURLSHOPT_USERDATA");
  check(curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, &Loop::share_lock), "CURLSHOPT_LOCKFUNC");
  check(curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, &Loop::share_unlock), "CURLSHOPT_UNLOCKFUNC");
  // Not the connections: libcurl does not support a connection pool used
  // by several threads at once (its docs, CURLSHOPT_SHARE), and lanes run
  // on their callers' threads. Each multi handle keeps its own.
  for (const curl_lock_data d : {CURL_LOCK_DATA_DNS, CURL_LOCK_DATA_SSL_SESSION}) {
    check(curl_share_setopt(sh, CURLSHOPT_SHARE, d), "CURLSHOPT_SHARE");
  }
  shared = std::make_unique<Multi>(*this);
  thread = std::thread([this] { thread_main(); });
}

CURLM* Transport::Loop::new_multi() const {
  std::unique_ptr<CURLM, MultiDeleter> m(curl_multi_init());
  if (!m) fail(LLMKIT_OUT_OF_MEMORY, "cannot create a curl multi handle");
  check(
      curl_multi_setopt(m.get(), CURLMOPT_MAX_HOST_CONNECTIONS, settings.max_connections_per_host),
      "CURLMOPT_MAX_HOST_CONNECTIONS");
  check(curl_multi_setopt(m.get(), CURLMOPT_MAX_TOTAL_CONNECTIONS, settings.max_connections),
        "CURLMOPT_MAX_TOTAL_CONNECTIONS");
  check(curl_multi_setopt(m.get(), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX), "CURLMOPT_PIPELINING");
  return m.release();
}

Transport::Loop::~Loop() {
  {
    // Blocking calls end first: each lane sees lanes_closing on its next
    // pass, which the wake-up brings at once.
    std::unique_lock<std::mutex> lock(lanes_mutex);
    lanes_closing = true;
    for (const auto& lane : lanes) curl_multi_wakeup(lane->handle);
    lanes_cv.wait(lock, [&] { return busy_lanes == 0; });
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    closing = true;
  }
  curl_multi_wakeup(shared->handle);
  thread.join();
  lanes.clear();
  shared.reset();
  for (CURL* e : spare) curl_easy_cleanup(e);  // before `share`: they hold it
}

void Transport::Loop::enqueue(Unique<Transfer> t) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (closing) fail(LLMKIT_CANCELLED, std::string(kClosed));
    queue.push_back(t.release());
    wake = polling;  // else the thread's next pass finds it
  }
  if (wake) curl_multi_wakeup(shared->handle);
}

void Transport::Loop::perform(Unique<Transfer> t, Waiter& waiter) {
  if (!lanes_on) {
    enqueue(std::move(t));
    waiter.wait();
    return;
  }
  Multi* lane = take_lane();
  {
    const Driving driving(this);
    lane->begin(t.release());
    for (;;) {
      if (lanes_closing.load(std::memory_order_acquire)) {
        lane->finish_all(LLMKIT_CANCELLED, kClosed);
        break;
      }
      lane->pass();
      if (waiter.done()) break;
      lane->poll();
    }
  }
  give_lane(lane);
}

Transport::Loop::Multi* Transport::Loop::take_lane() {
  std::lock_guard<std::mutex> lock(lanes_mutex);
  if (lanes_closing) fail(LLMKIT_CANCELLED, std::string(kClosed));
  if (idle_lanes.empty()) {
    idle_lanes.reserve(lanes.size() + 1);  // so that give_lane never allocates
    lanes.push_back(std::make_unique<Multi>(*this));
    idle_lanes.push_back(lanes.back().get());
  }
  Multi* lane = idle_lanes.back();
  idle_lanes.pop_back();
  ++busy_lanes;
  return lane;
}

void Transport::Loop::give_lane(Multi* lane) noexcept {
  std::lock_guard<std::mutex> lock(lanes_mutex);
  idle_lanes.push_back(lane);
  // Under the lock: once it is released the destructor may go on.
  if (--busy_lanes == 0 && lanes_closing) lanes_cv.notify_all();
}

void Transport::Loop::thread_main() noexcept {
  const Driving driving(this);
  Multi& m = *shared;
  for (;;) {
    List fresh;
    bool stop = false;
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = closing;
      fresh.swap(queue);
    }
    // Once `closing` is seen no enqueue() can queue more: it checks under
    // the same lock.
    while (Transfer* t = fresh.pop_front()) {
      if (stop) {
        m.finish(t, LLMKIT_CANCELLED, kClosed);
      } else {
        m.begin(t);
      }
    }
    if (stop) {
      m.finish_all(LLMKIT_CANCELLED, kClosed);
      return;
    }
    m.pass();
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!queue.empty() || closing) continue;
      polling = true;
    }
    m.poll();
    polling = false;
  }
}

void Transport::Loop::Multi::begin(Transfer* t) noexcept {
  if (t->request.cancel != nullptr) {
    t->watch.emplace(&wake_loop, handle);
    t->request.cancel->watch(*t->watch);
    if (t->cancelled()) {  // triggered before the watch: no wake-up came
      finish(t, LLMKIT_CANCELLED, kCancelled);
      return;
    }
  }
  active.push_back(t);
  t->in_active = true;
  if (t->start_at <= Clock::now()) send(t);
}

void Transport::Loop::Multi::send(Transfer* t) noexcept {
  if (const CURLMcode rc = curl_multi_add_handle(handle, t->easy.get()); rc != CURLM_OK) {
    finish(t, rc == CURLM_OUT_OF_MEMORY ? LLMKIT_OUT_OF_MEMORY : LLMKIT_INTERNAL,
           std::string("curl_multi_add_handle: ") + curl_multi_strerror(rc));
    return;
  }
  t->in_multi = true;
}

void Transport::Loop::Multi::send_due() noexcept {
  const Clock::time_point now = Clock::now();
  Transfer* next = nullptr;
  for (Transfer* t = active.front(); t != nullptr; t = next) {
    next = t->next;
    if (!t->in_multi && t->start_at <= now) send(t);
  }
}

void Transport::Loop::Multi::pass() noexcept {
  send_due();
  int running = 0;
  curl_multi_perform(handle, &running);
  read_messages();
  sweep();
}

void Transport::Loop::Multi::finish_all(llmkit_status status, std::string_view message) noexcept {
  while (Transfer* t = active.front()) finish(t, status, message);
}

void Transport::Loop::configure(Transfer& t) {
  const Request& r = t.request;
  t.url = parsed_url(r.url);
  t.easy.reset(take_easy());
  CURL* e = t.easy.get();
  // A reused handle keeps the last transfer's options: each one a transfer
  // may set is set here every time, to its default when unused.
  check(curl_easy_setopt(e, CURLOPT_CURLU, t.url.get()), "CURLOPT_CURLU");
  check(curl_easy_setopt(e, CURLOPT_PRIVATE, &t), "CURLOPT_PRIVATE");
  check(curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error.data()), "CURLOPT_ERRORBUFFER");
  check(curl_easy_setopt(e, CURLOPT_HEADERDATA, &t), "CURLOPT_HEADERDATA");
  check(curl_easy_setopt(e, CURLOPT_WRITEDATA, &t), "CURLOPT_WRITEDATA");
  // HTTP/2: wait for a connection that may multiplex rather than open more.
  // Only over TLS, where ALPN settles it at connect: for plain http curl
  // would know only from the first answer's head, so a slow first call
  // would hold every other one back.
  const bool https = iequals(std::string_view(r.url).substr(0, 6), "https:");
  check(curl_easy_setopt(e, CURLOPT_PIPEWAIT, settings.http2 && https ? 1L : 0L),
        "CURLOPT_PIPEWAIT");
  // Set, even to "" (none): curl reads the environment for a handle without.
  const String& proxy = https ? settings.proxies.https : settings.proxies.http;
  check(curl_easy_setopt(e, CURLOPT_PROXY, proxy.c_str()), "CURLOPT_PROXY");
  // 0: curl's own connect timeout, and no total one.
  check(curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.timeouts.connect_ms)),
        "CURLOPT_CONNECTTIMEOUT_MS");
  check(curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeouts.total_ms)),
        "CURLOPT_TIMEOUT_MS");

  const std::string_view method = r.method;
  const bool bodiless = (method == "GET" || method == "HEAD") && r.body.empty();
  if (bodiless) {
    check(curl_easy_setopt(e, CURLOPT_HTTPGET, 1L), "CURLOPT_HTTPGET");  // ends a POST
    check(curl_easy_setopt(e, CURLOPT_NOBODY, method == "HEAD" ? 1L : 0L), "CURLOPT_NOBODY");
  } else {
    check(curl_easy_setopt(e, CURLOPT_NOBODY, 0L), "CURLOPT_NOBODY");  // ends a HEAD
    // Not copied by curl: the body lives in the Transfer until its end.
    check(curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size())),
          "CURLOPT_POSTFIELDSIZE_LARGE");
    check(curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data()), "CURLOPT_POSTFIELDS");
  }
  // Any other method, or a GET with a body, is curl's POST renamed.
  const bool custom = !bodiless && method != "POST";
  const String m(custom ? method : std::string_view());
  check(curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, custom ? m.c_str() : nullptr),
        "CURLOPT_CUSTOMREQUEST");

  // Expect: empty, unless the request has its own: no 100-continue round
  // trip before a body. curl only reads the lines.
  static char no_expect[] = "Expect:";
  bool expect = false;
  auto& nodes = t.header_nodes;
  nodes.reserve(r.headers.size() + 1);
  for (const String& line : r.headers) {
    expect = expect || iequals(trim(std::string_view(line).substr(0, line.find(':'))), "expect");
    nodes.push_back({const_cast<char*>(line.c_str()), nullptr});  // NOLINT: read-only
  }
  if (!expect) nodes.push_back({no_expect, nullptr});
  for (std::size_t i = 1; i < nodes.size(); ++i) nodes[i - 1].next = &nodes[i];
  check(curl_easy_setopt(e, CURLOPT_HTTPHEADER, nodes.data()), "CURLOPT_HTTPHEADER");
}

std::shared_ptr<CURLU> Transport::Loop::parsed_url(const String& text) {
  {
    std::lock_guard<std::mutex> lock(urls_mutex);
    if (const auto it = urls.find(std::string_view(text)); it != urls.end()) return it->second;
  }
  std::shared_ptr<CURLU> url = parse_url(text);
  // A client calls a few URLs per deployment. One that made up a URL per
  // call would grow this without end: it starts again instead (each
  // transfer holds its own URL).
  constexpr std::size_t kMaxUrls = 256;
  std::lock_guard<std::mutex> lock(urls_mutex);
  if (urls.size() >= kMaxUrls) urls.clear();
  urls.emplace(text, url);
  return url;
}

CURL* Transport::Loop::take_easy() {
  {
    std::lock_guard<std::mutex> lock(spare_mutex);
    if (!spare.empty()) {
      CURL* e = spare.back();
      spare.pop_back();
      return e;
    }
  }
  std::unique_ptr<CURL, EasyDeleter> e(curl_easy_init());
  if (!e) fail(LLMKIT_OUT_OF_MEMORY, "curl_easy_init failed");
  prepare(e.get());
  return e.release();
}

void Transport::Loop::prepare(CURL* e) {
  check(curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https"), "CURLOPT_PROTOCOLS_STR");
  check(curl_easy_setopt(e, CURLOPT_SHARE, share.get()), "CURLOPT_SHARE");
  check(curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L), "CURLOPT_NOSIGNAL");
  check(curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L), "CURLOPT_TCP_KEEPALIVE");
  check(curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                         settings.http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1),
        "CURLOPT_HTTP_VERSION");
  check(curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, settings.verify_tls ? 1L : 0L),
        "CURLOPT_SSL_VERIFYPEER");
  check(curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, settings.verify_tls ? 2L : 0L),
        "CURLOPT_SSL_VERIFYHOST");
  if (!settings.ca_file.empty()) {
    check(curl_easy_setopt(e, CURLOPT_CAINFO, settings.ca_file.c_str()), "CURLOPT_CAINFO");
  }
  check(curl_easy_setopt(e, CURLOPT_NOPROXY, settings.proxies.no_proxy.c_str()), "CURLOPT_NOPROXY");
  // A proxy's CONNECT answer is not the server's head.
  check(curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L),
        "CURLOPT_SUPPRESS_CONNECT_HEADERS");
  check(curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L), "CURLOPT_FOLLOWLOCATION");
  // "": offer every encoding this curl decodes; on_body sees decoded bytes.
  check(curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""), "CURLOPT_ACCEPT_ENCODING");
  check(curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header), "CURLOPT_HEADERFUNCTION");
  check(curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_write), "CURLOPT_WRITEFUNCTION");
}

void Transport::Loop::give_back(CURL* easy) noexcept {
  // Enough for every transfer a busy client runs at once; more are freed.
  constexpr std::size_t kMaxSpare = 256;
  try {
    std::lock_guard<std::mutex> lock(spare_mutex);
    if (spare.size() < kMaxSpare) {
      spare.push_back(easy);
      return;
    }
  } catch (...) {  // NOLINT(bugprone-empty-catch): no memory to keep it: freed below
  }
  curl_easy_cleanup(easy);
}

void Transport::Loop::Multi::read_messages() noexcept {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(handle, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    void* user = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &user);
    complete(static_cast<Transfer*>(user), msg->data.result);
  }
}

void Transport::Loop::Multi::complete(Transfer* t, CURLcode rc) noexcept {
  if (t->stop_status != LLMKIT_OK) {
    finish(t, t->stop_status, t->stop_message);
    return;
  }
  const Timeouts& to = t->request.timeouts;
  std::string message;
  try {
    switch (rc) {
      case CURLE_OK:
        // A bodiless answer: its head, unless the header callback sent it.
        if (!t->head_sent && !guarded(*t, [&] { send_head(*t); })) {
          finish(t, t->stop_status, t->stop_message);
        } else {
          finish(t, LLMKIT_OK, "");
        }
        return;
      case CURLE_OPERATION_TIMEDOUT: {
        curl_off_t pretransfer = 0;  // 0: the connection (TCP, TLS, proxy) was never up
        curl_easy_getinfo(t->easy.get(), CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
        if (pretransfer == 0 &&
            (to.total_ms == 0 || (to.connect_ms > 0 && to.connect_ms <= to.total_ms))) {
          message = "connect took longer than " +
                    ms_text(to.connect_ms > 0 ? to.connect_ms : kCurlDefaultConnectMs);
        } else if (to.total_ms > 0) {
          message = "the call took longer than " + ms_text(to.total_ms);
        } else {
          message = std::string("timed out: ") + t->error.data();
        }
        finish(t, LLMKIT_TIMEOUT, message);
        return;
      }
      case CURLE_ABORTED_BY_CALLBACK:
        finish(t, LLMKIT_CANCELLED, kCancelled);
        return;
      default:
        // Connect and DNS failures, TLS, a reset, a body shorter than its
        // Content-Length (CURLE_PARTIAL_FILE): all the network's doing.
        message = curl_easy_strerror(rc);
        if (t->error[0] != '\0') message.append(": ").append(t->error.data());
        finish(t, LLMKIT_NETWORK, message);
        return;
    }
  } catch (...) {  // out of memory building a message: the status alone
    finish(t, rc == CURLE_OPERATION_TIMEDOUT ? LLMKIT_TIMEOUT : LLMKIT_NETWORK, "");
  }
}

void Transport::Loop::Multi::sweep() noexcept {
  const Clock::time_point now = Clock::now();
  Transfer* next = nullptr;
  for (Transfer* t = active.front(); t != nullptr; t = next) {
    next = t->next;
    const Timeouts& to = t->request.timeouts;
    try {
      if (t->stop_status != LLMKIT_OK) {
        finish(t, t->stop_status, t->stop_message);
      } else if (t->cancelled()) {
        finish(t, LLMKIT_CANCELLED, kCancelled);
      } else if (!t->any_byte && now >= t->first_byte_deadline) {
        finish(t, LLMKIT_TIMEOUT, "no first byte within " + ms_text(to.first_byte_ms));
      } else if (now >= t->idle_deadline) {
        finish(t, LLMKIT_TIMEOUT, "no data for " + ms_text(to.idle_ms) + " between chunks");
      }
    } catch (...) {  // out of memory building a message
      finish(t, LLMKIT_TIMEOUT, "");
    }
  }
}

int Transport::Loop::Multi::wait_ms() const noexcept {
  Clock::time_point nearest = kNever;
  for (const Transfer* t = active.front(); t != nullptr; t = t->next) {
    if (!t->in_multi) nearest = std::min(nearest, t->start_at);
    if (!t->any_byte) nearest = std::min(nearest, t->first_byte_deadline);
    nearest = std::min(nearest, t->idle_deadline);
  }
  if (nearest == kNever) return kMaxWaitMs;
  const auto left = nearest - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  // Rounded up: waking a little early would only poll again for nothing.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<std::int64_t>(ms, kMaxWaitMs));
}

// Ends `t`: out of curl and the lists, its Cancel unwatched, its memory
// freed, then on_done. Nothing of the transfer is touched after on_done,
// which may free the Receiver or the Cancel, or start() another transfer.
void Transport::Loop::Multi::finish(Transfer* t, llmkit_status status,
                                    std::string_view message) noexcept {
  Unique<Transfer> owner(t);
  if (t->in_active) active.remove(t);
  if (t->in_multi) curl_multi_remove_handle(handle, t->easy.get());
  if (t->easy) {
    long opened = 0;
    curl_easy_getinfo(t->easy.get(), CURLINFO_NUM_CONNECTS, &opened);
    loop.connections.fetch_add(static_cast<std::uint64_t>(opened), std::memory_order_relaxed);
    loop.give_back(t->easy.release());
  }
  if (t->watch) {
    t->request.cancel->unwatch(*t->watch);
    t->watch.reset();
  }
  String text;
  try {
    if (!message.empty()) text = redact(message, t->request);
  } catch (...) {  // out of memory: the status alone
    text.clear();
  }
  Receiver* receiver = t->receiver;
  owner.reset();
  try {
    receiver->on_done(status, text);
  } catch (...) {  // nobody left to tell: on_done must not throw (transport.h)
  }
}

Transport::Transport(const Settings& settings) : loop_(std::make_unique<Loop>(settings)) {}

Transport::~Transport() = default;

void Transport::start(Request request, Receiver& receiver) {
  validate(request);
  Unique<Transfer> t(create<Transfer>(std::move(request), receiver));
  loop_->configure(*t);
  loop_->enqueue(std::move(t));
}

void Transport::perform(Request request, Receiver& receiver) {
  if (t_driving == loop_.get()) {
    fail(LLMKIT_INVALID_ARGUMENT, "perform() from inside a Receiver would never return");
  }
  validate(request);
  Waiter waiter(receiver);
  Unique<Transfer> t(create<Transfer>(std::move(request), waiter));
  loop_->configure(*t);
  loop_->perform(std::move(t), waiter);
  waiter.rethrow();
}

std::uint64_t Transport::connections_opened() const {
  return loop_->connections.load(std::memory_order_relaxed);
}

}  // namespace llmkit::http
