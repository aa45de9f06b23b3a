using System;
using System.Collections.Generic;
using System.Text;
using NUnit.Framework;

namespace Llmkit.Tests {

// A client's calls through a Cache and a RateLimiter, against
// test/upstream/upstream.py.
[TestFixture]
public class ClientStagesTests {
  Upstream upstream;
  Client client;

  [TestFixtureSetUp]
  public void StartUpstream() {
    upstream = new Upstream();
  }

  [TestFixtureTearDown]
  public void StopUpstream() {
    upstream?.Dispose();
  }

  [SetUp]
  public void Begin() {
    upstream.ClearRequests();
    using (Options o = ClientTests.ClientOpts("provider", "openai", "base_url", upstream.BaseUrl("openai"),
                                              "api_key", "sk-test", "cache.scope", "tenant-a")) {
      client = new Client(o);
    }
  }

  [TearDown]
  public void End() {
    client.Dispose();
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
}

}
