// libFuzzer target: arbitrary bytes as a provider's answer, whole or
// streamed, and through the stream framings themselves.
//   byte 0: provider (mod 5: openai, openai-compatible, anthropic, gemini,
//           ollama) and mode ((byte / 5) % 2: 0 whole answer, 1 stream)
//   byte 1: how the body is cut into pieces (0: one piece)
//   rest:   the body
// Only llmkit::Error may come out of the core (it is caught); a crash, a
// sanitizer report or any other exception is a bug. A stream must decode
// the same however it is cut, and the framings must give the same events.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/error.h"
#include "providers/provider.h"
#include "providers/response.h"
#include "stream/ndjson.h"
#include "stream/sse.h"

namespace {

namespace lp = llmkit::providers;

constexpr std::string_view kProviders[] = {"openai", "openai-compatible", "anthropic", "gemini",
                                           "ollama"};

// Piece sizes from 1 to `1 + (cut & 63)`, drawn from a generator seeded by `cut`.
class Cutter {
 public:
  explicit Cutter(std::uint8_t cut) : state_(cut * 2654435761u + 1), max_(1u + (cut & 63u)) {}
  std::size_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return 1 + state_ % max_;
  }

 private:
  std::uint32_t state_;
  std::uint32_t max_;
};

template <class F>
void in_pieces(std::string_view body, std::uint8_t cut, F&& feed) {
  if (cut == 0) {
    feed(body);
    return;
  }
  Cutter cutter(cut);
  while (!body.empty()) {
    const std::size_t n = std::min(cutter.next(), body.size());
    feed(body.substr(0, n));
    body.remove_prefix(n);
  }
}

struct Outcome {
  llmkit_status thrown = LLMKIT_OK;  // the status of the llmkit::Error thrown, if one was
  std::string normalised;            // the response as JSON
  bool done = false;
  std::int64_t chunks = 0;
  std::string deltas;  // every delta, in order

  bool operator==(const Outcome& o) const {
    return thrown == o.thrown && normalised == o.normalised && done == o.done &&
           chunks == o.chunks && deltas == o.deltas;
  }
};

Outcome decode(const lp::Provider& provider, std::string_view body, std::uint8_t cut) {
  Outcome out;
  lp::Response response;
  auto decoder = provider.decoder(response, [&](const lp::Delta& d) {
    out.deltas += std::to_string(static_cast<int>(d.kind)) + ":" + std::to_string(d.index) + ":" +
                  std::string(d.id) + ":" + std::string(d.name) + ":" + std::string(d.text) + "\n";
  });
  try {
    in_pieces(body, cut, [&](std::string_view piece) { decoder->feed(piece); });
    out.done = decoder->done();
    decoder->finish();
  } catch (const llmkit::Error& e) {
    out.thrown = e.status();
  }
  llmkit::String json;
  lp::append_json(json, response);
  out.normalised.assign(json.data(), json.size());
  out.chunks = response.chunks;
  return out;
}

void parse_whole(const lp::Provider& provider, std::string_view body) {
  try {
    lp::Response response;
    provider.parse(body, response);
    llmkit::String json;
    lp::append_json(json, response);
  } catch (const llmkit::Error&) {
  }
  if (provider.name() == "anthropic") return;  // no embeddings
  for (const std::size_t inputs : {std::size_t{0}, std::size_t{2}}) {
    try {
      lp::Vector<lp::Vector<float>> vectors;
      provider.parse_embeddings(body, inputs, vectors);
      if (inputs != 0 && vectors.size() != inputs) abort();
    } catch (const llmkit::Error&) {
    }
  }
}

struct SseEvents final : llmkit::stream::SseParser::Handler {
  void on_event(std::string_view event, std::string_view data) override {
    // Line ends never leak into a name or the data (data lines join with LF).
    if (event.find_first_of("\r\n") != std::string_view::npos) abort();
    if (data.find('\r') != std::string_view::npos) abort();
    events += std::string(event) + '\x1f' + std::string(data) + '\x1e';
  }
  std::string events;
};

struct NdjsonLines final : llmkit::stream::NdjsonParser::Handler {
  void on_line(std::string_view line) override {
    if (line.empty() || line.find('\n') != std::string_view::npos) abort();
    lines += std::string(line) + '\x1e';
  }
  std::string lines;
};

// The events of `body` cut by `cut`, and whether the parser was left holding
// an unfinished event; PROVIDER_ERROR (too large) is the only error.
template <class Parser, class Handler>
std::string frame(std::string_view body, std::uint8_t cut, std::size_t limit) {
  Parser parser(limit);
  Handler handler;
  try {
    in_pieces(body, cut, [&](std::string_view piece) { parser.feed(piece, handler); });
  } catch (const llmkit::Error& e) {
    if (e.status() != LLMKIT_PROVIDER_ERROR) abort();
    return "too large";
  }
  if constexpr (std::is_same_v<Handler, SseEvents>) {
    return handler.events + (parser.pending() ? "pending" : "");
  } else {
    return handler.lines + (parser.pending() ? "pending" : "");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const lp::Provider& provider = lp::provider(kProviders[data[0] % 5]);
  const bool stream = (data[0] / 5) % 2 == 1;
  const std::uint8_t cut = data[1];
  const std::string_view body(reinterpret_cast<const char*>(data + 2), size - 2);

  if (stream) {
    // However the body is cut, the decoder ends the same way.
    const Outcome whole = decode(provider, body, 0);
    const Outcome cut_up = decode(provider, body, cut);
    if (!(whole == cut_up)) abort();
  } else {
    parse_whole(provider, body);
  }

  // The framings, with the default limits (never reached here): the same
  // events however the bytes are cut.
  using llmkit::stream::NdjsonParser;
  using llmkit::stream::SseParser;
  constexpr std::size_t kBig = std::size_t{16} << 20;
  if (frame<SseParser, SseEvents>(body, 0, kBig) != frame<SseParser, SseEvents>(body, cut, kBig)) {
    abort();
  }
  if (frame<NdjsonParser, NdjsonLines>(body, 0, kBig) !=
      frame<NdjsonParser, NdjsonLines>(body, cut, kBig)) {
    abort();
  }
  // And with small limits, which may be reached: an error, never a crash.
  frame<SseParser, SseEvents>(body, cut, 64);
  frame<NdjsonParser, NdjsonLines>(body, cut, 64);
  return 0;
}
