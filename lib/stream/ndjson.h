// Newline-delimited JSON (Ollama's streams), split incrementally into
// lines: only the line being read is buffered.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/alloc.h"

namespace llmkit::stream {

class NdjsonParser {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // One non-blank line, without its line end.
    virtual void on_line(std::string_view line) = 0;
  };

  explicit NdjsonParser(std::size_t max_line_bytes = std::size_t{16} << 20)
      : max_line_bytes_(max_line_bytes) {}

  void feed(std::string_view bytes, Handler& handler);
  bool pending() const noexcept { return !line_.empty(); }

 private:
  void emit(std::string_view line, Handler& handler);

  std::size_t max_line_bytes_;
  String line_;
};

}  // namespace llmkit::stream
