// HTTP for provider calls: libcurl multi handles sharing DNS answers and TLS
// sessions (CURLSH), HTTP/2 where the server offers it, keep-alive
// connections. Any thread may start a transfer; the answer arrives through a
// Receiver, called by the Transport's own thread for start(), by the
// caller's thread for perform() (transport.cpp says why).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "core/alloc.h"
#include "core/cancel.h"
#include "http/headers.h"
#include "http/proxy.h"
#include "llmkit.h"

namespace llmkit::http {

struct Timeouts {
  std::int64_t connect_ms = 10'000;  // 0: none, for every field
  std::int64_t first_byte_ms = 0;    // from the start to the first response byte
  std::int64_t total_ms = 0;         // the whole transfer
  std::int64_t idle_ms = 0;          // between two pieces of the body
};

struct Request {
  String method = make_string("POST");
  String url;
  std::vector<String, Allocator<String>> headers;  // "Name: value"
  String body;
  Timeouts timeouts;
  // May be null; must outlive the transfer. trigger() wakes the loop at once
  // (a Cancel::Watch) and the transfer ends with CANCELLED.
  const Cancel* cancel = nullptr;
  // start(): sent no sooner than this after the call (a retry's backoff),
  // without a thread waiting; cancel ends the wait. Timeouts count from the
  // send.
  std::int64_t delay_ms = 0;
};

// Receives one transfer's answer, for start() on the Transport's own
// thread, for perform() on the caller's (unless a connection limit is set:
// then on the Transport's thread too), in this order:
// on_head once (unless the transfer fails first), on_body any number of
// times, on_done exactly once. It must outlive on_done and must not block.
// on_head comes with the final head (1xx heads are skipped; redirects are
// not followed, so a 3xx is final), before the first body byte. An
// exception from on_head or on_body ends the transfer: on_done gets its
// status (llmkit::Error) or OUT_OF_MEMORY / INTERNAL. on_done must not
// throw (through start() an exception from it is dropped; perform()
// rethrows it). A Receiver may call start() but must not destroy the
// Transport.
class Receiver {
 public:
  virtual ~Receiver() = default;
  virtual void on_head(int status, const Headers& headers) = 0;
  // Returns false to stop the transfer: it then ends with CANCELLED.
  virtual bool on_body(std::string_view bytes) = 0;
  // OK when the whole body arrived; else NETWORK, TIMEOUT (naming which
  // timeout) or CANCELLED, with a message that never includes a header value.
  virtual void on_done(llmkit_status status, std::string_view message) = 0;
};

struct Settings {
  // Either limit sends blocking calls through the Transport's thread, where
  // one multi handle holds every connection (transport.cpp).
  long max_connections_per_host = 0;  // 0: no limit
  long max_connections = 0;           // the whole pool; 0: no limit
  bool http2 = true;                  // negotiated over TLS (ALPN)
  bool verify_tls = true;
  String ca_file;   // empty: the system's
  Proxies proxies;  // none unless set: Proxies::of reads the option and the environment
};

class Transport {
 public:
  explicit Transport(const Settings& settings);
  // Transfers still queued or running end with CANCELLED ("the client was
  // closed") first, each exactly once; perform() calls on other threads
  // return before it goes on. Not to be called from a Receiver.
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Starts `request`; returns at once. Thread safety: any thread.
  // INVALID_ARGUMENT (thrown, nothing started) for an empty or malformed
  // URL, a scheme other than http/https, a bad method or header line, a
  // negative timeout; CANCELLED once the destructor has begun.
  void start(Request request, Receiver& receiver);
  // Runs `request` and returns once receiver.on_done has returned, on the
  // calling thread unless a connection limit is set. Thread safety: any
  // thread, but not from a Receiver of this Transport (INVALID_ARGUMENT).
  void perform(Request request, Receiver& receiver);

  // Connections opened so far (CURLINFO_NUM_CONNECTS summed over finished
  // transfers): with keep-alive, far fewer than transfers.
  std::uint64_t connections_opened() const;

 private:
  struct Loop;
  std::unique_ptr<Loop> loop_;
};

}  // namespace llmkit::http
