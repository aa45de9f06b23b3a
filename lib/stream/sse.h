// Server-sent events (the WHATWG event-stream format), parsed incrementally:
// bytes go in however the network split them, whole events come out. Only
// the event being read is buffered.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/alloc.h"

namespace llmkit::stream {

class SseParser {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // `event` is "" when the event named none ("message" by the spec);
    // `data` joins its data lines with '\n'.
    virtual void on_event(std::string_view event, std::string_view data) = 0;
  };

  // An event larger than `max_event_bytes` is a PROVIDER_ERROR: a stream
  // that never ends its event must not grow memory without bound.
  explicit SseParser(std::size_t max_event_bytes = std::size_t{16} << 20)
      : max_event_bytes_(max_event_bytes) {}

  void feed(std::string_view bytes, Handler& handler);
  // True when bytes of an unfinished event are held (the stream was cut).
  bool pending() const noexcept { return !line_.empty() || has_data_ || !event_.empty(); }

 private:
  void line(std::string_view text, Handler& handler);

  std::size_t max_event_bytes_;
  String line_;   // the current line, up to its end of line
  String event_;  // the current event's name
  String data_;   // the current event's data
  bool has_data_ = false;
  bool skip_lf_ = false;  // the last byte was '\r': a following '\n' ends nothing
  bool started_ = false;  // past a leading byte order mark
};

}  // namespace llmkit::stream
