using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Json;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using NUnit.Framework;

namespace Llmkit.Tests {

[TestFixture]
public class CacheTests {
  static readonly TimeSpan Long = TimeSpan.FromSeconds(30);  // waits that should end far sooner

  const string Chat = "{\"model\":\"gpt-4o-mini\",\"temperature\":0,\"max_tokens\":100," +
                      "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  // The options are disposed before the cache is used: it keeps a copy.
  static Cache NewCache(params string[] keyValues) {
    using (var o = new Options()) {
      for (int i = 0; i < keyValues.Length; i += 2) o.Set(keyValues[i], keyValues[i + 1]);
      return new Cache(o);
    }
  }

  static LlmkitException Fails(Status status, TestDelegate call) {
    var e = Assert.Throws<LlmkitException>(call);
    Assert.AreEqual(status, e.Status, e.Message);
    return e;
  }

  static string KeyOf(Cache cache, string request, string scope = "tenant-a", string provider = "openai") {
    CacheUse use;
    string key = cache.Key(scope, provider, request, out use);
    Assert.AreEqual(CacheUse.Use, use);
    return key;
  }

  static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

  // Polls `condition` until it holds, failing after Long.
  static void WaitUntil(Func<bool> condition, string what) {
    var clock = Stopwatch.StartNew();
    while (!condition()) {
      if (clock.Elapsed > Long) Assert.Fail("timed out waiting until " + what);
      Thread.Sleep(1);
    }
  }

  // Runs `body` on a new thread; Join() returns what it threw.
  sealed class Worker {
    readonly Thread thread;
    Exception error;

    public Worker(Action body) {
      thread = new Thread(() => {
        try {
          body();
        } catch (Exception e) {
          error = e;
        }
      });
      thread.IsBackground = true;  // a test that fails while it blocks must not hang the run
      thread.Start();
    }

    public Exception Join() {
      Assert.IsTrue(thread.Join(Long), "the thread is still running");
      return error;
    }
  }

  // ---- keys --------------------------------------------------------------

  [Test]
  public void Key_IgnoresKeyOrderNumberSpellingAndEscapes() {
    const string reordered = "{ \"messages\": [ {\"content\": \"h\\u0069\", \"role\": \"user\"} ],\n" +
                             "  \"max_tokens\": 100.0, \"temperature\": 0.0, \"model\": \"gpt-4o-mini\" }";
    using (var cache = NewCache())
    using (var other = NewCache()) {
      string key = KeyOf(cache, Chat);
      StringAssert.IsMatch("^[0-9a-f]{32}$", key);
      Assert.AreEqual(key, KeyOf(cache, reordered));
      Assert.AreEqual(key, KeyOf(cache, Chat.Replace("100", "1e2")));
      Assert.AreEqual(key, KeyOf(other, Chat), "a key depends on the request, not on the cache");
    }
  }

  [Test]
  public void Key_ChangesWithScopeProviderAndEveryAnswerField() {
    using (var cache = NewCache()) {
      string key = KeyOf(cache, Chat);
      Assert.AreNotEqual(key, KeyOf(cache, Chat, scope: "tenant-b"));
      Assert.AreNotEqual(key, KeyOf(cache, Chat, scope: ""));
      Assert.AreNotEqual(key, KeyOf(cache, Chat, provider: "anthropic"));
      Assert.AreNotEqual(key, KeyOf(cache, Chat.Replace("\"hi\"", "\"hello\"")));
      Assert.AreNotEqual(key, KeyOf(cache, Chat.Replace("100", "101")));
      Assert.AreNotEqual(key, KeyOf(cache, Chat.Replace("gpt-4o-mini", "gpt-4o")));
      Assert.AreEqual(KeyOf(cache, Chat, scope: null), KeyOf(cache, Chat, scope: ""), "no scope is null or \"\"");
    }
  }

  [Test]
  public void Key_OfUtf8Bytes_MatchesTheString() {
    using (var cache = NewCache()) {
      CacheUse use;
      Assert.AreEqual(KeyOf(cache, Chat), cache.Key("tenant-a", "openai", Bytes(Chat), null, out use));
      Assert.AreEqual(CacheUse.Use, use);
    }
  }

  [Test]
  public void Key_CallOptionCache_ChoosesTheUse() {
    using (var cache = NewCache())
    using (var call = new Options()) {
      string key = KeyOf(cache, Chat);
      CacheUse use;
      foreach (var pair in new[] { Tuple.Create("use", CacheUse.Use), Tuple.Create("bypass", CacheUse.Bypass),
                                   Tuple.Create("refresh", CacheUse.Refresh) }) {
        call["cache"] = pair.Item1;
        Assert.AreEqual(key, cache.Key("tenant-a", "openai", Chat, call, out use), "the key is filled in either way");
        Assert.AreEqual(pair.Item2, use, pair.Item1);
      }
      call["cache"] = "sometimes";
      StringAssert.Contains("sometimes", Fails(Status.InvalidArgument,
                                               () => cache.Key("", "openai", Chat, call, out use)).Message);
      call.Unset("cache");
      call["ttl"] = "5";
      Fails(Status.InvalidArgument, () => cache.Key("", "openai", Chat, call, out use));
    }
  }

  [Test]
  public void Key_TemperatureSkip_BypassesSampledRequests() {
    string sampled = Chat.Replace("\"temperature\":0", "\"temperature\":0.7");
    string unset = Chat.Replace("\"temperature\":0,", "");
    using (var skip = NewCache("temperature", "skip"))
    using (var keep = NewCache()) {
      CacheUse use;
      string key = skip.Key("", "openai", sampled, out use);
      Assert.AreEqual(CacheUse.Bypass, use);
      StringAssert.IsMatch("^[0-9a-f]{32}$", key);
      skip.Key("", "openai", unset, out use);
      Assert.AreEqual(CacheUse.Bypass, use, "no temperature is the provider's default, 1");
      skip.Key("", "openai", Chat, out use);
      Assert.AreEqual(CacheUse.Use, use, "temperature 0");
      Assert.AreEqual(key, keep.Key("", "openai", sampled, out use));
      Assert.AreEqual(CacheUse.Use, use, "\"cache\" is the default policy");
    }
  }

  // ---- get, put, TTL, invalidate, clear, stats ------------------------------

  [Test]
  public void Get_MissesThenHitsWithTheSameBytes() {
    byte[] value = { 0x7B, 0x00, 0xFF, 0x80, 0x0A, 0x00 };  // NULs and invalid UTF-8 included
    using (var cache = NewCache()) {
      string key = KeyOf(cache, Chat);
      Assert.IsNull(cache.Get(key));
      Assert.IsNull(cache.GetString(key));
      cache.Put(key, value);
      CollectionAssert.AreEqual(value, cache.Get(key));
      Assert.AreNotSame(cache.Get(key), cache.Get(key), "each Get is a copy");

      cache.Put(key, "héllo ✓ 😀");
      Assert.AreEqual("héllo ✓ 😀", cache.GetString(key));
      CollectionAssert.AreEqual(Bytes("héllo ✓ 😀"), cache.Get(key));

      cache.Put(key, new byte[0]);
      CollectionAssert.AreEqual(new byte[0], cache.Get(key), "an empty value is a hit, not a miss");
      Assert.AreEqual("", cache.GetString(key));
    }
  }

  [Test]
  public void Keys_AreCaseInsensitiveHex() {
    using (var cache = NewCache()) {
      string key = KeyOf(cache, Chat);
      cache.Put(key, "v");
      Assert.AreEqual("v", cache.GetString(key.ToUpperInvariant()));
    }
  }

  [Test]
  public void Put_WithAShortTtl_Expires() {
    using (var cache = NewCache()) {
      string shortKey = KeyOf(cache, Chat), longKey = KeyOf(cache, Chat, scope: "other");
      cache.Put(shortKey, "soon gone", TimeSpan.FromMilliseconds(100));
      cache.Put(longKey, "stays");  // the "ttl" option: an hour
      Assert.AreEqual("soon gone", cache.GetString(shortKey));
      var clock = Stopwatch.StartNew();
      WaitUntil(() => cache.Get(shortKey) == null, "the entry expired");
      Assert.GreaterOrEqual(clock.Elapsed, TimeSpan.FromMilliseconds(50));
      Assert.AreEqual("stays", cache.GetString(longKey));
      Assert.AreEqual(1UL, cache.Stat("expirations"));
    }
  }

  [Test]
  public void TtlOption_IsTheDefaultTtl() {
    using (var cache = NewCache("ttl", "1")) {
      string key = KeyOf(cache, Chat);
      cache.Put(key, "v");
      Assert.AreEqual("v", cache.GetString(key));
      WaitUntil(() => cache.Get(key) == null, "the entry expired after the 1 s ttl option");
    }
  }

  [Test]
  public void Put_WithANonPositiveTtl_ThrowsArgumentOutOfRange() {
    using (var cache = NewCache()) {
      string key = KeyOf(cache, Chat);
      Assert.Throws<ArgumentOutOfRangeException>(() => cache.Put(key, "v", TimeSpan.Zero));
      Assert.Throws<ArgumentOutOfRangeException>(() => cache.Put(key, new byte[1], TimeSpan.FromSeconds(-1)));
      cache.Put(key, "v", TimeSpan.FromTicks(1));  // rounds up to 1 ms, not down to "the default"
      Fails(Status.InvalidArgument, () => cache.Put(key, "v", TimeSpan.MaxValue));
      Assert.IsNull(cache.Get(KeyOf(cache, Chat, scope: "never put")));
    }
  }

  [Test]
  public void Invalidate_RemovesOneEntry_Clear_RemovesAll() {
    using (var cache = NewCache()) {
      string[] keys = { KeyOf(cache, Chat, "a"), KeyOf(cache, Chat, "b"), KeyOf(cache, Chat, "c") };
      foreach (string k in keys) cache.Put(k, k);
      Assert.AreEqual(3UL, cache.Stat("entries"));

      cache.Invalidate(keys[1]);
      Assert.IsNull(cache.Get(keys[1]));
      Assert.AreEqual(keys[0], cache.GetString(keys[0]));
      Assert.AreEqual(keys[2], cache.GetString(keys[2]));
      cache.Invalidate(keys[1]);  // nothing there: no error
      Assert.AreEqual(2UL, cache.Stat("entries"));

      cache.Clear();
      foreach (string k in keys) Assert.IsNull(cache.Get(k));
      Assert.AreEqual(0UL, cache.Stat("entries"));
      Assert.AreEqual(0UL, cache.Stat("bytes"));
      cache.Put(keys[0], "back");
      Assert.AreEqual("back", cache.GetString(keys[0]));
    }
  }

  [Test]
  public void Stats_CountHitsAndMisses() {
    using (var cache = NewCache()) {
      CacheStats empty = cache.Stats;
      Assert.AreEqual(0UL, empty.Hits + empty.Misses + empty.Entries + empty.Bytes + empty.Waits);

      string key = KeyOf(cache, Chat);
      cache.Get(key);
      cache.GetString(key);
      cache.Put(key, new byte[100]);
      for (int i = 0; i < 3; i++) cache.Get(key);

      CacheStats s = cache.Stats;
      Assert.AreEqual(3UL, s.Hits);
      Assert.AreEqual(2UL, s.Misses);
      Assert.AreEqual(1UL, s.Entries);
      Assert.GreaterOrEqual(s.Bytes, 100UL);
      Assert.AreEqual(0UL, s.Evictions + s.Expirations + s.Waits + s.BackendErrors);
      Assert.AreEqual(3UL, cache.Stat("hits"));
      Assert.AreEqual(2UL, cache.Stat("misses"));
      StringAssert.Contains("nope", Fails(Status.NotFound, () => cache.Stat("nope")).Message);
    }
  }

  [Test]
  public void MaxEntries_Evicts() {
    using (var cache = NewCache("max_entries", "4", "shards", "1")) {
      for (int i = 0; i < 20; i++) cache.Put(KeyOf(cache, Chat, "s" + i), "v");
      Assert.LessOrEqual(cache.Stat("entries"), 4UL);
      Assert.GreaterOrEqual(cache.Stat("evictions"), 16UL);
    }
  }

  // ---- GetOrFill -----------------------------------------------------------

  // Eight threads miss on one key at once: one fills, and it returns only
  // once the seven others are waiting on it, so they all see its value.
  [Test]
  public void GetOrFill_FromManyThreads_FillsOnce() {
    const int threads = 8;
    using (var cache = NewCache()) {
      string key = KeyOf(cache, Chat);
      int fills = 0;
      var results = new byte[threads][];
      var workers = Enumerable.Range(0, threads).Select(i => new Worker(() => {
        results[i] = cache.GetOrFill(key, Long, () => {
          Interlocked.Increment(ref fills);
          WaitUntil(() => cache.Stat("waits") >= threads - 1, "the others wait");
          return Bytes("the answer");
        });
      })).ToArray();
      foreach (var w in workers) Assert.IsNull(w.Join());
      Assert.AreEqual(1, fills);
      foreach (byte[] r in results) CollectionAssert.AreEqual(Bytes("the answer"), r);
      Assert.AreEqual((ulong)(threads - 1), cache.Stat("hits"), "the waiters got the filler's value");
      Assert.AreEqual(1UL, cache.Stat("misses"));
      Assert.AreEqual("the answer", cache.GetString(key));
    }
  }

  [Test]
  public void GetOrFill_OnAHit_DoesNotFill() {
    using (var cache = NewCache()) {
      string key = KeyOf(cache, Chat);
      cache.Put(key, "cached");
      CollectionAssert.AreEqual(Bytes("cached"), cache.GetOrFill(key, TimeSpan.Zero, () => {
        Assert.Fail("filled on a hit");
        return null;
      }));
    }
  }

  [Test]
  public void GetOrFill_WhenFillThrows_Propagates_AndTheNextCallerLeads() {
    using (var cache = NewCache()) {
      string key = KeyOf(cache, Chat);
      var thrown = new InvalidOperationException("upstream down");
      var caught = Assert.Throws<InvalidOperationException>(
          () => cache.GetOrFill(key, Long, () => { throw thrown; }));
      Assert.AreSame(thrown, caught);
      Assert.IsNull(cache.Get(key));

      // Abandoned, not left hanging: the next caller leads at once instead of
      // waiting its 30 s out on a filler that is gone.
      var clock = Stopwatch.StartNew();
      int fills = 0;
      byte[] v = cache.GetOrFill(key, Long, () => {
        fills++;
        return Bytes("second try");
      });
      Assert.Less(clock.Elapsed, TimeSpan.FromSeconds(5));
      Assert.AreEqual(1, fills);
      CollectionAssert.AreEqual(Bytes("second try"), v);
      Assert.AreEqual("second try", cache.GetString(key));
    }
  }

  [Test]
  public void GetOrFill_WhenTheFillerThrows_AWaiterFillsInstead() {
    using (var cache = NewCache()) {
      string key = KeyOf(cache, Chat);
      var filling = new ManualResetEventSlim();
      var leader = new Worker(() => cache.GetOrFill(key, Long, () => {
        filling.Set();
        WaitUntil(() => cache.Stat("waits") >= 1, "the other caller waits");
        throw new TimeoutException("upstream timed out");
      }));
      Assert.IsTrue(filling.Wait(Long));
      int fills = 0;
      byte[] v = cache.GetOrFill(key, Long, () => {
        fills++;
        return Bytes("from the waiter");
      });
      Assert.IsInstanceOf<TimeoutException>(leader.Join());
      Assert.AreEqual(1, fills);
      CollectionAssert.AreEqual(Bytes("from the waiter"), v);
      Assert.AreEqual("from the waiter", cache.GetString(key));
    }
  }

  [Test]
  public void GetOrFill_WhenTheWaitRunsOut_FillsItself() {
    using (var cache = NewCache())
    using (var release = new ManualResetEventSlim()) {
      string key = KeyOf(cache, Chat);
      var filling = new ManualResetEventSlim();
      var leader = new Worker(() => cache.GetOrFill(key, Long, () => {
        filling.Set();
        Assert.IsTrue(release.Wait(Long));
        return Bytes("slow");
      }));
      Assert.IsTrue(filling.Wait(Long));
      var clock = Stopwatch.StartNew();
      byte[] v = cache.GetOrFill(key, TimeSpan.FromMilliseconds(100), () => Bytes("impatient"));
      Assert.GreaterOrEqual(clock.Elapsed, TimeSpan.FromMilliseconds(90));
      CollectionAssert.AreEqual(Bytes("impatient"), v);
      Assert.AreEqual("impatient", cache.GetString(key), "the impatient caller stored its answer");
      release.Set();
      Assert.IsNull(leader.Join());
      Assert.AreEqual("slow", cache.GetString(key));
    }
  }

  // A waiter whose wait runs out must not strand the others waiting on the
  // same filler: the filler's put still wakes the 30 s waiter below.
  [Test]
  public void GetOrFill_AWaiterTimingOut_DoesNotStrandTheOthers() {
    using (var cache = NewCache())
    using (var release = new ManualResetEventSlim()) {
      string key = KeyOf(cache, Chat);
      var filling = new ManualResetEventSlim();
      var leader = new Worker(() => cache.GetOrFill(key, Long, () => {
        filling.Set();
        Assert.IsTrue(release.Wait(Long));
        return Bytes("slow");
      }));
      Assert.IsTrue(filling.Wait(Long));
      int patientFills = 0;
      byte[] patient = null;
      var patientWaiter = new Worker(() => patient = cache.GetOrFill(key, Long, () => {
        patientFills++;
        return Bytes("patient");
      }));
      WaitUntil(() => cache.Stat("waits") >= 1, "the patient caller waits");
      // Its wait runs out (or the flight is already older than it): it fills,
      // and its put is the first, which wakes the patient caller.
      CollectionAssert.AreEqual(Bytes("impatient"),
                                cache.GetOrFill(key, TimeSpan.FromMilliseconds(50), () => Bytes("impatient")));
      var clock = Stopwatch.StartNew();
      Assert.IsNull(patientWaiter.Join());
      Assert.Less(clock.Elapsed, TimeSpan.FromSeconds(5));
      Assert.AreEqual(0, patientFills);
      CollectionAssert.AreEqual(Bytes("impatient"), patient);
      release.Set();
      Assert.IsNull(leader.Join());
      CollectionAssert.AreEqual(Bytes("slow"), cache.Get(key));  // the last put wins
    }
  }

  [Test]
  public void GetOrFill_Cancelled_ThrowsOperationCanceledAtOnce() {
    using (var cache = NewCache())
    using (var release = new ManualResetEventSlim())
    using (var cts = new CancellationTokenSource()) {
      string key = KeyOf(cache, Chat);
      var filling = new ManualResetEventSlim();
      var leader = new Worker(() => cache.GetOrFill(key, Long, () => {
        filling.Set();
        Assert.IsTrue(release.Wait(Long));
        return Bytes("v");
      }));
      Assert.IsTrue(filling.Wait(Long));
      bool filled = false;
      var waiter = new Worker(() => cache.GetOrFill(key, Timeout.InfiniteTimeSpan, () => {
        filled = true;
        return Bytes("w");
      }, cts.Token));
      WaitUntil(() => cache.Stat("waits") >= 1, "the caller waits");
      var clock = Stopwatch.StartNew();
      cts.Cancel();
      var e = waiter.Join();
      Assert.Less(clock.Elapsed, TimeSpan.FromSeconds(1));
      Assert.IsInstanceOf<OperationCanceledException>(e);
      Assert.AreEqual(cts.Token, ((OperationCanceledException)e).CancellationToken);
      Assert.AreEqual(Status.Cancelled, ((LlmkitException)e.InnerException).Status);
      Assert.IsFalse(filled);

      Assert.Throws<OperationCanceledException>(() => cache.GetOrFill(key, Long, () => Bytes("x"), cts.Token));
      Assert.IsFalse(filled);
      release.Set();
      Assert.IsNull(leader.Join());
      Assert.AreEqual("v", cache.GetString(key));
    }
  }

  [Test]
  public void GetOrFill_BadArguments_AreRefusedBeforeFilling() {
    using (var cache = NewCache()) {
      string key = KeyOf(cache, Chat);
      Func<byte[]> never = () => {
        Assert.Fail("filled");
        return null;
      };
      Fails(Status.InvalidArgument, () => cache.GetOrFill("not a key", Long, never));
      Assert.Throws<ArgumentOutOfRangeException>(() => cache.GetOrFill(key, TimeSpan.FromSeconds(-1), never));
      Assert.Throws<ArgumentNullException>(() => cache.GetOrFill(key, Long, null));
      Assert.Throws<InvalidOperationException>(() => cache.GetOrFill(key, Long, () => null));
      Assert.AreEqual("ok", Encoding.UTF8.GetString(cache.GetOrFill(key, TimeSpan.Zero, () => Bytes("ok"))),
                      "the null fill was abandoned");
    }
  }

  // ---- embeddings ------------------------------------------------------------

  // A provider whose embedding of a text is [its length, its first character's
  // code]; it answers in reverse order, with "index", and counts a token per input.
  sealed class FakeEmbeddings {
    public readonly List<string[]> Requests = new List<string[]>();
    public string Model;

    public string Call(string request) {
      JsonValue r = JsonValue.Parse(request);
      Model = (string)r["model"];
      string[] inputs = ((JsonArray)r["input"]).Select(v => (string)v).ToArray();
      Requests.Add(inputs);
      var data = new JsonArray();
      for (int i = inputs.Length - 1; i >= 0; i--) {
        data.Add(new JsonObject { { "object", "embedding" }, { "index", i },
                                  { "embedding", new JsonArray(inputs[i].Length, (int)inputs[i][0]) } });
      }
      var usage = new JsonObject { { "prompt_tokens", inputs.Length }, { "total_tokens", inputs.Length } };
      return new JsonObject { { "object", "list" }, { "data", data }, { "model", Model }, { "usage", usage } }
          .ToString();
    }
  }

  static string EmbeddingsRequest(params string[] inputs) =>
      new JsonObject { { "model", "text-embedding-3-small" }, { "dimensions", 2 },
                       { "input", new JsonArray(inputs.Select(s => (JsonValue)s)) } }.ToString();

  static void AssertEmbeddings(string response, params string[] inputs) {
    JsonArray data = (JsonArray)JsonValue.Parse(response)["data"];
    Assert.AreEqual(inputs.Length, data.Count);
    for (int i = 0; i < inputs.Length; i++) {
      Assert.AreEqual(i, (int)data[i]["index"]);
      JsonArray e = (JsonArray)data[i]["embedding"];
      Assert.AreEqual(inputs[i].Length, (int)e[0], inputs[i]);
      Assert.AreEqual((int)inputs[i][0], (int)e[1], inputs[i]);
    }
  }

  [Test]
  public void Embeddings_AskUpstreamOnlyForTheMisses() {
    using (var cache = NewCache()) {
      var provider = new FakeEmbeddings();
      string first = cache.Embeddings("t", "openai", EmbeddingsRequest("alpha", "beta", "gamma"), provider.Call);
      Assert.AreEqual(1, provider.Requests.Count);
      CollectionAssert.AreEqual(new[] { "alpha", "beta", "gamma" }, provider.Requests[0]);
      Assert.AreEqual("text-embedding-3-small", provider.Model);
      AssertEmbeddings(first, "alpha", "beta", "gamma");
      Assert.AreEqual(3, (int)JsonValue.Parse(first)["usage"]["prompt_tokens"]);

      string second = cache.Embeddings("t", "openai", EmbeddingsRequest("gamma", "delta", "alpha"), provider.Call);
      Assert.AreEqual(2, provider.Requests.Count);
      CollectionAssert.AreEqual(new[] { "delta" }, provider.Requests[1], "only the new input goes upstream");
      AssertEmbeddings(second, "gamma", "delta", "alpha");
      Assert.AreEqual(1, (int)JsonValue.Parse(second)["usage"]["prompt_tokens"], "usage counts the misses");

      string third = cache.Embeddings("t", "openai", EmbeddingsRequest("delta", "beta"), provider.Call);
      Assert.AreEqual(2, provider.Requests.Count, "all cached: no upstream call");
      AssertEmbeddings(third, "delta", "beta");
      Assert.AreEqual(0, (int)JsonValue.Parse(third)["usage"]["prompt_tokens"]);

      cache.Embeddings("other tenant", "openai", EmbeddingsRequest("alpha"), provider.Call);
      CollectionAssert.AreEqual(new[] { "alpha" }, provider.Requests[2], "scopes do not share embeddings");
    }
  }

  [Test]
  public void Embeddings_BadRequestsAndAnswers_Throw() {
    using (var cache = NewCache()) {
      var provider = new FakeEmbeddings();
      Fails(Status.InvalidArgument, () => cache.Embeddings("", "openai", "{\"model\":\"m\"", provider.Call));
      Fails(Status.InvalidArgument, () => cache.Embeddings("", "openai", "{\"model\":\"m\"}", provider.Call));
      Assert.AreEqual(0, provider.Requests.Count);

      string request = EmbeddingsRequest("a", "b");
      var e = Fails(Status.ProviderError, () => cache.Embeddings("", "openai", request,
                                                                   r => "{\"data\":[{\"index\":0,\"embedding\":[1,2]}]}"));
      StringAssert.Contains("1 embeddings for 2 inputs", e.Message);
      Fails(Status.ProviderError,
            () => cache.Embeddings("", "openai", request, r => "{\"error\":{\"message\":\"quota\"}}"));
      Assert.Throws<InvalidOperationException>(() => cache.Embeddings("", "openai", request, r => null));
      var thrown = new InvalidOperationException("network down");
      Assert.AreSame(thrown, Assert.Throws<InvalidOperationException>(
                                 () => cache.Embeddings("", "openai", request, r => { throw thrown; })));
      Assert.AreEqual(0UL, cache.Stat("entries"), "nothing was stored from the failed answers");
      AssertEmbeddings(cache.Embeddings("", "openai", request, provider.Call), "a", "b");
    }
  }

  // ---- replay ----------------------------------------------------------------

  static string Completion(string content, bool usage = true) {
    var completion = new JsonObject {
      { "id", "chatcmpl-1" }, { "object", "chat.completion" }, { "created", 1700000000 }, { "model", "gpt-4o" },
      { "choices", new JsonArray(new JsonObject {
          { "index", 0 },
          { "message", new JsonObject { { "role", "assistant" }, { "content", content } } },
          { "finish_reason", "stop" } }) },
    };
    if (usage) {
      completion["usage"] = new JsonObject { { "prompt_tokens", 5 }, { "completion_tokens", 7 }, { "total_tokens", 12 } };
    }
    return completion.ToString();
  }

  [Test]
  public void Replay_ContentDeltas_AddUpToTheContent() {
    string content = string.Concat(Enumerable.Repeat("Héllo, \"wörld\" ✓ 😀\n\\ ", 12));
    string[] chunks = Cache.Replay(Completion(content), 16).ToArray();
    JsonValue[] parsed = chunks.Select(c => JsonValue.Parse(c)).ToArray();
    foreach (JsonValue c in parsed) {
      Assert.AreEqual("chat.completion.chunk", (string)c["object"]);
      Assert.AreEqual("chatcmpl-1", (string)c["id"]);
    }

    Assert.AreEqual("assistant", (string)parsed[0]["choices"][0]["delta"]["role"]);
    var text = new StringBuilder();
    int pieces = 0;
    foreach (JsonValue c in parsed.Skip(1)) {
      JsonArray choices = (JsonArray)c["choices"];
      if (choices.Count == 0) continue;
      JsonObject delta = (JsonObject)choices[0]["delta"];
      if (!delta.ContainsKey("content")) continue;
      string piece = (string)delta["content"];
      Assert.LessOrEqual(Encoding.UTF8.GetByteCount(piece), 16, "a piece is at most pieceBytes");
      text.Append(piece);
      pieces++;
    }
    Assert.AreEqual(content, text.ToString());
    Assert.GreaterOrEqual(pieces, Encoding.UTF8.GetByteCount(content) / 16);

    JsonValue finish = parsed[parsed.Length - 2]["choices"][0];
    Assert.AreEqual("stop", (string)finish["finish_reason"]);
    Assert.AreEqual(12, (int)parsed[parsed.Length - 1]["usage"]["total_tokens"]);

    CollectionAssert.AreEqual(chunks, Cache.Replay(Completion(content), 16).ToList());
    Assert.AreEqual(chunks.Length - 1, Cache.Replay(Completion(content, false), 16).Count());
  }

  [Test]
  public void Replay_CanBeEnumeratedAgain() {
    IEnumerable<string> replay = Cache.Replay(Completion("abc"));
    string[] once = replay.ToArray();
    Assert.Greater(once.Length, 2);
    CollectionAssert.AreEqual(once, replay.ToArray());
    StringAssert.Contains("\"content\":\"abc\"", once[1], "64-byte pieces: one for \"abc\"");
  }

  [Test]
  public void Replay_BadInput_ThrowsBeforeEnumerating() {
    Fails(Status.InvalidArgument, () => Cache.Replay("{\"object\":"));
    StringAssert.Contains("not a chat completion",
                          Fails(Status.InvalidArgument, () => Cache.Replay("{\"object\":\"list\"}")).Message);
    Assert.Throws<ArgumentOutOfRangeException>(() => Cache.Replay(Completion("x"), 0));
    Assert.Throws<ArgumentNullException>(() => Cache.Replay(null));
  }

  // ---- bad input, options, lifetime --------------------------------------------

  [Test]
  public void BadKeysAndRequests_ThrowInvalidArgument() {
    using (var cache = NewCache()) {
      StringAssert.Contains("32 hex digits", Fails(Status.InvalidArgument, () => cache.Get("xyz")).Message);
      Fails(Status.InvalidArgument, () => cache.Get(new string('g', 32)));
      Fails(Status.InvalidArgument, () => cache.Get(""));
      Fails(Status.InvalidArgument, () => cache.Get(null));
      Fails(Status.InvalidArgument, () => cache.Put("xyz", "v"));
      Fails(Status.InvalidArgument, () => cache.Invalidate("xyz"));
      Assert.Catch<ArgumentException>(() => cache.Get("bad \uD800 key"));

      CacheUse use;
      Fails(Status.InvalidArgument, () => cache.Key("", "openai", "{\"model\":", out use));
      Fails(Status.InvalidArgument, () => cache.Key("", "openai", "[1,2]", out use));
      Fails(Status.InvalidArgument, () => cache.Key("", "openai", new byte[] { 0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A,
                                                                              0x31, 0x7D }, null, out use));
      Fails(Status.InvalidArgument, () => cache.Key("", null, Chat, out use));
      Assert.Throws<ArgumentNullException>(() => cache.Key("", "openai", (string)null, out use));
      Assert.Throws<ArgumentNullException>(() => cache.Put(KeyOf(cache, Chat), (byte[])null));
      Assert.AreEqual(0UL, cache.Stat("entries"));
    }
  }

  [Test]
  public void BadOptions_ThrowInvalidArgumentNamingThem() {
    StringAssert.Contains("bogus", Fails(Status.InvalidArgument, () => NewCache("bogus", "1")).Message);
    StringAssert.Contains("sometimes",
                          Fails(Status.InvalidArgument, () => NewCache("temperature", "sometimes")).Message);
    Fails(Status.InvalidArgument, () => NewCache("backend", "floppy"));
    Assert.Throws<ArgumentNullException>(() => new Cache(null));
  }

  [Test]
  public void Options_AreCopiedAtConstruction() {
    using (var o = new Options()) {
      o["temperature"] = "skip";
      using (var cache = new Cache(o)) {
        o["temperature"] = "cache";
        CacheUse use;
        cache.Key("", "openai", Chat.Replace("\"temperature\":0", "\"temperature\":1"), out use);
        Assert.AreEqual(CacheUse.Bypass, use);
      }
    }
  }

  [Test]
  public void Use_AfterDispose_ThrowsObjectDisposedException() {
    var cache = NewCache();
    string key = KeyOf(cache, Chat);
    cache.Dispose();
    cache.Dispose();
    CacheUse use;
    Assert.Throws<ObjectDisposedException>(() => cache.Key("", "openai", Chat, out use));
    Assert.Throws<ObjectDisposedException>(() => cache.Get(key));
    Assert.Throws<ObjectDisposedException>(() => cache.Put(key, "v"));
    Assert.Throws<ObjectDisposedException>(() => cache.GetOrFill(key, Long, () => new byte[0]));
    Assert.Throws<ObjectDisposedException>(() => cache.Invalidate(key));
    Assert.Throws<ObjectDisposedException>(() => cache.Clear());
    Assert.Throws<ObjectDisposedException>(() => cache.Stat("hits"));
    Assert.Throws<ObjectDisposedException>(() => cache.Embeddings("", "openai", EmbeddingsRequest("a"), r => r));
  }
}

}
