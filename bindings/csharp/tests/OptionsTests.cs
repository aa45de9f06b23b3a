using System;
using System.Linq;
using System.Threading;
using NUnit.Framework;

namespace Llmkit.Tests {

[TestFixture]
public class OptionsTests {
  Options opts;

  [SetUp]
  public void CreateOptions() {
    opts = new Options();
  }

  [TearDown]
  public void DisposeOptions() {
    opts.Dispose();
  }

  [Test]
  public void Get_ReturnsTheValueSet() {
    opts.Set("model", "gpt-4o-mini");
    Assert.AreEqual("gpt-4o-mini", opts.Get("model"));
  }

  [Test]
  public void Set_ReplacesThePreviousValue() {
    opts.Set("model", "a");
    opts.Set("model", "b");
    Assert.AreEqual("b", opts.Get("model"));
    Assert.AreEqual(1, opts.Count);
  }

  [Test]
  public void Indexer_SetsAndGets() {
    opts["cache.max_bytes"] = "1024";
    Assert.AreEqual("1024", opts["cache.max_bytes"]);
    Assert.AreEqual("1024", opts.Get("cache.max_bytes"));
  }

  [Test]
  public void Count_FollowsSetAndUnset() {
    Assert.AreEqual(0, opts.Count);
    opts.Set("a", "1");
    opts.Set("b", "2");
    Assert.AreEqual(2, opts.Count);
    opts.Unset("a");
    Assert.AreEqual(1, opts.Count);
  }

  [Test]
  public void Unset_RemovesTheKey() {
    opts.Set("model", "x");
    opts.Unset("model");
    string value;
    Assert.IsFalse(opts.TryGet("model", out value));
  }

  [Test]
  public void Unset_OfAMissingKey_ThrowsNotFound() {
    var e = Assert.Throws<LlmkitException>(() => opts.Unset("missing"));
    Assert.AreEqual(Status.NotFound, e.Status);
    Assert.AreEqual("option 'missing' is not set", e.Message);
  }

  [Test]
  public void Get_OfAMissingKey_ThrowsNotFoundWithTheLibrarysMessage() {
    var e = Assert.Throws<LlmkitException>(() => opts.Get("missing"));
    Assert.AreEqual(Status.NotFound, e.Status);
    Assert.AreEqual("option 'missing' is not set", e.Message);
    Assert.Throws<LlmkitException>(() => { var unused = opts["missing"]; });
  }

  [Test]
  public void TryGet_TellsWhetherTheKeyIsSet() {
    opts.Set("model", "m");
    string value;
    Assert.IsTrue(opts.TryGet("model", out value));
    Assert.AreEqual("m", value);
    Assert.IsFalse(opts.TryGet("missing", out value));
    Assert.IsNull(value);
  }

  [Test]
  public void Copy_IsIndependentOfTheOriginal() {
    opts.Set("model", "original");
    using (Options copy = opts.Copy()) {
      copy.Set("model", "changed");
      copy.Set("extra", "1");
      Assert.AreEqual("original", opts.Get("model"));
      Assert.AreEqual(1, opts.Count);
      Assert.AreEqual("changed", copy.Get("model"));
      Assert.AreEqual(2, copy.Count);
    }
    Assert.AreEqual("original", opts.Get("model"));
  }

  [Test]
  public void Set_WithAKeyContainingASpace_ThrowsInvalidArgument() {
    var e = Assert.Throws<LlmkitException>(() => opts.Set("Bad Key", "v"));
    Assert.AreEqual(Status.InvalidArgument, e.Status);
    StringAssert.Contains("Bad Key", e.Message);
  }

  [Test]
  public void Set_WithANullKey_ThrowsInvalidArgument() {
    var e = Assert.Throws<LlmkitException>(() => opts.Set(null, "v"));
    Assert.AreEqual(Status.InvalidArgument, e.Status);
    Assert.AreEqual("key is NULL", e.Message);
  }

  [Test]
  public void NonAsciiValues_RoundTripAsUtf8() {
    const string text = "café 中文 🦙";
    opts.Set("greeting", text);
    Assert.AreEqual(text, opts.Get("greeting"));
  }

  // C# strings cannot hold invalid UTF-8; the nearest thing, a lone surrogate,
  // is refused before the call instead of reaching the library altered.
  [Test]
  public void Set_WithALoneSurrogate_ThrowsArgumentException() {
    Assert.Catch<ArgumentException>(() => opts.Set("k", "bad \uD800 value"));
    Assert.AreEqual(0, opts.Count);
  }

  [Test]
  public void Dispose_Twice_IsHarmless() {
    opts.Dispose();
    opts.Dispose();
  }

  [Test]
  public void Use_AfterDispose_ThrowsObjectDisposedException() {
    opts.Set("model", "m");
    opts.Dispose();
    Assert.Throws<ObjectDisposedException>(() => opts.Get("model"));
    Assert.Throws<ObjectDisposedException>(() => opts.Set("model", "m"));
    Assert.Throws<ObjectDisposedException>(() => { var unused = opts.Count; });
    Assert.Throws<ObjectDisposedException>(() => opts.Copy());
  }

  // llmkit_last_error() is per thread: each thread's exception must carry the
  // message of its own failing call, never another thread's.
  [Test]
  public void Errors_OnManyThreads_CarryTheirOwnMessage() {
    var failures = new string[8];
    var threads = Enumerable.Range(0, failures.Length).Select(i => new Thread(() => {
      using (var o = new Options()) {
        for (int n = 0; n < 500 && failures[i] == null; n++) {
          string key = "missing-" + i + "-" + n;
          try {
            o.Get(key);
            failures[i] = "no exception for " + key;
          } catch (LlmkitException e) {
            if (e.Message != "option '" + key + "' is not set") failures[i] = e.Message;
          }
        }
      }
    })).ToArray();
    foreach (var t in threads) t.Start();
    foreach (var t in threads) t.Join();
    CollectionAssert.AreEqual(new string[failures.Length], failures);
  }
}

}
