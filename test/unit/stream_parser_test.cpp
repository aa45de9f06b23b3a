// The stream framings: server-sent events (SseParser, the WHATWG
// event-stream format) and newline-delimited JSON (NdjsonParser). Bytes
// arrive however the network split them; the events that come out must not
// depend on where.
#include <gtest/gtest.h>

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "status_of.h"
#include "stream/ndjson.h"
#include "stream/sse.h"

namespace {

using llmkit::stream::NdjsonParser;
using llmkit::stream::SseParser;

struct Event {
  std::string event;
  std::string data;
  bool operator==(const Event& o) const { return event == o.event && data == o.data; }
};

std::ostream& operator<<(std::ostream& os, const Event& e) {
  return os << "{event=\"" << e.event << "\" data=\"" << e.data << "\"}";
}

using Events = std::vector<Event>;

class Collect final : public SseParser::Handler {
 public:
  void on_event(std::string_view event, std::string_view data) override {
    events.push_back({std::string(event), std::string(data)});
  }
  Events events;
};

// Feeds `pieces` in order to one parser.
Events sse(const std::vector<std::string_view>& pieces, SseParser& parser) {
  Collect c;
  for (const auto piece : pieces) parser.feed(piece, c);
  return c.events;
}

Events sse(const std::vector<std::string_view>& pieces) {
  SseParser parser;
  return sse(pieces, parser);
}

Events sse_bytewise(std::string_view text, SseParser& parser) {
  Collect c;
  for (std::size_t i = 0; i < text.size(); ++i) parser.feed(text.substr(i, 1), c);
  return c.events;
}

// ---- SSE --------------------------------------------------------------------

TEST(SseParser, LineFeeds) {
  EXPECT_EQ(sse({"event: delta\ndata: {\"a\":1}\n\ndata: two\n\n"}),
            (Events{{"delta", "{\"a\":1}"}, {"", "two"}}));
}

TEST(SseParser, CrLf) {
  EXPECT_EQ(sse({"event: delta\r\ndata: one\r\n\r\ndata: two\r\n\r\n"}),
            (Events{{"delta", "one"}, {"", "two"}}));
}

TEST(SseParser, LoneCr) {
  EXPECT_EQ(sse({"event: delta\rdata: one\r\rdata: two\r\r"}),
            (Events{{"delta", "one"}, {"", "two"}}));
  // Mixed line ends in one stream.
  EXPECT_EQ(sse({"data: a\r\ndata: b\rdata: c\n\r\n"}), (Events{{"", "a\nb\nc"}}));
}

TEST(SseParser, CrAtTheEndOfOneFeedLfAtTheStartOfTheNext) {
  // The LF belongs to the CR before it: it is no empty line, so "x" and "y"
  // are one event.
  SseParser parser;
  EXPECT_EQ(sse({"data: x\r", "\ndata: y\r", "\n", "\r", "\n"}, parser), (Events{{"", "x\ny"}}));
  EXPECT_FALSE(parser.pending());
  // A CR at the end of a feed followed by another CR: an empty line.
  EXPECT_EQ(sse({"data: x\r", "\r"}), (Events{{"", "x"}}));
  // A CR then a feed that is not a LF.
  EXPECT_EQ(sse({"data: x\r", "data: y\n\n"}), (Events{{"", "x\ny"}}));
  // Empty feeds in between change nothing.
  EXPECT_EQ(sse({"data: x\r", "", "\n", "", "\r\n"}), (Events{{"", "x"}}));
}

TEST(SseParser, CommentsAreIgnored) {
  EXPECT_EQ(sse({": keep-alive\n\n:\n\ndata: a\n: between\ndata: b\n\n: end\n"}),
            (Events{{"", "a\nb"}}));
  EXPECT_EQ(sse({":ping\r\n\r\n:ping\r\r"}), Events{});
}

TEST(SseParser, MultiLineDataJoinedWithLf) {
  EXPECT_EQ(sse({"data: one\ndata: two\ndata: three\n\n"}), (Events{{"", "one\ntwo\nthree"}}));
  // Empty data lines count: "data" alone (no colon) is a data line with an
  // empty value.
  EXPECT_EQ(sse({"data\ndata\n\n"}), (Events{{"", "\n"}}));
  EXPECT_EQ(sse({"data:\n\n"}), (Events{{"", ""}}));
  EXPECT_EQ(sse({"data: a\ndata:\ndata: b\n\n"}), (Events{{"", "a\n\nb"}}));
}

TEST(SseParser, DataWithAndWithoutTheSpace) {
  EXPECT_EQ(sse({"data:x\n\ndata: x\n\ndata:  x\n\ndata:x:y\n\n"}),
            (Events{{"", "x"}, {"", "x"}, {"", " x"}, {"", "x:y"}}));
  EXPECT_EQ(sse({"event:named\ndata:1\n\n"}), (Events{{"named", "1"}}));
  // Trailing spaces are kept.
  EXPECT_EQ(sse({"data: x \n\n"}), (Events{{"", "x "}}));
}

TEST(SseParser, EventNameResetsAfterEachEvent) {
  EXPECT_EQ(sse({"event: a\ndata: 1\n\ndata: 2\n\nevent: b\ndata: 3\n\n"}),
            (Events{{"a", "1"}, {"", "2"}, {"b", "3"}}));
  // The last event line wins.
  EXPECT_EQ(sse({"event: a\nevent: b\ndata: 1\n\n"}), (Events{{"b", "1"}}));
}

TEST(SseParser, EventWithoutDataIsNotDispatched) {
  SseParser parser;
  EXPECT_EQ(sse({"event: ping\n\n"}, parser), Events{});
  EXPECT_FALSE(parser.pending());
  // Its name does not leak into the next event.
  EXPECT_EQ(sse({"event: ping\n\ndata: x\n\n"}), (Events{{"", "x"}}));
  EXPECT_EQ(sse({"\n\n\n"}), Events{});
}

TEST(SseParser, OtherFieldsAreIgnored) {
  EXPECT_EQ(sse({"id: 7\nretry: 1000\nfoo: bar\nDATA: no\ndata : no\ndata: yes\n\n"}),
            (Events{{"", "yes"}}));
}

TEST(SseParser, LeadingByteOrderMark) {
  const std::string_view bom = "\xEF\xBB\xBF";
  const std::string text = std::string(bom) + "data: x\n\n";
  EXPECT_EQ(sse({text}), (Events{{"", "x"}}));
  // Split inside the mark, in every way.
  for (std::size_t i = 0; i <= 3; ++i) {
    for (std::size_t j = i; j <= 3; ++j) {
      const std::string_view t(text);
      EXPECT_EQ(sse({t.substr(0, i), t.substr(i, j - i), t.substr(j)}), (Events{{"", "x"}}))
          << i << "," << j;
    }
  }
  SseParser bytewise;
  EXPECT_EQ(sse_bytewise(text, bytewise), (Events{{"", "x"}}));
  // Only at the very start: later, the same bytes are part of a line (here
  // they make the field name "\xEF\xBB\xBF" + "data", which is ignored).
  EXPECT_EQ(sse({"data: a\n\n", text}), (Events{{"", "a"}}));
  EXPECT_EQ(sse({std::string(bom) + std::string(bom) + "data: x\n\n"}), Events{});
  // The start of a mark that turns out to be something else is kept.
  EXPECT_EQ(sse({"\xEF\xBB", "data: x\n\ndata: y\n\n"}), (Events{{"", "y"}}));
}

// A stream with everything: a mark, comments, names, multi-line data, all
// three line ends, an event without data, other fields.
constexpr std::string_view kMixed =
    "\xEF\xBB\xBF: hello\r\n"
    "event: message_start\r\n"
    "data: {\"type\":\"message_start\"}\r\n"
    "\r\n"
    "event: ping\n"
    "\n"
    "id: 3\r"
    "data: line one\r"
    "data:line two\r"
    "\r"
    "data: {\"a\":\r\n"
    "data: 1}\n"
    "\n"
    ":\n"
    "event: message_stop\r"
    "data:\r\n"
    "\r\n";

const Events kMixedEvents = {{"message_start", "{\"type\":\"message_start\"}"},
                             {"", "line one\nline two"},
                             {"", "{\"a\":\n1}"},
                             {"message_stop", ""}};

TEST(SseParser, OneFeed) {
  SseParser parser;
  EXPECT_EQ(sse({kMixed}, parser), kMixedEvents);
  EXPECT_FALSE(parser.pending());
}

TEST(SseParser, EverySplitPointGivesTheSameEvents) {
  for (std::size_t i = 0; i <= kMixed.size(); ++i) {
    for (std::size_t j = i; j <= kMixed.size(); ++j) {
      SseParser parser;
      ASSERT_EQ(sse({kMixed.substr(0, i), kMixed.substr(i, j - i), kMixed.substr(j)}, parser),
                kMixedEvents)
          << "split at " << i << " and " << j;
      ASSERT_FALSE(parser.pending());
    }
  }
}

TEST(SseParser, ByteAtATime) {
  SseParser parser;
  EXPECT_EQ(sse_bytewise(kMixed, parser), kMixedEvents);
  EXPECT_FALSE(parser.pending());
}

TEST(SseParser, EventsArriveAsSoonAsTheirBlankLineDoes) {
  SseParser parser;
  Collect c;
  parser.feed("data: 1\n", c);
  EXPECT_TRUE(c.events.empty());
  parser.feed("\n", c);
  EXPECT_EQ(c.events, (Events{{"", "1"}}));
  parser.feed("data: 2\r", c);
  EXPECT_EQ(c.events.size(), 1u);
  // A lone CR ends the line at once: the next CR is the blank line, without
  // waiting to see whether a LF follows.
  parser.feed("\r", c);
  EXPECT_EQ(c.events, (Events{{"", "1"}, {"", "2"}}));
}

TEST(SseParser, PendingAfterACut) {
  {
    SseParser parser;
    EXPECT_FALSE(parser.pending());
    EXPECT_EQ(sse({"data: x"}, parser), Events{});  // no line end yet
    EXPECT_TRUE(parser.pending());
  }
  {
    SseParser parser;
    EXPECT_EQ(sse({"data: x\n"}, parser), Events{});  // no blank line yet
    EXPECT_TRUE(parser.pending());
  }
  {
    SseParser parser;
    EXPECT_EQ(sse({"event: a\n"}, parser), Events{});
    EXPECT_TRUE(parser.pending());
  }
  {
    SseParser parser;
    EXPECT_EQ(sse({"data: x\n\n: comment\n"}, parser), (Events{{"", "x"}}));
    EXPECT_FALSE(parser.pending());
  }
  {
    SseParser parser;
    EXPECT_EQ(sse({"data: x\r\n\r"}, parser), (Events{{"", "x"}}));
    EXPECT_FALSE(parser.pending());  // only a LF may still come
  }
}

TEST(SseParser, EventOverTheSizeLimit) {
  const std::string big = "data: " + std::string(100, 'x') + "\n\n";
  {
    SseParser parser(64);
    EXPECT_EQ(status_of([&] { sse({big}, parser); }), LLMKIT_PROVIDER_ERROR);
  }
  {
    SseParser parser(64);
    EXPECT_EQ(status_of([&] { sse_bytewise(big, parser); }), LLMKIT_PROVIDER_ERROR);
  }
  // Many data lines, each small, that add up to too much.
  std::string many;
  for (int k = 0; k < 10; ++k) many += "data: " + std::string(10, 'y') + "\n";
  many += "\n";
  {
    SseParser parser(64);
    EXPECT_EQ(status_of([&] { sse({many}, parser); }), LLMKIT_PROVIDER_ERROR);
  }
  {
    SseParser parser(64);
    EXPECT_EQ(status_of([&] { sse_bytewise(many, parser); }), LLMKIT_PROVIDER_ERROR);
  }
  // A line that never ends must not grow without bound either.
  {
    SseParser parser(64);
    const std::string endless(200, 'z');
    EXPECT_EQ(status_of([&] { sse_bytewise(endless, parser); }), LLMKIT_PROVIDER_ERROR);
  }
  // At the limit, and many events each under it, are fine.
  {
    SseParser parser(64);
    std::string stream;
    for (int k = 0; k < 100; ++k) stream += "data: " + std::string(50, 'w') + "\n\n";
    Events events;
    EXPECT_EQ(status_of([&] { events = sse_bytewise(stream, parser); }), LLMKIT_OK);
    EXPECT_EQ(events.size(), 100u);
  }
  {
    SseParser parser(64);
    Events events;
    EXPECT_EQ(status_of([&] { events = sse({"data: " + std::string(64, 'v') + "\n\n"}, parser); }),
              LLMKIT_OK);
    EXPECT_EQ(events, (Events{{"", std::string(64, 'v')}}));
  }
}

// ---- NDJSON -----------------------------------------------------------------

class Lines final : public NdjsonParser::Handler {
 public:
  void on_line(std::string_view line) override { lines.emplace_back(line); }
  std::vector<std::string> lines;
};

using Strings = std::vector<std::string>;

Strings ndjson(const std::vector<std::string_view>& pieces, NdjsonParser& parser) {
  Lines l;
  for (const auto piece : pieces) parser.feed(piece, l);
  return l.lines;
}

Strings ndjson(const std::vector<std::string_view>& pieces) {
  NdjsonParser parser;
  return ndjson(pieces, parser);
}

TEST(NdjsonParser, Lines) {
  NdjsonParser parser;
  EXPECT_EQ(ndjson({"{\"a\":1}\n{\"b\":2}\n"}, parser), (Strings{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_FALSE(parser.pending());
}

TEST(NdjsonParser, BlankLinesAreSkipped) {
  EXPECT_EQ(ndjson({"\n\n{\"a\":1}\n   \n\t\n\r\n{\"b\":2}\n\n"}),
            (Strings{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_EQ(ndjson({"\n \n"}), Strings{});
}

TEST(NdjsonParser, CrLf) {
  EXPECT_EQ(ndjson({"{\"a\":1}\r\n{\"b\":2}\r\n"}), (Strings{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_EQ(ndjson({"{\"a\":1}\r", "\n{\"b\":2}\r", "\n"}), (Strings{"{\"a\":1}", "{\"b\":2}"}));
  // Trailing blanks go too.
  EXPECT_EQ(ndjson({"{\"a\":1} \t\r\n"}), (Strings{"{\"a\":1}"}));
}

TEST(NdjsonParser, UnfinishedLineIsPending) {
  NdjsonParser parser;
  EXPECT_EQ(ndjson({"{\"a\":1}\n{\"b\""}, parser), (Strings{"{\"a\":1}"}));
  EXPECT_TRUE(parser.pending());
  Lines l;
  parser.feed(":2}\n", l);
  EXPECT_EQ(l.lines, (Strings{"{\"b\":2}"}));
  EXPECT_FALSE(parser.pending());
}

constexpr std::string_view kNdjson =
    "{\"message\":{\"content\":\"Hel\"},\"done\":false}\n"
    "\r\n"
    "{\"message\":{\"content\":\"lo\\n\"},\"done\":false}\r\n"
    "\n"
    "{\"done\":true,\"eval_count\":2}\n";

const Strings kNdjsonLines = {"{\"message\":{\"content\":\"Hel\"},\"done\":false}",
                              "{\"message\":{\"content\":\"lo\\n\"},\"done\":false}",
                              "{\"done\":true,\"eval_count\":2}"};

TEST(NdjsonParser, SplitAnywhere) {
  for (std::size_t i = 0; i <= kNdjson.size(); ++i) {
    for (std::size_t j = i; j <= kNdjson.size(); ++j) {
      NdjsonParser parser;
      ASSERT_EQ(ndjson({kNdjson.substr(0, i), kNdjson.substr(i, j - i), kNdjson.substr(j)}, parser),
                kNdjsonLines)
          << "split at " << i << " and " << j;
      ASSERT_FALSE(parser.pending());
    }
  }
  NdjsonParser parser;
  Lines l;
  for (std::size_t i = 0; i < kNdjson.size(); ++i) parser.feed(kNdjson.substr(i, 1), l);
  EXPECT_EQ(l.lines, kNdjsonLines);
}

TEST(NdjsonParser, MaxLineSize) {
  {
    NdjsonParser parser(16);
    EXPECT_EQ(status_of([&] { ndjson({std::string(17, 'x')}, parser); }), LLMKIT_PROVIDER_ERROR);
  }
  {
    NdjsonParser parser(16);
    EXPECT_EQ(status_of([&] {
                Lines l;
                for (int k = 0; k < 40; ++k) parser.feed("y", l);
              }),
              LLMKIT_PROVIDER_ERROR);
  }
  {
    // Lines up to the limit, one after another, are fine.
    NdjsonParser parser(16);
    Strings lines;
    EXPECT_EQ(status_of([&] {
                Lines l;
                for (int k = 0; k < 10; ++k) {
                  for (char c : std::string(16, 'z')) parser.feed(std::string_view(&c, 1), l);
                  parser.feed("\n", l);
                }
                lines = l.lines;
              }),
              LLMKIT_OK);
    EXPECT_EQ(lines, Strings(10, std::string(16, 'z')));
  }
}

}  // namespace
