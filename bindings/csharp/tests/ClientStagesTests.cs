using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using NUnit.Framework;

namespace Llmkit.Tests {

// A client's calls through a Cache, a RateLimiter and the router among
// deployments (docs/routing.md), against test/upstream/upstream.py.
[TestFixture]
public class ClientStagesTests : UpstreamTest {
  Client client;
  Client routed;  // made by RoutedClient

  [SetUp]
  public void Begin() {
    upstream.ClearRequests();
    client = UpstreamClient("openai", "sk-test", "cache.scope", "tenant-a");
  }

  [TearDown]
  public void End() {
    client.Dispose();
    routed?.Dispose();
    routed = null;
  }

  static Cache NewCache() {
    using (var o = new Options()) return new Cache(o);
  }

  Response Chat(params string[] callOptions) {
    using (Options o = ClientTests.Opts(callOptions)) return client.Chat(ClientTests.Hello(), o);
  }

  [Test]
  public void ARepeatedCall_IsAnsweredByTheCache_ForNothing() {
    using (Cache cache = NewCache())
    using (var hooks = new Hooks()) {
      var seen = new List<bool>();
      hooks.Add(HookKind.After, e => seen.Add(e.Cached));
      client.Hooks = hooks;
      client.Cache = cache;
      Assert.AreSame(cache, client.Cache);
      Response first = Chat();
      Response second = Chat();
      Assert.IsFalse(first.Cached);
      Assert.IsTrue(second.Cached);
      Assert.AreEqual(0.0, second.CostUsd);
      Assert.AreEqual(1, second.Attempts);
      Assert.AreEqual(first.Text, second.Text);
      CollectionAssert.AreEqual(new[] { false, true }, seen);
      Assert.AreEqual(1, upstream.Requests().Count);
      Assert.IsFalse(Chat("cache", "bypass").Cached);
      client.Cache = null;
      Assert.IsFalse(Chat().Cached);
      Assert.AreEqual(3, upstream.Requests().Count);
      client.Hooks = null;
    }
  }

  [Test]
  public void ACachedAnswer_StreamsThroughTheCallback() {
    using (Cache cache = NewCache()) {
      client.Cache = cache;
      string text = Chat().Text;
      var pieces = new StringBuilder();
      Response r = client.Chat(ClientTests.Hello(), c => pieces.Append(c.Text));
      Assert.IsTrue(r.Cached);
      Assert.AreEqual(text, pieces.ToString());
    }
  }

  [Test]
  public void TheClientHoldsItsCache_AfterTheCacheIsDisposed() {
    Cache cache = NewCache();
    client.Cache = cache;
    cache.Dispose();  // the client still holds the native cache
    Chat();
    Assert.IsTrue(Chat().Cached);
    Assert.AreEqual(1, upstream.Requests().Count);
    Assert.Throws<ObjectDisposedException>(() => client.Cache = cache);
  }

  [Test]
  public void TheRateLimiter_RefusesACallerPastItsLimit() {
    using (Options o = ClientTests.Opts("requests", "1", "window", "3600"))
    using (var limiter = new RateLimiter(o)) {
      client.RateLimiter = limiter;
      Assert.AreSame(limiter, client.RateLimiter);
      Chat("caller", "team-a");
      var e = Assert.Throws<LlmkitException>(() => Chat("caller", "team-a"));
      Assert.AreEqual(Status.RateLimited, e.Status, e.Message);
      StringAssert.Contains("'team-a'", e.Message);
      Chat("caller", "team-b");
      Assert.AreEqual(2, upstream.Requests().Count);
    }
  }

  // Two deployments on the upstream: "primary" (OpenAI) serving the group
  // "chat", sending the fault header `primaryFault`, and "backup"
  // (Anthropic), which "chat" falls back to on server errors. Two tries per
  // group, a millisecond apart.
  Client RoutedClient(string primaryFault = "") {
    string deployments = $@"[
      {{""name"": ""primary"", ""provider"": ""openai"", ""base_url"": ""{upstream.BaseUrl("openai")}"",
        ""api_key"": ""sk-test"", ""model"": ""gpt-4o-mini"", ""group"": ""chat"",
        ""header.x-upstream-fault"": ""{primaryFault}""}},
      {{""name"": ""backup"", ""provider"": ""anthropic"", ""base_url"": ""{upstream.BaseUrl("anthropic")}"",
        ""api_key"": ""sk-test"", ""model"": ""claude-3-5-haiku-latest""}}]";
    using (Options o = ClientTests.Opts("deployments", deployments,
                                        "fallbacks", @"[{""from"": ""chat"", ""to"": [""backup""], ""on"": [""server""]}]",
                                        "retry.attempts", "2", "retry.base_ms", "1")) {
      return routed = new Client(o);
    }
  }

  static ChatRequest ChatTo(string group) => new ChatRequest { Model = group, Messages = { Message.User("Hello") } };

  [Test]
  public void TheResponse_NamesTheDeploymentThatAnswered() {
    Response r = RoutedClient().Chat(ChatTo("chat"));
    Assert.AreEqual("primary", r.Deployment);
    Assert.AreEqual("openai", r.Provider);
    Assert.AreEqual(1, r.Attempts);
  }

  [Test]
  public void ServerErrors_FallBackToAnotherDeployment() {
    Response r = RoutedClient("status=500").Chat(ChatTo("chat"));
    Assert.AreEqual("backup", r.Deployment);
    Assert.AreEqual("anthropic", r.Provider);
    Assert.AreEqual(3, r.Attempts);
    CollectionAssert.AreEqual(new[] { "/v1/chat/completions", "/v1/chat/completions", "/v1/messages" },
                              upstream.Requests().Select(q => (string)q["path"]));
    // The breakers are the deployments'.
    BreakerStats primary = routed.BreakerStats("primary");
    Assert.AreEqual(2, primary.Calls);
    Assert.AreEqual(2, primary.Failures);
    BreakerStats backup = routed.BreakerStats("backup");
    Assert.AreEqual(1, backup.Calls);
    Assert.AreEqual(0, backup.Failures);
  }

  [Test]
  public void AGroupNoDeploymentServes_IsNotFound() {
    Client c = RoutedClient();
    ClientTests.Fails(Status.NotFound, () => c.Chat(ChatTo("nowhere")));
    Assert.AreEqual(0, upstream.Requests().Count);
  }
}

}
