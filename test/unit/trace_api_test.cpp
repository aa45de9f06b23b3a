// Trace records of a client's calls through the C API, against
// test/upstream/upstream.py: one row per call, whichever way it ended,
// none lost at llmkit_client_free or across a PostgreSQL restart, content
// only when asked, and never the API key.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "llmkit.h"
#include "pg/connection.h"
#include "support/c_options.h"
#include "support/postgres_server.h"
#include "support/prometheus_text.h"
#include "support/upstream.h"

namespace {

using Options = llmkit::test::COptions;
using Row = std::map<std::string, std::string>;

constexpr const char* kKey = "sk-trace-secret-4d2f9a";

std::string temp_path(const std::string& ext) {
  char name[] = "/tmp/llmkit-trace-api-XXXXXX";
  const int fd = mkstemp(name);
  if (fd >= 0) close(fd);
  std::remove(name);
  return std::string(name) + ext;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every row of a SQLite trace file, in call order, column name -> text.
std::vector<Row> sqlite_rows(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT * FROM llmkit_traces ORDER BY time_us", -1, &s, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  std::vector<Row> rows;
  while (s != nullptr && sqlite3_step(s) == SQLITE_ROW) {
    Row row;
    for (int i = 0; i < sqlite3_column_count(s); ++i) {
      const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
      row[sqlite3_column_name(s, i)] = t == nullptr ? "NULL" : t;
    }
    rows.push_back(row);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return rows;
}

class TraceApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { upstream_ = std::make_unique<llmkit::test::Upstream>(); }
  static void TearDownTestSuite() { upstream_.reset(); }
  void SetUp() override {
    ASSERT_EQ(llmkit_request_new(&request_), LLMKIT_OK);
    llmkit_request_set(request_, "model", "gpt-4o-mini");
    llmkit_request_add_message(request_, "user", "Hello");
  }
  void TearDown() override {
    llmkit_client_free(client_);
    llmkit_cache_free(cache_);
    llmkit_request_free(request_);
    for (const std::string& p : files_) {
      for (const char* suffix : {"", "-wal", "-shm"}) std::remove((p + suffix).c_str());
    }
  }
  std::string file(const std::string& ext) { return files_.emplace_back(temp_path(ext)); }

  Options client_options(const std::string& trace) {
    Options o;
    o.set("provider", "openai").set("base_url", upstream_->url("/v1")).set("api_key", kKey);
    o.set("retry.attempts", "1").set("trace", trace);
    return o;
  }
  void make_client(const Options& o) {
    ASSERT_EQ(llmkit_client_new(o.o, &client_), LLMKIT_OK) << llmkit_last_error();
  }
  llmkit_status chat(const Options* call = nullptr, llmkit_stream_fn on_chunk = nullptr) {
    llmkit_response* r = nullptr;
    const llmkit_status s = llmkit_client_chat(client_, request_, call ? call->o : nullptr, nullptr,
                                               on_chunk, nullptr, &r);
    llmkit_response_free(r);
    return s;
  }
  void chat_async() {
    struct Done {
      std::mutex m;
      std::condition_variable cv;
      bool done = false;
    } d;
    ASSERT_EQ(llmkit_client_chat_async(
                  client_, request_, nullptr, nullptr, nullptr,
                  [](llmkit_status, llmkit_response* r, void* data) {
                    llmkit_response_free(r);
                    auto* done = static_cast<Done*>(data);
                    std::lock_guard<std::mutex> lock(done->m);
                    done->done = true;
                    done->cv.notify_all();
                  },
                  &d),
              LLMKIT_OK)
        << llmkit_last_error();
    std::unique_lock<std::mutex> lock(d.m);
    d.cv.wait(lock, [&] { return d.done; });
  }
  int64_t stat(const char* name) {
    int64_t v = -1;
    EXPECT_EQ(llmkit_client_trace_stat(client_, name, &v), LLMKIT_OK) << llmkit_last_error();
    return v;
  }

  static std::unique_ptr<llmkit::test::Upstream> upstream_;
  llmkit_client* client_ = nullptr;
  llmkit_cache* cache_ = nullptr;
  llmkit_request* request_ = nullptr;
  std::vector<std::string> files_;
};

std::unique_ptr<llmkit::test::Upstream> TraceApi::upstream_;

TEST_F(TraceApi, EveryCallIsOneRowOnceTheClientIsFreed) {
  const std::string db = file(".db");
  Options o = client_options(db);
  o.set("application", "shop").set("scopes", "production");
  make_client(o);
  Options none;
  ASSERT_EQ(llmkit_cache_new(none.o, &cache_), LLMKIT_OK);
  ASSERT_EQ(llmkit_client_set_cache(client_, cache_), LLMKIT_OK);

  Options tagged;  // 1: sync, filling the cache
  tagged.set("tags", "a,b").set("meta.user", "u1").set("caller", "team-a");
  ASSERT_EQ(chat(&tagged), LLMKIT_OK) << llmkit_last_error();
  ASSERT_EQ(chat(), LLMKIT_OK);  // 2: a cache hit
  ASSERT_EQ(llmkit_client_set_cache(client_, nullptr), LLMKIT_OK);
  chat_async();  // 3
  Options stream;
  stream.set("stream", "true");
  ASSERT_EQ(chat(&stream), LLMKIT_OK);  // 4: streamed
  Options broken;
  broken.set("header.x-upstream-fault", "status=400");
  ASSERT_EQ(chat(&broken), LLMKIT_INVALID_ARGUMENT);  // 5: failed
  llmkit_client_free(client_);
  client_ = nullptr;

  const std::vector<Row> rows = sqlite_rows(db);
  ASSERT_EQ(rows.size(), 5u);
  const Row& first = rows[0];
  EXPECT_EQ(first.at("application"), "shop");
  EXPECT_EQ(first.at("scope"), "production");
  EXPECT_EQ(first.at("tags"), R"(["a","b"])");
  EXPECT_EQ(first.at("metadata"), R"({"user":"u1"})");
  EXPECT_EQ(first.at("caller"), "team-a");
  EXPECT_EQ(first.at("gen_ai_operation_name"), "chat");
  EXPECT_EQ(first.at("gen_ai_provider_name"), "openai");
  EXPECT_EQ(first.at("gen_ai_request_model"), "gpt-4o-mini");
  EXPECT_NE(first.at("gen_ai_response_model"), "NULL");
  EXPECT_EQ(first.at("deployment"), "gpt-4o-mini");
  EXPECT_EQ(first.at("status"), "ok");
  EXPECT_EQ(first.at("error_type"), "NULL");
  EXPECT_EQ(first.at("gen_ai_response_finish_reasons"), R"(["stop"])");
  EXPECT_GT(std::stoll(first.at("gen_ai_usage_input_tokens")), 0);
  EXPECT_GT(std::stoll(first.at("gen_ai_usage_output_tokens")), 0);
  EXPECT_GT(std::stod(first.at("cost_usd")), 0);
  EXPECT_GT(std::stod(first.at("latency_ms")), 0);
  EXPECT_EQ(first.at("retries"), "0");
  EXPECT_EQ(first.at("fallback"), "0");
  EXPECT_EQ(first.at("cache_hit"), "0");
  EXPECT_EQ(first.at("gen_ai_input_messages"), "NULL");  // no "trace.content"
  EXPECT_EQ(first.at("gen_ai_output_messages"), "NULL");
  // The call started after the test did, within the last minute.
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  EXPECT_LT(now_us - std::stoll(first.at("time_us")), 60'000'000);
  EXPECT_GT(now_us, std::stoll(first.at("time_us")));

  const Row& hit = rows[1];
  EXPECT_EQ(hit.at("cache_hit"), "1");
  EXPECT_EQ(std::stod(hit.at("cost_usd")), 0);
  EXPECT_EQ(hit.at("gen_ai_usage_output_tokens"), first.at("gen_ai_usage_output_tokens"));
  EXPECT_EQ(hit.at("tags"), "[]");
  EXPECT_EQ(hit.at("caller"), "");

  EXPECT_EQ(rows[2].at("status"), "ok");
  EXPECT_EQ(rows[2].at("cache_hit"), "0");
  EXPECT_NE(rows[3].at("ttft_ms"), "NULL");  // streamed
  EXPECT_EQ(rows[4].at("status"), "INVALID_ARGUMENT");
  EXPECT_NE(rows[4].at("error_type"), "NULL");
  EXPECT_EQ(
      std::set<std::string>({rows[0].at("call_id"), rows[1].at("call_id"), rows[2].at("call_id"),
                             rows[3].at("call_id"), rows[4].at("call_id")})
          .size(),
      5u);
  EXPECT_EQ(slurp(db).find(kKey), std::string::npos);
}

TEST_F(TraceApi, AnEmbeddingsCallIsARowAndASeriesOfItsOwn) {
  const std::string db = file(".db");
  Options o = client_options(db);
  o.set("trace.content", "true");
  make_client(o);
  const char* texts[] = {"one two", "three"};
  const size_t lens[] = {7, 5};
  llmkit_vectors* v = nullptr;
  ASSERT_EQ(
      llmkit_client_embed(client_, "text-embedding-3-small", texts, lens, 2, nullptr, nullptr, &v),
      LLMKIT_OK)
      << llmkit_last_error();
  llmkit_vectors_free(v);
  Options broken;
  broken.set("header.x-upstream-fault", "status=400");
  EXPECT_EQ(
      llmkit_client_embed(client_, "text-embedding-3-small", texts, lens, 2, broken.o, nullptr, &v),
      LLMKIT_INVALID_ARGUMENT);
  const char* text = nullptr;
  ASSERT_EQ(llmkit_client_metrics(client_, &text, nullptr), LLMKIT_OK);
  const llmkit::test::PrometheusText metrics(text);
  llmkit_client_free(client_);
  client_ = nullptr;

  const std::vector<Row> rows = sqlite_rows(db);
  ASSERT_EQ(rows.size(), 2u);
  const Row& ok = rows[0];
  EXPECT_EQ(ok.at("gen_ai_operation_name"), "embeddings");
  EXPECT_EQ(ok.at("gen_ai_request_model"), "text-embedding-3-small");
  EXPECT_EQ(ok.at("gen_ai_provider_name"), "openai");
  EXPECT_NE(ok.at("deployment"), "NULL");
  EXPECT_EQ(ok.at("status"), "ok");
  EXPECT_EQ(ok.at("gen_ai_usage_input_tokens"), "3");  // the upstream counts words
  EXPECT_EQ(ok.at("gen_ai_usage_output_tokens"), "0");
  EXPECT_EQ(ok.at("gen_ai_input_messages"), "NULL");  // inputs are no conversation
  EXPECT_EQ(rows[1].at("gen_ai_operation_name"), "embeddings");
  EXPECT_EQ(rows[1].at("status"), "INVALID_ARGUMENT");
  EXPECT_EQ(rows[1].at("gen_ai_usage_input_tokens"), "0");

  const std::string series =
      R"({gen_ai_operation_name="embeddings",gen_ai_request_model="text-embedding-3-small",)"
      R"(gen_ai_provider_name="openai",deployment=")";
  EXPECT_EQ(
      metrics.value("llmkit_requests_total" + series + ok.at("deployment") + R"(",status="ok"})"),
      1)
      << text;
  EXPECT_EQ(metrics.value("llmkit_requests_total" + series + R"(",status="INVALID_ARGUMENT"})"), 1)
      << text;
}

TEST_F(TraceApi, RetriesAndAFallbackAreCounted) {
  const std::string db = file(".db");
  const std::string base = upstream_->url("/v1");
  const auto deployment = [&](const std::string& name, const std::string& fault) {
    return R"({"name": ")" + name + R"(", "group": ")" + name +
           R"(", "provider": "openai", "base_url": ")" + base + R"(", "api_key": ")" + kKey +
           R"(", "model": "gpt-4o-mini")" +
           (fault.empty() ? "" : R"(, "header.x-upstream-fault": ")" + fault + "\"") + "}";
  };
  Options o;
  o.set("deployments", "[" + deployment("a", "status=503") + "," + deployment("b", "") + "]");
  o.set("fallbacks", R"([{"from": "a", "to": ["b"]}])");
  o.set("retry.attempts", "2").set("retry.base_ms", "1").set("trace", db);
  make_client(o);
  llmkit_request_set(request_, "model", "a");
  ASSERT_EQ(chat(), LLMKIT_OK) << llmkit_last_error();
  ASSERT_EQ(llmkit_client_flush(client_, 10000), LLMKIT_OK) << llmkit_last_error();
  const std::vector<Row> rows = sqlite_rows(db);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("gen_ai_request_model"), "a");
  EXPECT_EQ(rows[0].at("deployment"), "b");
  EXPECT_EQ(rows[0].at("retries"), "2");  // a twice, then b
  EXPECT_EQ(rows[0].at("fallback"), "1");
  EXPECT_EQ(rows[0].at("status"), "ok");
  EXPECT_EQ(slurp(db).find(kKey), std::string::npos);
}

TEST_F(TraceApi, PostgresLosesNoRowAcrossARestart) {
  llmkit::test::PostgresServer server;
  make_client(client_options(server.url()));
  for (int i = 0; i < 5; ++i) ASSERT_EQ(chat(), LLMKIT_OK) << llmkit_last_error();
  ASSERT_EQ(llmkit_client_flush(client_, 10000), LLMKIT_OK) << llmkit_last_error();
  EXPECT_EQ(stat("written"), 5);
  server.stop();
  for (int i = 0; i < 7; ++i) ASSERT_EQ(chat(), LLMKIT_OK) << llmkit_last_error();
  EXPECT_EQ(llmkit_client_flush(client_, 300), LLMKIT_TIMEOUT);
  EXPECT_NE(std::string(llmkit_last_error()).find("PostgreSQL"), std::string::npos)
      << llmkit_last_error();
  EXPECT_GE(stat("failed_writes"), 1);
  EXPECT_EQ(stat("queued"), 7);
  server.start();
  ASSERT_EQ(llmkit_client_flush(client_, 30000), LLMKIT_OK) << llmkit_last_error();
  EXPECT_EQ(stat("written"), 12);
  EXPECT_EQ(stat("dropped"), 0);
  llmkit::pg::Connection c(server.url());
  EXPECT_EQ(c.run("SELECT count(*) FROM llmkit_traces").text(0, 0), "12");
  EXPECT_EQ(
      c.run("SELECT count(*) FROM llmkit_traces WHERE gen_ai_usage_output_tokens > 0").text(0, 0),
      "12");
}

TEST_F(TraceApi, ContentIsStoredOnlyWhenAskedAndTheKeyNever) {
  const std::string plain = file(".jsonl");
  make_client(client_options("jsonl:" + plain));
  ASSERT_EQ(chat(), LLMKIT_OK) << llmkit_last_error();
  llmkit_client_free(client_);
  client_ = nullptr;
  const std::string with = file(".jsonl");
  Options o = client_options("jsonl:" + with);
  o.set("trace.content", "true");
  make_client(o);
  ASSERT_EQ(chat(), LLMKIT_OK) << llmkit_last_error();
  ASSERT_EQ(llmkit_client_flush(client_, 10000), LLMKIT_OK);

  const std::string a = slurp(plain);
  const std::string b = slurp(with);
  EXPECT_EQ(std::count(a.begin(), a.end(), '\n'), 1);
  EXPECT_EQ(std::count(b.begin(), b.end(), '\n'), 1);
  EXPECT_EQ(a.find("gen_ai.input.messages"), std::string::npos) << a;
  EXPECT_EQ(a.find("Hello"), std::string::npos) << a;
  EXPECT_NE(
      b.find(
          R"("gen_ai.input.messages":[{"role":"user","parts":[{"type":"text","content":"Hello"}]}])"),
      std::string::npos)
      << b;
  EXPECT_NE(b.find(R"("gen_ai.output.messages":[{"role":"assistant","parts":[{"type":"text")"),
            std::string::npos)
      << b;
  EXPECT_EQ(a.find(kKey), std::string::npos);
  EXPECT_EQ(b.find(kKey), std::string::npos);
}

TEST_F(TraceApi, FlushAndStatsWithoutTraceAndBadArguments) {
  Options o;
  o.set("provider", "openai").set("base_url", upstream_->url("/v1")).set("api_key", kKey);
  make_client(o);
  EXPECT_EQ(llmkit_client_flush(client_, 0), LLMKIT_OK);
  EXPECT_EQ(stat("written"), 0);
  int64_t v = 0;
  EXPECT_EQ(llmkit_client_trace_stat(client_, "rows", &v), LLMKIT_NOT_FOUND);
  EXPECT_EQ(llmkit_client_flush(nullptr, 0), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_client_flush(client_, -1), LLMKIT_INVALID_ARGUMENT);
  EXPECT_EQ(llmkit_client_trace_stat(client_, nullptr, &v), LLMKIT_INVALID_ARGUMENT);
  llmkit_client* bad = nullptr;
  Options b = client_options(file(".db"));
  b.set("trace.on_full", "wait");
  EXPECT_EQ(llmkit_client_new(b.o, &bad), LLMKIT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llmkit_last_error()).find("trace.on_full"), std::string::npos);
  Options c = client_options("/nonexistent-dir/traces.db");
  EXPECT_EQ(llmkit_client_new(c.o, &bad), LLMKIT_INVALID_ARGUMENT);
  Options d = client_options(file(".db"));
  d.set("trace.queues", "5");
  EXPECT_EQ(llmkit_client_new(d.o, &bad), LLMKIT_INVALID_ARGUMENT);
}

TEST_F(TraceApi, AFullQueueDropsWithoutHoldingTheCall) {
  llmkit::test::PostgresServer server;
  server.stop();  // every batch fails: records pile up
  Options o = client_options(server.url());
  o.set("trace.queue", "2").set("trace.close_timeout_ms", "0");
  make_client(o);
  for (int i = 0; i < 6; ++i) ASSERT_EQ(chat(), LLMKIT_OK) << llmkit_last_error();
  // A batch in the writer's hands (one or two records), two queued, the
  // rest dropped.
  EXPECT_GE(stat("dropped"), 2);
  EXPECT_EQ(stat("dropped") + stat("queued"), 6);
}

}  // namespace
