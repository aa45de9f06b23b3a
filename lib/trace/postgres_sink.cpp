// The PostgreSQL sink: each batch is one COPY in text format, the fastest
// way in, and all or nothing. The table is made on the first batch, so a
// client starts while its database is still down.
#include <string>

#include "core/error.h"
#include "pg/connection.h"
#include "trace/schema.h"
#include "trace/sink.h"

namespace llmkit::trace {
namespace {

// COPY's text format: a backslash starts an escape, tab and newline end a
// column and a row.
void append_escaped(String& out, std::string_view s) {
  for (const char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out.push_back(c);
    }
  }
}

class PostgresSink final : public Sink {
 public:
  explicit PostgresSink(std::string_view url)
      : conn_(std::string(url)),
        copy_("COPY llmkit_traces (" + std::string(kColumns) + ") FROM STDIN") {}

  void write(std::span<const Record> batch) override {
    if (!ready_) {
      conn_.run(kSchema);
      ready_ = true;
    }
    data_.clear();
    for (const Record& r : batch) {
      bool first = true;
      for (const Value& v : values_of(r)) {
        if (!first) data_.push_back('\t');
        first = false;
        switch (v.kind) {
          case Value::Kind::kNull:
            data_ += "\\N";
            break;
          case Value::Kind::kText:
          case Value::Kind::kJson:
            append_escaped(data_, v.text);
            break;
          case Value::Kind::kInt:
            append_number(data_, v.integer);
            break;
          case Value::Kind::kReal:
            append_number(data_, v.real);  // shortest text that reads back exactly
            break;
        }
      }
      data_.push_back('\n');
    }
    // A failed COPY makes the table again first the next time: someone may
    // have dropped it.
    ready_ = false;
    conn_.copy_in(copy_, data_);
    ready_ = true;
  }

 private:
  pg::Connection conn_;
  std::string copy_;
  bool ready_ = false;
  String data_;  // kept: a batch's text reuses the last one's memory
};

}  // namespace

Unique<Sink> postgres_sink(std::string_view url) {
  return Unique<Sink>(create<PostgresSink>(url));
}

}  // namespace llmkit::trace
