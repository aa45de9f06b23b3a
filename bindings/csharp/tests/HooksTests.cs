using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Llmkit.Tests {

// Hooks around calls to test/upstream/upstream.py: before hooks that change,
// answer or reject a call, after and error hooks, failures counted, scopes,
// tags and predicates, async hooks, async calls, and the set's life after
// Dispose.
[TestFixture]
public class HooksTests : UpstreamTest {
  Hooks hooks;
  readonly List<IDisposable> disposables = new List<IDisposable>();

  [SetUp]
  public void Begin() {
    upstream.ClearRequests();
    hooks = new Hooks();
  }

  [TearDown]
  public void DisposeAll() {
    foreach (IDisposable d in disposables) d.Dispose();
    disposables.Clear();
    hooks.Dispose();
  }

  // An openai client on the upstream with `hooks` attached; keyValues add options.
  Client Hooked(params string[] keyValues) {
    Client client = UpstreamClient("openai", "sk-test", keyValues);
    disposables.Add(client);
    client.Hooks = hooks;
    return client;
  }

  static Options Call(params string[] keyValues) => ClientTests.Opts(keyValues);

  static ChatRequest Hello() => ClientTests.Hello();

  Response Chat(Client client, params string[] callOptions) {
    using (Options o = Call(callOptions)) return client.Chat(Hello(), o);
  }

  [Test]
  public void BeforeHook_ChangesTheModel_AfterHookReadsTheAnswer() {
    var seen = new List<string>();
    hooks.Add(HookKind.Before, e => {
      seen.Add($"{e.Kind} {e.Provider} {e.Model} {string.Join("+", e.Tags)} {e.Meta("team")} {e.Meta("none") ?? "null"}");
      StringAssert.Contains("\"model\":\"m\"", e.Request);
      e.Set("model", "gpt-routed");
      e.SetMeta("routed", "yes");
    }, rule: "model:m and tag:prod");
    Response answer = null;
    hooks.Add(HookKind.After, e => {
      answer = e.Response;
      seen.Add($"{e.Kind} {e.Model} {e.Status} [{e.Message}]");
      Assert.Greater(e.Elapsed, TimeSpan.Zero);
      Assert.AreEqual(Status.InvalidArgument, Assert.Throws<LlmkitException>(() => e.Set("model", "x")).Status);
    }, rule: "meta.routed:yes");
    Response r = Chat(Hooked(), "tags", "prod,beta", "meta.team", "search");
    CollectionAssert.AreEqual(new[] { "Before openai m prod+beta search null", "After gpt-routed Ok []" }, seen);
    Assert.AreEqual(r.Text, answer.Text);
    Assert.AreEqual("gpt-routed", (string)upstream.OnlyRequestBody()["model"]);
  }

  [Test]
  public void ErrorHook_SeesTheRateLimit() {
    Status status = Status.Ok;
    TimeSpan? retry = null;
    string message = null;
    hooks.Add(HookKind.Error, e => {
      status = e.Status;
      retry = e.Response.RetryAfter;
      message = e.Message;
    }, rule: "status:rate_limited");
    var thrown = Assert.Throws<LlmkitException>(() => Chat(Hooked(), "header.x-upstream-fault", "status=429,retry_after=7"));
    Assert.AreEqual(Status.RateLimited, thrown.Status);
    Assert.AreEqual(Status.RateLimited, status);
    Assert.AreEqual(TimeSpan.FromSeconds(7), retry);
    StringAssert.Contains("injected status", message);
  }

  [Test]
  public void FailingHook_IsCountedWithItsMessage_AndTheCallSucceeds() {
    ulong failing = hooks.Add(HookKind.After, e => { throw new InvalidOperationException("the audit database is down"); });
    ulong typed = hooks.Add(HookKind.After, e => { throw new LlmkitException(Status.Unavailable, "no room"); });
    ulong fine = hooks.Add(HookKind.Finally, e => {});
    Client client = Hooked();
    for (int i = 0; i < 2; i++) Assert.IsNotEmpty(Chat(client).Text);
    HookStats s = hooks.Stats(failing);
    Assert.AreEqual(new object[] { 2L, 2L, "the audit database is down" }, new object[] { s.Calls, s.Errors, s.LastError });
    Assert.AreEqual("no room", hooks.Stats(typed).LastError);
    s = hooks.Stats(fine);
    Assert.AreEqual(new object[] { 2L, 0L, "" }, new object[] { s.Calls, s.Errors, s.LastError });
    Assert.LessOrEqual(s.Max, s.Total);
    Assert.AreEqual(Status.NotFound, Assert.Throws<LlmkitException>(() => hooks.Stats(12345)).Status);
  }

  [Test]
  public void BeforeHook_AnswersOrRejects_AndNoRequestIsSent() {
    hooks.Add(HookKind.Before, e => e.Answer("from the hook"), rule: "tag:canned");
    hooks.Add(HookKind.Before, e => e.Reject(Status.BudgetExceeded, "the team's budget is spent"), rule: "tag:blocked");
    var rejected = new List<string>();
    hooks.Add(HookKind.Error, e => rejected.Add($"{e.Status}: {e.Message}"));
    Client client = Hooked();
    Assert.AreEqual("from the hook", Chat(client, "tags", "canned").Text);
    var thrown = Assert.Throws<LlmkitException>(() => Chat(client, "tags", "blocked"));
    Assert.AreEqual(Status.BudgetExceeded, thrown.Status);
    Assert.AreEqual("the team's budget is spent", thrown.Message);
    CollectionAssert.AreEqual(new[] { "BudgetExceeded: the team's budget is spent" }, rejected);
    Assert.AreEqual(0, upstream.Requests().Count);
  }

  [Test]
  public void Hooks_SeeTheCost() {
    var costs = new List<double?>();
    HookEvent kept = null;
    Action<HookEvent> record = e => {
      costs.Add(e.CostUsd);
      kept = e;
    };
    hooks.Add(HookKind.Before, record);  // no answer yet
    hooks.Add(HookKind.Before, e => e.Answer("from the hook"), rule: "tag:canned");
    hooks.Add(HookKind.Finally, record);
    Client client = Hooked("prices", Upstream.Prices);
    Chat(client);
    Response canned = Chat(client, "tags", "canned");
    Assert.AreEqual(4, costs.Count);
    Assert.AreEqual(new double?[] { null, null, 0.0 }, new[] { costs[0], costs[2], costs[3] },
                    "no answer before; the canned one cost nothing");
    Assert.AreEqual(Upstream.Cost, costs[1].Value, 1e-12);
    Assert.AreEqual(0.0, canned.CostUsd);
    Assert.Throws<InvalidOperationException>(() => { double? late = kept.CostUsd; });
  }

  [Test]
  public void ScopesTagsAndPredicates_ChooseTheHooks() {
    var runs = new Dictionary<string, int> { ["scoped"] = 0, ["tagged"] = 0, ["long"] = 0, ["broken"] = 0 };
    hooks.AddPredicate("long_prompt", e => e.Request.Length > 400);
    hooks.AddPredicate("broken", e => { throw new Exception("no"); });
    hooks.Add(HookKind.Finally, e => runs["scoped"]++, scope: "evaluation");
    ulong tagged = hooks.Add(HookKind.Finally, e => runs["tagged"]++, rule: "anytag:billing,audit and not tag:test");
    hooks.Add(HookKind.Finally, e => runs["long"]++, rule: "pred:long_prompt");
    ulong broken = hooks.Add(HookKind.Finally, e => runs["broken"]++, rule: "pred:broken");
    Client plain = Hooked();
    Client evaluation = Hooked("scopes", "evaluation,production");
    Chat(plain);
    Chat(evaluation, "tags", "billing");
    Chat(plain, "tags", "billing,test");
    using (Options audit = Call("tags", "audit")) {
      plain.Chat(new ChatRequest { Model = "m", Messages = { Message.User(new string('x', 500)) } }, audit);
    }
    CollectionAssert.AreEqual(new[] { 1, 2, 1, 0 }, new[] { runs["scoped"], runs["tagged"], runs["long"], runs["broken"] });
    Assert.AreEqual(new[] { 2L, 2L }, new[] { hooks.Stats(tagged).Calls, hooks.Stats(tagged).Skipped });
    Assert.AreEqual(4L, hooks.Stats(broken).RuleFailures);
    Assert.AreEqual(Status.InvalidArgument,
                    Assert.Throws<LlmkitException>(() => hooks.AddPredicate("long_prompt", e => true)).Status);
  }

  [Test]
  public void AsyncHook_RunsOnItsOwnThread_UntilFlush() {
    var seen = new List<string>();
    int callingThread = Thread.CurrentThread.ManagedThreadId;
    ulong id = hooks.Add(HookKind.After, e => {
      var refused = Assert.Throws<LlmkitException>(() => e.SetMeta("k", "v"));
      lock (seen) seen.Add($"{e.Response.Text} {Thread.CurrentThread.ManagedThreadId != callingThread} {refused.Status}");
    }, flags: HookFlags.Async);
    Client client = Hooked();
    var texts = Enumerable.Range(0, 3).Select(i => Chat(client).Text).ToList();
    hooks.Flush();
    CollectionAssert.AreEqual(texts.Select(t => $"{t} True InvalidArgument"), seen);
    Assert.AreEqual(new[] { 3L, 0L }, new[] { hooks.Stats(id).Calls, hooks.Stats(id).Dropped });
  }

  [Test]
  public void AsyncCall_RunsItsAfterHooksBeforeTheTaskEnds() {
    string model = null;
    hooks.Add(HookKind.Before, e => e.Set("model", "async-routed"));
    hooks.Add(HookKind.After, e => model = e.Model);
    Client client = Hooked();
    Task<Response> task = client.ChatAsync(Hello());
    Assert.IsTrue(((IAsyncResult)task).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(30)), "the task did not end");
    Assert.IsNotEmpty(task.Result.Text);
    Assert.AreEqual("async-routed", model);
  }

  [Test]
  public void AsyncCall_AnsweredByABeforeHook_EndsOnTheCallingThread() {
    hooks.Add(HookKind.Before, e => e.Answer("from the hook"));
    Client client = Hooked();
    bool background = Thread.CurrentThread.IsBackground;
    Task<Response> task = client.ChatAsync(Hello());
    Assert.IsTrue(task.IsCompleted);
    Assert.AreEqual("from the hook", task.Result.Text);
    // Not taken for the loop thread, where blocking calls are refused.
    Assert.AreEqual(background, Thread.CurrentThread.IsBackground);
    Assert.AreEqual("from the hook", client.Chat(Hello()).Text);
  }

  [Test]
  public void KindsAndFlags_MatchTheHeader() {
    Func<Type, string[]> values = t => Enum.GetValues(t).Cast<Enum>().Select(v => $"{v}={Convert.ToInt32(v)}").ToArray();
    CollectionAssert.AreEqual(values(typeof(NativeHookKind)).Select(v => v.Substring(4)), values(typeof(HookKind)));
    Assert.AreEqual(Native.LLMKIT_HOOK_ASYNC, (uint)HookFlags.Async);
  }

  [Test]
  public void BadArguments_Throw() {
    var e = Assert.Throws<LlmkitException>(() => hooks.Add(HookKind.Before, ev => {}, rule: "model:gpt-4o and"));
    Assert.AreEqual(Status.InvalidArgument, e.Status);
    StringAssert.Contains("column", e.Message);
    Assert.Throws<ArgumentNullException>(() => hooks.Add(HookKind.After, null));
    Assert.AreEqual(Status.InvalidArgument,
                    Assert.Throws<LlmkitException>(() => hooks.Add(HookKind.After, ev => {}, scope: "two words")).Status);
    Assert.AreEqual(Status.InvalidArgument,
                    Assert.Throws<LlmkitException>(() => hooks.Add(HookKind.After, ev => {}, rule: "pred:nope")).Status);
    Assert.AreEqual(Status.NotFound, Assert.Throws<LlmkitException>(() => hooks.Remove(12345)).Status);
    using (Options spill = Call("queue_full", "spill")) {
      Assert.AreEqual(Status.InvalidArgument, Assert.Throws<LlmkitException>(() => new Hooks(spill)).Status);
    }
  }

  [Test]
  public void Hooks_OutliveDispose_WhileAClientIsAttached() {
    int runs = 0;
    HookEvent kept = null;
    ulong removed = hooks.Add(HookKind.After, e => { throw new Exception("removed"); });
    Client first = Hooked();
    Client second = Hooked();
    hooks.Remove(removed);
    hooks.Add(HookKind.After, e => {
      runs++;
      kept = e;
    });
    hooks.Dispose();
    hooks.Dispose();  // harmless
    Assert.Throws<ObjectDisposedException>(() => hooks.Add(HookKind.After, e => {}));
    Assert.Throws<ObjectDisposedException>(() => hooks.Flush());
    Assert.Throws<ObjectDisposedException>(() => first.Hooks = hooks);
    Chat(first);
    Assert.AreEqual(1, runs, "the clients keep the hooks");
    Assert.AreEqual(HookKind.After, kept.Kind);
    Assert.Throws<InvalidOperationException>(() => kept.Model.ToString());
    first.Hooks = null;
    Assert.IsNull(first.Hooks);
    Chat(first);
    Chat(second);
    Assert.AreEqual(2, runs);
    Assert.AreSame(hooks, second.Hooks);
    int held = Callbacks();
    second.Dispose();
    Assert.AreEqual(held - 2, Callbacks(), "let go with the last client");
  }

  static int Callbacks() {
    var callbacks = (System.Collections.ICollection)typeof(Hooks)
        .GetField("Callbacks", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)
        .GetValue(null);
    lock (callbacks) return callbacks.Count;
  }

  // A program whose async hook ran C# on the hooks' own thread, and that
  // exits without disposing its hooks or its client: tests/exit/ExitWithoutDispose.cs.
  [Test]
  public void Process_WithUndisposedHooks_ExitsAfterRunningWhatIsQueued() {
    CollectionAssert.AreEquivalent(new[] { "Network", "hook Network", "hook Network" },
                                   ClientTests.ExitWithoutDispose("hooks").Split('\n'));
  }
}

}
