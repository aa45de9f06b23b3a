// The JSON Lines sink: one object per call, keys named after the
// OpenTelemetry GenAI attributes, for log shippers and `jq`.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <string>
#include <system_error>

#include "core/error.h"
#include "core/json.h"
#include "trace/sink.h"

namespace llmkit::trace {
namespace {

struct CloseFile {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

class JsonlSink final : public Sink {
 public:
  explicit JsonlSink(std::string_view path) : path_(path), file_(std::fopen(path_.c_str(), "ae")) {
    if (!file_) failed(LLMKIT_INVALID_ARGUMENT, "cannot open it");
  }

  void write(std::span<const Record> batch) override {
    line_.clear();
    for (const Record& r : batch) {
      char sep = '{';
      const auto values = values_of(r);
      for (std::size_t i = 0; i < kFieldCount; ++i) {
        const Value& v = values[i];
        if (v.kind == Value::Kind::kNull) continue;
        line_.push_back(sep);
        sep = ',';
        json::append_string(line_, kFields[i].attribute);
        line_.push_back(':');
        switch (v.kind) {
          case Value::Kind::kText:
            json::append_string(line_, v.text);
            break;
          case Value::Kind::kJson:
            line_.append(v.text.data(), v.text.size());
            break;
          case Value::Kind::kInt:
            append_number(line_, v.integer);
            break;
          case Value::Kind::kReal:
            if (std::isfinite(v.real)) {
              append_number(line_, v.real);
            } else {
              line_ += "null";
            }
            break;
          case Value::Kind::kNull:
            break;
        }
      }
      line_ += "}\n";
    }
    // The file is opened for appending: a batch lands after whatever is
    // there, even another process's lines.
    if (std::fwrite(line_.data(), 1, line_.size(), file_.get()) != line_.size() ||
        std::fflush(file_.get()) != 0) {
      std::clearerr(file_.get());
      failed(LLMKIT_UNAVAILABLE, "cannot write to it");
    }
  }

 private:
  [[noreturn]] void failed(llmkit_status status, std::string_view what) const {
    const int error = errno;  // before anything below can change it
    fail(status, "JSON Lines trace file " + path_ + ": " + std::string(what) + ": " +
                     std::generic_category().message(error));
  }

  std::string path_;
  std::unique_ptr<std::FILE, CloseFile> file_;
  String line_;
};

}  // namespace

Unique<Sink> jsonl_sink(std::string_view path) {
  return Unique<Sink>(create<JsonlSink>(path));
}

}  // namespace llmkit::trace
