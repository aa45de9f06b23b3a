using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Json;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Llmkit.Tests {

// Provider calls against test/upstream/upstream.py, the fake provider:
// every wire format, streaming, faults, cancellation, async calls,
// embeddings, and requests built from every field.
[TestFixture]
public class ClientTests : UpstreamTest {
  static readonly TimeSpan Long = TimeSpan.FromSeconds(30);  // waits that should end far sooner
  const string Key = "sk-test-never-print-me";

  static readonly string[] Providers = { "openai", "anthropic", "gemini", "ollama" };

  // The upstream's default fixtures per provider: whole answer, stream.
  static readonly Dictionary<string, string[]> Fixtures = new Dictionary<string, string[]> {
    ["openai"] = new[] { "openai/chat_completion_text", "openai/stream_text_usage" },
    ["anthropic"] = new[] { "anthropic/message_text", "anthropic/stream_text" },
    ["gemini"] = new[] { "gemini/generate_text", "gemini/stream_text" },
    ["ollama"] = new[] { "ollama/chat_structured_text", "ollama/stream_thinking_text" },
  };

  readonly List<IDisposable> disposables = new List<IDisposable>();

  [SetUp]
  public void ClearLog() {
    upstream.ClearRequests();
  }

  [TearDown]
  public void DisposeAll() {
    foreach (IDisposable d in disposables) d.Dispose();
    disposables.Clear();
  }

  // A client of `provider` on the upstream; keyValues add options.
  Client Make(string provider, params string[] keyValues) {
    Client client = UpstreamClient(provider, Key, keyValues);
    disposables.Add(client);
    return client;
  }

  Options Call(params string[] keyValues) {
    Options o = Opts(keyValues);
    disposables.Add(o);
    return o;
  }

  // A test client's options: one try per call ("retry.attempts" "1"), so
  // that a test injecting a fault sees the faulty answer at once; then
  // keyValues, which may override it.
  internal static Options ClientOpts(params string[] keyValues) =>
      Opts(new[] { "retry.attempts", "1" }.Concat(keyValues).ToArray());

  internal static Options Opts(params string[] keyValues) {
    var o = new Options();
    for (int i = 0; i < keyValues.Length; i += 2) o[keyValues[i]] = keyValues[i + 1];
    return o;
  }

  internal static ChatRequest Hello() => new ChatRequest { Model = "m", Messages = { Message.User("Hello") } };

  internal static LlmkitException Fails(Status status, TestDelegate call) {
    var e = Assert.Throws<LlmkitException>(call);
    Assert.AreEqual(status, e.Status, e.Message);
    return e;
  }

  static string ExpectedText(string fixture) => (string)Upstream.Expected(fixture)["text"];

  // FinishReason.ToolCalls -> "tool_calls", the normalised JSON's spelling.
  static string Snake(Enum e) => Regex.Replace(e.ToString(), "(?<=[a-z])(?=[A-Z])", "_").ToLowerInvariant();

  static T Await<T>(Task<T> task) {
    Assert.IsTrue(((IAsyncResult)task).AsyncWaitHandle.WaitOne(Long), "the task did not end");
    return task.GetAwaiter().GetResult();  // throws what faulted it, not an AggregateException
  }

  // ---- whole and streamed calls --------------------------------------------

  [Test]
  public void Chat_EachProviderAnswersAWholeCall() {
    foreach (string p in Providers) {
      Client client = Make(p);
      Response r = client.Chat(Hello());
      JsonObject expected = Upstream.Expected(Fixtures[p][0]);
      Assert.AreEqual((string)expected["text"], r.Text, p);
      Assert.AreEqual((string)expected["reasoning"], r.Reasoning, p);
      Assert.AreEqual((string)expected["finish_reason"], Snake(r.FinishReason), p);
      Assert.IsNotEmpty(r.FinishReasonRaw, p);
      JsonValue usage = expected["usage"];
      Assert.AreEqual((long)usage["input_tokens"], r.Usage.InputTokens, p);
      Assert.AreEqual((long)usage["output_tokens"], r.Usage.OutputTokens, p);
      Assert.AreEqual((long)usage["cached_input_tokens"], r.Usage.CachedInputTokens, p);
      Assert.AreEqual((long)usage["cache_write_tokens"], r.Usage.CacheWriteTokens, p);
      Assert.AreEqual((long)usage["reasoning_tokens"], r.Usage.ReasoningTokens, p);
      Assert.AreEqual(p, r.Provider);
      Assert.AreEqual(Status.Ok, r.Status);
      Assert.AreEqual(200, r.HttpStatus, p);
      Assert.IsNull(r.RetryAfter, p);
      Assert.Greater(r.Latency, TimeSpan.Zero, p);
      Assert.IsNull(r.FirstToken, "not streamed");
      Assert.AreEqual("", r.Raw, "raw only when asked");
      Assert.AreEqual("", r.ErrorMessage);
      Assert.IsEmpty(r.ToolCalls);
      Assert.AreEqual(r.Text, (string)JsonValue.Parse(r.Json)["text"], p);
      Assert.AreEqual(r.Text, r.ToString());
    }
  }

  [Test]
  public void Chat_Streamed_ChunksAddUpToTheAnswer() {
    foreach (string p in Providers) {
      Client client = Make(p);
      var text = new StringBuilder();
      var reasoning = new StringBuilder();
      int chunks = 0;
      int thread = Thread.CurrentThread.ManagedThreadId;
      Response r = client.Chat(Hello(), chunk => {
        Assert.AreEqual(thread, Thread.CurrentThread.ManagedThreadId, "a blocking call's chunks arrive on its thread");
        (chunk.Kind == ChunkKind.Reasoning ? reasoning : text).Append(chunk.Text);
        chunks++;
      });
      Assert.AreEqual(ExpectedText(Fixtures[p][1]), text.ToString(), p);
      Assert.AreEqual(r.Text, text.ToString(), p);
      Assert.AreEqual(r.Reasoning, reasoning.ToString(), p);
      Assert.Greater(chunks, 1, p);
      Assert.AreEqual(chunks, r.Chunks, p);
      Assert.IsNotNull(r.FirstToken, p);
      Assert.LessOrEqual(r.FirstToken.Value, r.Latency, p);
      Assert.GreaterOrEqual(r.MaxGap, TimeSpan.Zero, p);
    }
  }

  [Test]
  public void Chat_StreamOption_StreamsWithoutACallback() {
    Client client = Make("openai");
    Response r = client.Chat(Hello(), Call("stream", "true"));
    Assert.AreEqual(ExpectedText("openai/stream_text_usage"), r.Text);
    Assert.IsNotNull(r.FirstToken);
    Assert.AreEqual(78, r.Usage.InputTokens);
    Assert.Greater(r.OutputTokensPerSecond, 0);
  }

  [Test]
  public void Chat_ThrowingCallback_StopsTheStreamAndTheExceptionSurfaces() {
    Client client = Make("openai");
    var thrown = new InvalidOperationException("enough");
    int chunks = 0;
    var clock = Stopwatch.StartNew();
    var caught = Assert.Throws<InvalidOperationException>(() => client.Chat(Hello(), chunk => {
      if (++chunks == 2) throw thrown;
    }, Call("header.x-upstream-fault", "drip=300")));
    Assert.AreSame(thrown, caught);
    Assert.AreEqual(2, chunks, "no chunk after the throw");
    Assert.Less(clock.Elapsed, TimeSpan.FromSeconds(2.5), "the whole stream drips for 3.6 s");
  }

  [Test]
  public void Chat_CancelledFromTheCallback_ThrowsOperationCanceled() {
    Client client = Make("anthropic");
    using (var cts = new CancellationTokenSource()) {
      int chunks = 0;
      var e = Assert.Throws<OperationCanceledException>(() => client.Chat(Hello(), chunk => {
        if (++chunks == 1) cts.Cancel();
      }, Call("header.x-upstream-fault", "drip=100"), cts.Token));
      Assert.AreEqual(cts.Token, e.CancellationToken);
      Assert.AreEqual(1, chunks);
    }
  }

  [Test]
  public void Chat_CancellationToken_EndsADelayedCallAtOnce() {
    Client client = Make("openai");
    using (var cts = new CancellationTokenSource()) {
      cts.CancelAfter(200);
      var clock = Stopwatch.StartNew();
      var e = Assert.Throws<OperationCanceledException>(
          () => client.Chat(Hello(), Call("header.x-upstream-fault", "delay=5000"), cts.Token));
      Assert.Less(clock.Elapsed, TimeSpan.FromSeconds(3));
      Assert.AreEqual(cts.Token, e.CancellationToken);
      Assert.IsInstanceOf<LlmkitException>(e.InnerException);
      Assert.AreEqual(Status.Cancelled, ((LlmkitException)e.InnerException).Status);
      // A token cancelled before the call: nothing is sent.
      Assert.Throws<OperationCanceledException>(() => client.Chat(Hello(), null, cts.Token));
    }
  }

  [Test]
  public void Chat_TimeoutOption_EndsTheCall() {
    Client client = Make("openai", "timeout.first_byte", "200");
    var clock = Stopwatch.StartNew();
    var e = Fails(Status.Timeout, () => client.Chat(Hello(), Call("header.x-upstream-fault", "delay=3000")));
    Assert.Less(clock.Elapsed, TimeSpan.FromSeconds(2.5));
    Assert.IsNull(e.Response, "no answer arrived");
  }

  // ---- provider errors -----------------------------------------------------

  [Test]
  public void Chat_RateLimited_CarriesTheResponseWithRetryAfter() {
    Client client = Make("openai");
    var e = Fails(Status.RateLimited,
                  () => client.Chat(Hello(), Call("header.x-upstream-fault", "status=429,retry_after=2")));
    StringAssert.Contains("injected status", e.Message);
    Assert.IsNotNull(e.Response);
    Assert.AreEqual(TimeSpan.FromSeconds(2), e.Response.RetryAfter);
    Assert.AreEqual(429, e.Response.HttpStatus);
    Assert.AreEqual(Status.RateLimited, e.Response.Status);
    Assert.AreEqual(FinishReason.Error, e.Response.FinishReason);
    StringAssert.Contains("injected status", e.Response.ErrorMessage);
    Assert.AreEqual("", e.Response.Text);
  }

  [Test]
  public void Chat_AnthropicOverloaded_IsStatusOverloaded() {
    Client client = Make("anthropic");
    var e = Fails(Status.Overloaded, () => client.Chat(Hello(), Call("header.x-upstream-fault", "status=529")));
    Assert.AreEqual(529, e.Response.HttpStatus);
    Assert.AreEqual(Status.Overloaded, e.Response.Status);
    Assert.IsNull(e.Response.RetryAfter);
  }

  [Test]
  public void Chat_OtherProviderErrors_MapToTheirStatuses() {
    var cases = new[] {
      Tuple.Create("gemini", "status=503", Status.Overloaded),
      Tuple.Create("openai", "status=500", Status.ProviderError),
      Tuple.Create("anthropic", "status=401", Status.Auth),
      Tuple.Create("gemini", "status=400", Status.InvalidArgument),
      Tuple.Create("ollama", "status=404", Status.NotFound),
      Tuple.Create("openai", "status=429,retry_after_ms=1500", Status.RateLimited),
    };
    foreach (var c in cases) {
      Client client = Make(c.Item1);
      var e = Fails(c.Item3, () => client.Chat(Hello(), Call("header.x-upstream-fault", c.Item2)));
      Assert.IsNotNull(e.Response, c.Item2);
      Assert.AreEqual(c.Item3, e.Response.Status, c.Item2);
      StringAssert.DoesNotContain(Key, e.Message + e.Response.Json);
    }
  }

  [Test]
  public void Chat_TruncatedStream_IsANetworkError() {
    Client client = Make("openai");
    var text = new StringBuilder();
    var e = Fails(Status.Network, () => client.Chat(Hello(), chunk => text.Append(chunk.Text),
                                                    Call("header.x-upstream-fault", "truncate")));
    StringAssert.Contains("stream truncated", e.Message);
    Fails(Status.Network, () => client.Chat(Hello(), Call("header.x-upstream-fault", "truncate", "stream", "true")));
  }

  // ---- retries, circuit breakers, cost ---------------------------------------

  [Test]
  public void Retry_CuresATransientFailure() {
    Client client = Make("openai", "retry.attempts", "3", "retry.base_ms", "5");
    Response r = client.Chat(Hello(), Call("header.x-upstream-fault", "status=503,times=1,id=csharp-retry"));
    Assert.AreEqual(Status.Ok, r.Status);
    Assert.AreEqual(2, r.Attempts);
    Assert.AreEqual(2, upstream.Requests().Count);
  }

  [Test]
  public void OpenCircuit_FailsCallsAtOnceWithoutARequest() {
    Client client = Make("openai", "breaker.min_calls", "2", "breaker.failure_rate", "1", "breaker.open_ms", "60000");
    Fails(Status.NotFound, () => client.BreakerStats("m"));
    Fails(Status.ProviderError, () => client.Chat(Hello(), Call("header.x-upstream-fault", "status=500")));
    BreakerStats s = client.BreakerStats("m");
    Assert.AreEqual(new object[] { BreakerState.Closed, 1L, 1L }, new object[] { s.State, s.Calls, s.Failures });
    Fails(Status.ProviderError, () => client.Chat(Hello(), Call("header.x-upstream-fault", "status=500")));
    s = client.BreakerStats("m");
    Assert.AreEqual(new object[] { BreakerState.Open, 1L, 0L }, new object[] { s.State, s.Opened, s.Rejected });
    Assert.Greater(s.RetryIn, TimeSpan.Zero);
    Assert.LessOrEqual(s.RetryIn, TimeSpan.FromMinutes(1));
    upstream.ClearRequests();
    var clock = Stopwatch.StartNew();
    var e = Fails(Status.Unavailable, () => client.Chat(Hello()));
    Assert.Less(clock.Elapsed, TimeSpan.FromSeconds(1));
    Assert.IsNull(e.Response, "no request, no answer");
    Assert.AreEqual(0, upstream.Requests().Count);
    Assert.AreEqual(1L, client.BreakerStats("m").Rejected);
  }

  [Test]
  public void Response_HasItsCostAndAttempts() {
    Response r = Make("openai", "prices", Upstream.Prices).Chat(Hello());
    Assert.AreEqual(Upstream.Cost, r.CostUsd.Value, 1e-12);
    Assert.AreEqual(1, r.Attempts);
    Assert.IsNull(Make("ollama").Chat(Hello()).CostUsd, "ollama has no price unless given one");
  }

  [Test]
  public void Raw_KeepsTheBodyWhenAsked() {
    Client client = Make("openai");
    Response r = client.Chat(Hello(), Call("raw", "true"));
    Assert.AreEqual(JsonValue.Parse(Upstream.Fixture("openai/chat_completion_text.json")).ToString(),
                    JsonValue.Parse(r.Raw).ToString());
    Assert.IsNotEmpty(r.Id);
    StringAssert.Contains(r.Id, r.Raw);
  }

  // ---- tool calls ------------------------------------------------------------

  [Test]
  public void Chat_ToolCalls_FromTheAnthropicToolUseFixture() {
    Client client = Make("anthropic");
    Response r = client.Chat(Hello(), Call("header.x-upstream-fixture", "anthropic/tool_use"));
    var expected = (JsonArray)Upstream.Expected("anthropic/tool_use")["tool_calls"];
    Assert.AreEqual(FinishReason.ToolCalls, r.FinishReason);
    Assert.AreEqual("tool_use", r.FinishReasonRaw);
    Assert.AreEqual(expected.Count, r.ToolCalls.Count);
    for (int i = 0; i < expected.Count; i++) {
      Assert.AreEqual((string)expected[i]["id"], r.ToolCalls[i].Id);
      Assert.AreEqual((string)expected[i]["name"], r.ToolCalls[i].Name);
      Assert.AreEqual((string)expected[i]["arguments"], r.ToolCalls[i].Arguments);
    }
    Assert.AreEqual(762, r.Usage.InputTokens);
  }

  [Test]
  public void Chat_StreamedToolCall_ArrivesInPieces() {
    Client client = Make("anthropic");
    var args = new StringBuilder();
    var names = new List<string>();
    var ids = new List<string>();
    Response r = client.Chat(Hello(), chunk => {
      if (chunk.Kind != ChunkKind.ToolCall) return;
      Assert.AreEqual(0, chunk.ToolIndex);
      args.Append(chunk.Text);
      if (chunk.ToolName != "") names.Add(chunk.ToolName);
      if (chunk.ToolId != "") ids.Add(chunk.ToolId);
    }, Call("header.x-upstream-fixture", "anthropic/stream_tool_use", "header.x-upstream-fault", "chunk=7"));
    Assert.AreEqual(1, r.ToolCalls.Count);
    Assert.AreEqual(r.ToolCalls[0].Arguments, args.ToString());
    CollectionAssert.AreEqual(new[] { r.ToolCalls[0].Name }, names);
    CollectionAssert.AreEqual(new[] { r.ToolCalls[0].Id }, ids);
    Assert.AreEqual(FinishReason.ToolCalls, r.FinishReason);
  }

  // ---- requests --------------------------------------------------------------

  const string Png = "data:image/png;base64,iVBORw0KGgo=";
  const string Schema = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}";

  static ChatRequest Everything() => new ChatRequest {
    Model = "gpt-test",
    SystemPrompt = "Be brief.",
    Messages = {
      Message.User("What is in these?", ContentPart.FromImage("https://example.com/cat.png"),
                   ContentPart.FromImage(Png)),
      Message.Assistant("Let me look it up.",
                        new[] { new ToolCall("call_1", "get_weather", "{\"city\":\"Paris\"}") }),
      Message.ToolResult("call_1", "{\"temp_c\":18}"),
      Message.User(ContentPart.FromImage(Png), "image first"),
    },
    Tools = { new Tool("get_weather", "The weather in a city", Schema), new Tool("noop") },
    ToolChoice = "get_weather",
    ResponseFormat = Schema,
    Temperature = 0.25,
    TopP = 0.5,
    MaxTokens = 123,
    Seed = 42,
    Stop = { "END", "STOP" },
    Extra = "{\"user\":\"u-7\",\"logit_bias\":{\"50256\":-100}}",
  };

  [Test]
  public void Request_WithEveryField_ReachesOpenAI() {
    Client client = Make("openai");
    client.Chat(Everything());
    JsonObject body = upstream.OnlyRequestBody();
    Assert.AreEqual("gpt-test", (string)body["model"]);
    Assert.AreEqual(0.25, (double)body["temperature"]);
    Assert.AreEqual(0.5, (double)body["top_p"]);
    Assert.AreEqual(123, (int)body["max_completion_tokens"]);
    Assert.AreEqual(42, (int)body["seed"]);
    CollectionAssert.AreEqual(new[] { "END", "STOP" }, ((JsonArray)body["stop"]).Select(s => (string)s));
    Assert.AreEqual("u-7", (string)body["user"], "extra is merged in");
    Assert.AreEqual(-100, (int)body["logit_bias"]["50256"]);
    Assert.AreEqual("json_schema", (string)body["response_format"]["type"]);
    Assert.AreEqual("object", (string)body["response_format"]["json_schema"]["schema"]["type"]);
    Assert.AreEqual("get_weather", (string)body["tool_choice"]["function"]["name"]);

    var tools = (JsonArray)body["tools"];
    Assert.AreEqual(2, tools.Count);
    Assert.AreEqual("get_weather", (string)tools[0]["function"]["name"]);
    Assert.AreEqual("The weather in a city", (string)tools[0]["function"]["description"]);
    Assert.AreEqual("string", (string)tools[0]["function"]["parameters"]["properties"]["city"]["type"]);
    Assert.AreEqual("noop", (string)tools[1]["function"]["name"]);

    var messages = (JsonArray)body["messages"];
    Assert.AreEqual(5, messages.Count);
    Assert.AreEqual("system", (string)messages[0]["role"]);
    StringAssert.Contains("Be brief.", messages[0].ToString());
    Assert.AreEqual("user", (string)messages[1]["role"]);
    var parts = (JsonArray)messages[1]["content"];
    Assert.AreEqual(3, parts.Count);
    Assert.AreEqual("What is in these?", (string)parts[0]["text"]);
    Assert.AreEqual("https://example.com/cat.png", (string)parts[1]["image_url"]["url"]);
    Assert.AreEqual(Png, (string)parts[2]["image_url"]["url"]);
    Assert.AreEqual("assistant", (string)messages[2]["role"]);
    StringAssert.Contains("Let me look it up.", messages[2]["content"].ToString());
    JsonValue call = messages[2]["tool_calls"][0];
    Assert.AreEqual("call_1", (string)call["id"]);
    Assert.AreEqual("get_weather", (string)call["function"]["name"]);
    Assert.AreEqual("Paris", (string)JsonValue.Parse((string)call["function"]["arguments"])["city"]);
    Assert.AreEqual("tool", (string)messages[3]["role"]);
    Assert.AreEqual("call_1", (string)messages[3]["tool_call_id"]);
    StringAssert.Contains("temp_c", messages[3]["content"].ToString());
    var last = (JsonArray)messages[4]["content"];
    Assert.AreEqual(Png, (string)last[0]["image_url"]["url"], "the parts keep their order");
    Assert.AreEqual("image first", (string)last[1]["text"]);
  }

  [Test]
  public void Request_ThinkingBudgetAndCacheBreakpoints_ReachAnthropic() {
    Client client = Make("anthropic");
    var request = new ChatRequest {
      Model = "claude-test",
      SystemPrompt = "A long, stable preamble.",
      CacheSystemPrompt = true,
      Messages = { new Message(Role.User, "A long document.") { CacheBreakpoint = true }, Message.User("Question?") },
      ThinkingBudget = 2048,
      MaxTokens = 4096,
      Seed = 1,  // Anthropic has none: dropped
    };
    client.Chat(request);
    JsonObject body = upstream.OnlyRequestBody();
    Assert.AreEqual("enabled", (string)body["thinking"]["type"]);
    Assert.AreEqual(2048, (int)body["thinking"]["budget_tokens"]);
    Assert.AreEqual(4096, (int)body["max_tokens"]);
    Assert.IsFalse(body.ContainsKey("seed"));
    Assert.AreEqual("ephemeral", (string)body["system"][0]["cache_control"]["type"]);
    var messages = (JsonArray)body["messages"];
    Assert.AreEqual("ephemeral", (string)messages[0]["content"][0]["cache_control"]["type"]);
    Assert.IsFalse(((JsonObject)messages[1]["content"][0]).ContainsKey("cache_control"));
  }

  [Test]
  public void Request_IsRebuiltForEachCall() {
    Client client = Make("openai");
    ChatRequest request = Hello();
    client.Chat(request);
    request.Messages.Add(Message.Assistant("Hi!"));
    request.Messages.Add(Message.User("Again"));
    request.Temperature = 1;
    client.Chat(request);
    JsonArray log = upstream.Requests();
    Assert.AreEqual(2, log.Count);
    var second = (JsonObject)JsonValue.Parse((string)log[1]["body"]);
    Assert.AreEqual(3, ((JsonArray)second["messages"]).Count);
    Assert.AreEqual(1.0, (double)second["temperature"]);
  }

  [Test]
  public void BadArguments_ThrowInvalidArgument() {
    StringAssert.Contains("unknown provider", Fails(Status.InvalidArgument, () => Make("openia")).Message);
    Fails(Status.InvalidArgument, () => Make("ollama", "timout.total", "5"));
    Fails(Status.InvalidArgument, () => {
      using (var o = Opts("provider", "openai-compatible")) new Client(o);
    });
    Assert.Throws<ArgumentNullException>(() => new Client(null));

    Client client = Make("openai");
    Fails(Status.InvalidArgument, () => client.Chat(Hello(), Call("strem", "true")));
    StringAssert.Contains("no model", Fails(Status.InvalidArgument,
                                            () => client.Chat(new ChatRequest { Messages = { Message.User("hi") } })).Message);
    Fails(Status.InvalidArgument, () => client.Chat(With(r => r.Temperature = double.NaN)));
    Fails(Status.InvalidArgument, () => client.Chat(With(r => r.MaxTokens = -1)));
    Fails(Status.InvalidArgument, () => client.Chat(With(r => r.Extra = "[1]")));
    Fails(Status.InvalidArgument, () => client.Chat(With(r => r.ResponseFormat = "{not json")));
    Fails(Status.InvalidArgument, () => client.Chat(With(r => r.Tools.Add(new Tool("f", null, "[]")))));
    Fails(Status.InvalidArgument, () => client.Chat(With(r => r.Messages.Add(Message.User(ContentPart.FromImage("ftp://x"))))));
    Fails(Status.InvalidArgument, () => client.Chat(With(r => r.Messages[0].ToolCalls.Add(new ToolCall("id", "f", "{}")))));
    Fails(Status.InvalidArgument, () => client.Chat(With(r => r.CacheSystemPrompt = true)));  // no system prompt
    Fails(Status.Unsupported, () => client.Chat(With(r => r.ThinkingBudget = 1000)));
    Assert.Throws<ArgumentNullException>(() => client.Chat(null));
    Assert.Throws<ArgumentNullException>(() => client.Chat(Hello(), (Action<Chunk>)null));
    Assert.Throws<ArgumentNullException>(() => ContentPart.FromText(null));
    Assert.Throws<ArgumentException>(() => new Message(Role.Tool, "x"));
    Assert.Catch<ArgumentException>(() => client.Chat(With(r => r.SystemPrompt = "bad \uD800")));
    Assert.AreEqual(0, upstream.Requests().Count, "nothing was sent");
  }

  static ChatRequest With(Action<ChatRequest> change) {
    ChatRequest r = Hello();
    change(r);
    return r;
  }

  // ---- thinking across turns -------------------------------------------------

  [Test]
  public void Response_Thinking_AndSignatures_AsRecorded() {
    Response r = Response.Parse("anthropic", Upstream.Fixture("anthropic/thinking.json"));
    var expected = (JsonArray)Upstream.Expected("anthropic/thinking")["thinking"];
    Assert.AreEqual(1, r.Thinking.Count);
    Assert.AreEqual((string)expected[0]["text"], r.Thinking[0].Text);
    Assert.AreEqual((string)expected[0]["signature"], r.Thinking[0].Signature);
    Assert.IsFalse(r.Thinking[0].Redacted);
    Assert.AreEqual(r.Reasoning, r.Thinking[0].Text);

    Response call = Response.Parse("gemini", Upstream.Fixture("gemini/function_call.json"));
    Assert.AreEqual((string)Upstream.Expected("gemini/function_call")["tool_calls"][0]["signature"],
                    call.ToolCalls[0].Signature);
    Assert.AreEqual(0, call.Thinking.Count);
  }

  [Test]
  public void AddResponse_SendsTheThinkingBackBeforeTheToolUse() {
    Client client = Make("anthropic");
    var request = new ChatRequest {
      Model = "claude-test", ThinkingBudget = 1024, Tools = { new Tool("get_user_country") },
      Messages = { Message.User("What is the largest city in the user country?") },
    };
    Response first = client.Chat(request, Call("header.x-upstream-fixture", "anthropic/tool_use_with_thinking"));
    request.AddResponse(first);
    request.Messages.Add(Message.ToolResult(first.ToolCalls[0].Id, "Mexico"));
    client.Chat(request);

    var recorded = (JsonArray)JsonValue.Parse(Upstream.Fixture("anthropic/tool_use_with_thinking.json"))["content"];
    var second = (JsonObject)JsonValue.Parse((string)upstream.Requests()[1]["body"]);
    var content = (JsonArray)second["messages"][1]["content"];
    Assert.AreEqual(3, content.Count);
    Assert.AreEqual("thinking", (string)content[0]["type"]);
    Assert.AreEqual((string)recorded[0]["thinking"], (string)content[0]["thinking"]);
    Assert.AreEqual((string)recorded[0]["signature"], (string)content[0]["signature"]);
    Assert.AreEqual("text", (string)content[1]["type"]);
    Assert.AreEqual((string)recorded[2]["id"], (string)content[2]["id"]);

    Assert.Throws<ArgumentNullException>(() => request.AddResponse(null));
    var error = Assert.Throws<LlmkitException>(
        () => Response.Parse("anthropic", Upstream.Fixture("anthropic/error_429_rate_limit.json")));
    Assert.Throws<ArgumentException>(() => request.AddResponse(error.Response));
  }

  [Test]
  public void Thinking_OfAStoredTurn_GoesBackOnItsParts() {
    Client client = Make("gemini");
    var turn = Message.Assistant("Let me check.", new[] { new ToolCall("call_0", "get_country", "{}", "call-sig") });
    turn.Thinking.Add(new Thinking("I need the country.", "th-sig"));
    turn.Thinking.Add(new Thinking(null, "text-sig"));
    turn.Thinking.Add(new Thinking(null, "anthropic-data", redacted: true));
    client.Chat(new ChatRequest {
      Model = "gemini-3-pro-preview",
      Messages = { Message.User("Capital of the user country?"), turn, Message.ToolResult("call_0", "Mexico") },
    });
    var parts = (JsonArray)upstream.OnlyRequestBody()["contents"][1]["parts"];
    Assert.AreEqual(3, parts.Count, parts.ToString());
    Assert.IsTrue((bool)parts[0]["thought"]);
    Assert.AreEqual("th-sig", (string)parts[0]["thoughtSignature"]);
    Assert.AreEqual("Let me check.", (string)parts[1]["text"]);
    Assert.AreEqual("text-sig", (string)parts[1]["thoughtSignature"]);
    Assert.AreEqual("get_country", (string)parts[2]["functionCall"]["name"]);
    Assert.AreEqual("call-sig", (string)parts[2]["thoughtSignature"]);

    var user = Message.User("hi");
    user.Thinking.Add(new Thinking("a user's?", null));
    Fails(Status.InvalidArgument, () => client.Chat(new ChatRequest { Model = "m", Messages = { user } }));
  }

  // ---- async -----------------------------------------------------------------

  [Test]
  public void ChatAsync_AnswersEachProvider() {
    foreach (string p in Providers) {
      Client client = Make(p);
      Assert.AreEqual(ExpectedText(Fixtures[p][0]), Await(client.ChatAsync(Hello())).Text, p);
    }
  }

  [Test]
  public void ChatAsync_Streamed_ChunksAddUpOnTheLoopThread() {
    Client client = Make("gemini");
    var text = new StringBuilder();
    int caller = Thread.CurrentThread.ManagedThreadId, loop = caller;
    Response r = Await(client.ChatAsync(Hello(), chunk => {
      loop = Thread.CurrentThread.ManagedThreadId;
      text.Append(chunk.Text);
    }));
    Assert.AreEqual(ExpectedText("gemini/stream_text"), text.ToString());
    Assert.AreEqual(r.Text, text.ToString());
    Assert.AreNotEqual(caller, loop);
  }

  [Test]
  public void ChatAsync_ManyAtOnceFromManyThreads_EachEndsOnce() {
    Client client = Make("anthropic");
    var tasks = new Task<Response>[40];
    Parallel.For(0, tasks.Length, i => tasks[i] = client.ChatAsync(Hello()));
    Assert.IsTrue(Task.WaitAll(tasks, Long));
    string expected = ExpectedText("anthropic/message_text");
    foreach (var t in tasks) Assert.AreEqual(expected, t.Result.Text);
  }

  [Test]
  public void ChatAsync_ProviderError_FaultsWithTheResponse() {
    Client client = Make("openai");
    Task<Response> task = client.ChatAsync(Hello(), Call("header.x-upstream-fault", "status=429,retry_after=2"));
    var e = Fails(Status.RateLimited, () => Await(task));
    StringAssert.Contains("injected status", e.Message, "the loop thread's message");
    Assert.AreEqual(TimeSpan.FromSeconds(2), e.Response.RetryAfter);
    Assert.AreEqual(429, e.Response.HttpStatus);

    e = Fails(Status.Network, () => Await(client.ChatAsync(Hello(), _ => {},
                                                           Call("header.x-upstream-fault", "truncate"))));
    StringAssert.Contains("stream truncated", e.Message);
  }

  [Test]
  public void ChatAsync_Cancelled_EndsTheTaskCancelled() {
    Client client = Make("openai");
    using (var cts = new CancellationTokenSource()) {
      Task<Response> task = client.ChatAsync(Hello(), Call("header.x-upstream-fault", "delay=5000"), cts.Token);
      var clock = Stopwatch.StartNew();
      cts.CancelAfter(100);
      Assert.Catch<OperationCanceledException>(() => Await(task));
      Assert.Less(clock.Elapsed, TimeSpan.FromSeconds(3));
      Assert.IsTrue(task.IsCanceled);
      Assert.IsTrue(client.ChatAsync(Hello(), null, cts.Token).IsCanceled, "a cancelled token starts nothing");
    }
  }

  [Test]
  public void ChatAsync_ThrowingCallback_FaultsTheTask() {
    Client client = Make("ollama");
    var thrown = new FormatException("bad piece");
    int chunks = 0;
    Task<Response> task = client.ChatAsync(Hello(), chunk => {
      if (++chunks == 1) throw thrown;
    }, Call("header.x-upstream-fault", "drip=200"));
    Assert.AreSame(thrown, Assert.Throws<FormatException>(() => Await(task)));
    Assert.AreEqual(1, chunks);
  }

  [Test]
  public void ChatAsync_Callback_CannotBlockOnOrDisposeItsOwnClient() {
    Client client = Make("openai");
    foreach (Action<Client> forbidden in new Action<Client>[] { c => c.Chat(Hello()), c => c.Dispose(),
                                                                c => c.Embed("e", new[] { "x" }) }) {
      Task<Response> task = client.ChatAsync(Hello(), chunk => forbidden(client));
      StringAssert.Contains("loop thread", Assert.Throws<InvalidOperationException>(() => Await(task)).Message);
    }
    Assert.AreEqual(ExpectedText("openai/chat_completion_text"), client.Chat(Hello()).Text, "still usable");
  }

  [Test]
  public void ChatAsync_ThatCannotStart_ThrowsAtOnce() {
    Client client = Make("openai");
    StringAssert.Contains("no model", Fails(Status.InvalidArgument,
                                            () => client.ChatAsync(new ChatRequest { Messages = { Message.User("hi") } })).Message);
    Fails(Status.InvalidArgument, () => client.ChatAsync(Hello(), Call("strem", "true")));
  }

  [Test]
  public void Dispose_EndsRunningAsyncCallsCancelled() {
    Client client = Make("openai");
    Options slow = Call("header.x-upstream-fault", "delay=5000");
    Task<Response>[] tasks = Enumerable.Range(0, 3).Select(_ => client.ChatAsync(Hello(), slow)).ToArray();
    var clock = Stopwatch.StartNew();
    client.Dispose();
    Assert.Less(clock.Elapsed, TimeSpan.FromSeconds(3));
    foreach (var t in tasks) Fails(Status.Cancelled, () => Await(t));
    Assert.Throws<ObjectDisposedException>(() => client.Chat(Hello()));
    Assert.Throws<ObjectDisposedException>(() => client.ChatAsync(Hello()));
    Assert.Throws<ObjectDisposedException>(() => client.Embed(null, new[] { "x" }));
    client.Dispose();
  }

  // A client never disposed whose loop thread ran C# (an async call's end)
  // must not keep the process from exiting: tests/exit/ExitWithoutDispose.cs.
  [Test]
  public void Process_WithAnUndisposedAsyncClient_Exits() {
    Assert.AreEqual("Network", ExitWithoutDispose(""));
  }

  // Runs ExitWithoutDispose.exe with `args`; what it printed, once it exited 0.
  internal static string ExitWithoutDispose(string args) {
    string exe = System.IO.Path.Combine(AppDomain.CurrentDomain.BaseDirectory, "ExitWithoutDispose.exe");
    var start = new ProcessStartInfo("mono", "\"" + exe + "\" " + args) { UseShellExecute = false, RedirectStandardOutput = true };
    using (Process p = Process.Start(start)) {
      Task<string> output = p.StandardOutput.ReadToEndAsync();
      bool exited = p.WaitForExit(20000);
      if (!exited) p.Kill();
      Assert.IsTrue(exited, "the process still runs 20 s after Main returned");
      Assert.AreEqual(0, p.ExitCode);
      return output.Result.Trim();
    }
  }

  // ---- embeddings ------------------------------------------------------------

  [Test]
  public void Embed_ThousandsOfInputs_ComeBackInOrder() {
    Client client = Make("openai", "model", "e");
    string[] texts = Enumerable.Range(0, 3000).Select(i => $"input number {i}" + (i % 7 == 0 ? " é✓" : "")).ToArray();
    Embeddings e = client.Embed(null, texts);
    Assert.AreEqual(texts.Length, e.Vectors.Count);
    for (int i = 0; i < texts.Length; i++) {
      byte[] bytes = Encoding.UTF8.GetBytes(texts[i]);
      Assert.AreEqual((float)bytes.Length, e.Vectors[i][0], texts[i]);
      Assert.AreEqual((float)bytes.Sum(b => b), e.Vectors[i][1], texts[i]);
    }
    Assert.AreEqual(texts.Sum(t => t.Split(' ').Length), e.InputTokens, "the upstream counts words");
    Assert.AreEqual(2, upstream.Requests().Count, "batches of at most 2048");
    Assert.AreEqual("e", (string)JsonValue.Parse((string)upstream.Requests()[0]["body"])["model"]);
  }

  [Test]
  public void Embed_DimensionsAndErrors() {
    Client client = Make("openai");
    Embeddings e = client.Embed("e", new List<string> { "a", "bc" }, Call("dimensions", "5"));
    Assert.AreEqual(5, e.Vectors[1].Length);
    Assert.AreEqual(2f, e.Vectors[1][0]);
    Assert.AreEqual(0, client.Embed("e", new string[0]).Vectors.Count);
    var failed = Fails(Status.ProviderError,
                       () => client.Embed("e", new[] { "x" }, Call("header.x-upstream-fault", "status=500")));
    Assert.IsNull(failed.Response);
    Fails(Status.Unsupported, () => Make("anthropic").Embed("e", new[] { "x" }));
    Assert.Throws<ArgumentNullException>(() => client.Embed("e", new string[] { null }));
    using (var cts = new CancellationTokenSource()) {
      cts.CancelAfter(100);
      Assert.Throws<OperationCanceledException>(
          () => client.Embed("e", new[] { "x" }, Call("header.x-upstream-fault", "delay=5000"), cts.Token));
    }
  }

  // ---- recorded answers ------------------------------------------------------

  [Test]
  public void Parse_RecordedAnswersWithoutANetwork() {
    Response r = Response.Parse("openai", Upstream.Fixture("openai/chat_completion_text.json"));
    Assert.AreEqual(ExpectedText("openai/chat_completion_text"), r.Text);
    Assert.AreEqual(0, r.HttpStatus);
    Response streamed = Response.Parse("anthropic", Upstream.Fixture("anthropic/stream_text.sse"), stream: true);
    Assert.AreEqual(ExpectedText("anthropic/stream_text"), streamed.Text);

    var e = Fails(Status.Overloaded,
                  () => Response.Parse("anthropic", Upstream.Fixture("anthropic/error_529_overloaded.json")));
    Assert.AreEqual("Overloaded", e.Response.ErrorMessage);
    Assert.AreEqual("overloaded", e.Response.ErrorDetail);
    e = Fails(Status.InvalidArgument,
              () => Response.Parse("openai", Upstream.Fixture("openai/error_400_context_length_exceeded.json")));
    Assert.AreEqual("context_length_exceeded", e.Response.ErrorDetail);
    Assert.IsNull(Fails(Status.ProviderError, () => Response.Parse("anthropic", "{")).Response);
    Assert.IsNull(Fails(Status.Network, () => Response.Parse("openai", "data: {\"choices\":[]}\n\n", true)).Response);
    Fails(Status.InvalidArgument, () => Response.Parse("openia", "{}"));
  }

  [Test]
  public void Embeddings_ParseARecordedAnswer() {
    Embeddings e = Embeddings.Parse("openai", Upstream.Fixture("openai/embeddings_3.json"));
    Assert.AreEqual(3, e.Vectors.Count);
    Assert.Greater(e.Vectors[0].Length, 0);
    Fails(Status.ProviderError, () => Embeddings.Parse("openai", "{"));
    Fails(Status.RateLimited, () => Embeddings.Parse("openai", Upstream.Fixture("openai/error_429_insufficient_quota.json")));
  }
}

}
