using System;
using System.Diagnostics;
using System.Linq;
using System.Text;
using System.Threading;
using NUnit.Framework;

namespace Llmkit.Tests {

[TestFixture]
public class RateLimiterTests {
  const string Year = "31536000";  // a window so long that nothing refills during a test
  static readonly TimeSpan Long = TimeSpan.FromSeconds(30);  // waits that should end far sooner

  // The options are disposed before the limiter is used: it keeps a copy.
  static RateLimiter Limiter(params string[] keyValues) {
    using (var o = new Options()) {
      for (int i = 0; i < keyValues.Length; i += 2) o.Set(keyValues[i], keyValues[i + 1]);
      return new RateLimiter(o);
    }
  }

  static LlmkitException Fails(Status status, TestDelegate call) {
    var e = Assert.Throws<LlmkitException>(call);
    Assert.AreEqual(status, e.Status, e.Message);
    return e;
  }

  // Runs `body` on a new thread; Join() rethrows what it threw.
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

    public bool IsAlive => thread.IsAlive;

    // The exception the body ended with (null if none), once it has ended.
    public Exception Join() {
      Assert.IsTrue(thread.Join(Long), "the thread is still running");
      return error;
    }
  }

  [Test]
  public void Requests_AdmitsExactlyTheBurst_ThenRefusesForOneInterval() {
    using (var rl = Limiter("requests", "5", "window", "60")) {
      for (int i = 0; i < 5; i++) {
        RateLimitDecision d = rl.Check("user-42");
        Assert.IsTrue(d.Allowed, "request " + i);
        Assert.AreEqual(TimeSpan.Zero, d.RetryAfter);
        Assert.AreEqual(4 - i, d.RemainingRequests);
        Assert.AreEqual(long.MaxValue, d.RemainingTokens);  // no token limit
      }
      RateLimitDecision refused = rl.Check("user-42");
      Assert.IsFalse(refused.Allowed);
      Assert.AreEqual(0, refused.RemainingRequests);
      // 5 a minute: one every 12 s, less the time the test has taken.
      Assert.IsTrue(refused.RetryAfter > TimeSpan.FromSeconds(11) && refused.RetryAfter <= TimeSpan.FromSeconds(12),
                    refused.RetryAfter.ToString());
      Assert.IsTrue(rl.Check("user-43").Allowed, "every key has its own limit");
    }
  }

  [Test]
  public void BurstRequests_SetsHowManyGoAtOnce() {
    using (var rl = Limiter("requests", "60", "burst_requests", "2")) {
      Assert.IsTrue(rl.Check("k").Allowed);
      Assert.IsTrue(rl.Check("k").Allowed);
      RateLimitDecision refused = rl.Check("k");
      Assert.IsFalse(refused.Allowed);
      Assert.IsTrue(refused.RetryAfter > TimeSpan.Zero && refused.RetryAfter <= TimeSpan.FromSeconds(1),
                    refused.RetryAfter.ToString());
    }
  }

  [Test]
  public void Tokens_OverTheBurst_NeverFit() {
    using (var rl = Limiter("tokens", "100", "window", Year)) {
      RateLimitDecision never = rl.Check("k", 101);
      Assert.IsFalse(never.Allowed);
      Assert.IsNull(never.RetryAfter);
      Assert.AreEqual(100, never.RemainingTokens);
      Assert.AreEqual(long.MaxValue, never.RemainingRequests);

      var e = Fails(Status.RateLimited, () => rl.Acquire("k", 101));
      StringAssert.Contains("101 tokens exceed the burst", e.Message);

      RateLimitDecision all = rl.Check("k", 100);
      Assert.IsTrue(all.Allowed);
      Assert.AreEqual(0, all.RemainingTokens);
      RateLimitDecision later = rl.Check("k", 1);
      Assert.IsFalse(later.Allowed);
      Assert.IsNotNull(later.RetryAfter, "one token fits again one day");
      Assert.Greater(later.RetryAfter.Value, TimeSpan.FromHours(1));
    }
  }

  [Test]
  public void Check_WithTooManyTokens_ThrowsInvalidArgument() {
    using (var rl = Limiter("tokens", "100")) {
      var e = Fails(Status.InvalidArgument, () => rl.Check("k", ulong.MaxValue));
      Assert.AreEqual("tokens is too large", e.Message);
    }
  }

  [Test]
  public void Concurrency_SlotIsHeldUntilRelease() {
    using (var rl = Limiter("concurrency", "1")) {
      Assert.IsTrue(rl.Check("k").Allowed);
      RateLimitDecision busy = rl.Check("k");
      Assert.IsFalse(busy.Allowed);
      Assert.AreEqual(TimeSpan.Zero, busy.RetryAfter, "a slot frees at no known time");
      Assert.IsTrue(rl.Check("other").Allowed);

      rl.Release("k");
      Assert.IsTrue(rl.Check("k").Allowed);
      rl.Release("k");
      var e = Fails(Status.NotFound, () => rl.Release("k"));
      Assert.AreEqual("the key holds no concurrency slot", e.Message);
    }
  }

  [Test]
  public void Release_OfAKeyNeverAdmitted_ThrowsNotFound() {
    using (var rl = Limiter("concurrency", "3")) {
      Fails(Status.NotFound, () => rl.Release("nobody"));
    }
  }

  [Test]
  public void Reconcile_RefundsUnusedTokensAndChargesTheExcess() {
    using (var rl = Limiter("tokens", "100", "window", Year)) {
      Assert.IsTrue(rl.Check("k", 100).Allowed);
      Assert.IsFalse(rl.Check("k", 1).Allowed);

      rl.Reconcile("k", 100, 40);  // reserved 100, used 40: 60 back
      Assert.AreEqual(60, rl.Check("k", 0).RemainingTokens);
      rl.Reconcile("k", 10, 30);   // reserved 10, used 30: 20 more
      Assert.AreEqual(40, rl.Check("k", 0).RemainingTokens);
      Assert.IsFalse(rl.Check("k", 41).Allowed);
      RateLimitDecision last = rl.Check("k", 40);
      Assert.IsTrue(last.Allowed);
      Assert.AreEqual(0, last.RemainingTokens);
    }
  }

  [Test]
  public void Reconcile_NeverRefundsBeyondTheBurst() {
    using (var rl = Limiter("tokens", "100", "window", Year)) {
      rl.Reconcile("k", 1000, 0);
      Assert.IsFalse(rl.Check("k", 101).Allowed);
      Assert.AreEqual(100, rl.Check("k", 0).RemainingTokens);
    }
  }

  [Test]
  public void Acquire_AdmitsAtOnceWhenThereIsRoom() {
    using (var rl = Limiter("requests", "2", "window", Year))
    using (var cts = new CancellationTokenSource()) {
      rl.Acquire("k");
      rl.Acquire("k", 0, TimeSpan.Zero, cts.Token);
      cts.Cancel();  // after the call: nothing is listening any more
      Assert.IsFalse(rl.Check("k").Allowed);
      Assert.AreEqual(2UL, rl.Stats.Allowed);
    }
  }

  [Test]
  public void Acquire_WaitsForASlotReleasedByAnotherThread() {
    using (var rl = Limiter("concurrency", "1"))
    using (var started = new ManualResetEventSlim())
    using (var acquired = new ManualResetEventSlim()) {
      Assert.IsTrue(rl.Check("k").Allowed);
      var worker = new Worker(() => {
        started.Set();
        rl.Acquire("k", 0, Long);
        acquired.Set();
      });
      started.Wait();
      Thread.Sleep(100);  // time to block
      Assert.IsFalse(acquired.IsSet, "Acquire returned while the slot was held");

      rl.Release("k");
      Assert.IsTrue(acquired.Wait(Long));
      Assert.IsNull(worker.Join());
      Assert.IsFalse(rl.Check("k").Allowed, "the worker holds the slot now");
      rl.Release("k");
    }
  }

  [Test]
  public void Acquire_IsCancelledAtOnceFromAnotherThread() {
    using (var rl = Limiter("requests", "1", "window", "3600"))
    using (var cts = new CancellationTokenSource())
    using (var started = new ManualResetEventSlim()) {
      Assert.IsTrue(rl.Check("k").Allowed);  // the next request fits in an hour
      var worker = new Worker(() => {
        started.Set();
        rl.Acquire("k", cancellationToken: cts.Token);  // no timeout
      });
      started.Wait();
      Thread.Sleep(100);  // time to block
      Assert.IsTrue(worker.IsAlive, "Acquire should be waiting");

      var clock = Stopwatch.StartNew();
      cts.Cancel();
      Exception error = worker.Join();
      Assert.Less(clock.Elapsed, TimeSpan.FromSeconds(1));

      Assert.IsInstanceOf<OperationCanceledException>(error);
      var cancelled = (OperationCanceledException)error;
      Assert.AreEqual(cts.Token, cancelled.CancellationToken);
      Assert.IsInstanceOf<LlmkitException>(cancelled.InnerException);
      Assert.AreEqual(Status.Cancelled, ((LlmkitException)cancelled.InnerException).Status);
      Assert.AreEqual(cancelled.InnerException.Message, cancelled.Message);
    }
  }

  [Test]
  public void Acquire_WithACancelledToken_ThrowsWithoutTakingAnything() {
    using (var rl = Limiter("requests", "1", "window", Year))
    using (var cts = new CancellationTokenSource()) {
      cts.Cancel();
      var e = Assert.Throws<OperationCanceledException>(() => rl.Acquire("k", 0, null, cts.Token));
      Assert.AreEqual(cts.Token, e.CancellationToken);
      Assert.IsTrue(rl.Check("k").Allowed, "the cancelled Acquire took the only request");
    }
  }

  [Test]
  public void Acquire_WithAShortTimeout_ThrowsTimeoutWithoutWaitingItOut() {
    using (var rl = Limiter("requests", "1", "window", "60")) {
      Assert.IsTrue(rl.Check("k").Allowed);  // the next request fits in a minute
      var clock = Stopwatch.StartNew();
      var e = Fails(Status.Timeout, () => rl.Acquire("k", 0, TimeSpan.FromSeconds(5)));
      Assert.Less(clock.Elapsed, TimeSpan.FromSeconds(1));
      StringAssert.Contains("deadline", e.Message);
      Fails(Status.Timeout, () => rl.Acquire("k", 0, TimeSpan.Zero));
    }
  }

  [Test]
  public void Acquire_OnABusySlot_TimesOut() {
    using (var rl = Limiter("concurrency", "1")) {
      Assert.IsTrue(rl.Check("k").Allowed);
      Fails(Status.Timeout, () => rl.Acquire("k", 0, TimeSpan.FromMilliseconds(20)));
    }
  }

  [Test]
  public void Acquire_WithANegativeTimeout_ThrowsArgumentOutOfRange() {
    using (var rl = Limiter("requests", "1")) {
      Assert.Throws<ArgumentOutOfRangeException>(() => rl.Acquire("k", 0, TimeSpan.FromSeconds(-1)));
      rl.Acquire("k", 0, Timeout.InfiniteTimeSpan);  // the .NET spelling of "no timeout"
    }
  }

  [Test]
  public void BadOptions_ThrowInvalidArgumentWithTheLibrarysMessage() {
    Assert.AreEqual("the rate limiter needs at least one of 'requests', 'tokens' or 'concurrency'",
                    Fails(Status.InvalidArgument, () => Limiter()).Message);
    Assert.AreEqual("option 'window' must be 1 second to 1 year",
                    Fails(Status.InvalidArgument, () => Limiter("requests", "1", "window", "0")).Message);
    Assert.AreEqual("option 'requests' must be >= 0",
                    Fails(Status.InvalidArgument, () => Limiter("requests", "-1")).Message);
  }

  [Test]
  public void UnknownOptionsAndBackends_AreRefused() {
    var e = Fails(Status.InvalidArgument, () => Limiter("requests", "1", "bogus", "1"));
    StringAssert.Contains("bogus", e.Message);
    e = Fails(Status.InvalidArgument, () => Limiter("requests", "1", "backend", "floppy"));
    StringAssert.Contains("floppy", e.Message);
    e = Fails(Status.InvalidArgument, () => Limiter("requests", "1", "backend", "shm"));
    StringAssert.Contains("shm.name", e.Message);
    e = Fails(Status.InvalidArgument,
              () => Limiter("requests", "1", "backend", "redis", "redis.url", "http://x"));
    StringAssert.Contains("invalid redis URL", e.Message);
    Assert.Throws<ArgumentNullException>(() => new RateLimiter(null));
  }

  [Test]
  public void Options_AreCopiedAtConstruction() {
    using (var o = new Options()) {
      o["requests"] = "1";
      using (var rl = new RateLimiter(o)) {
        o["requests"] = "100";
        Assert.IsTrue(rl.Check("k").Allowed);
        Assert.IsFalse(rl.Check("k").Allowed);
      }
    }
  }

  [Test]
  public void Keys_AreBytes_EmptyAndBinaryIncluded() {
    byte[][] keys = {
      new byte[0], new byte[] { 0x00 }, new byte[] { 0x00, 0xFF, 0x80 }, new byte[] { 0x00, 0xFF, 0x81 },
      Encoding.UTF8.GetBytes("a"), Encoding.UTF8.GetBytes("a\0b"), new byte[] { 0xC3, 0x28 },  // invalid UTF-8
    };
    using (var rl = Limiter("requests", "1", "window", Year)) {
      foreach (byte[] key in keys) {
        string name = BitConverter.ToString(key);
        Assert.IsTrue(rl.Check(key).Allowed, name);
        Assert.IsFalse(rl.Check(key).Allowed, name);
      }
      Assert.AreEqual((ulong)keys.Length, rl.Stats.Keys);
      Assert.IsFalse(rl.Check("").Allowed, "\"\" is the empty key");
      Assert.IsFalse(rl.Check("a").Allowed, "a string is its UTF-8 bytes");
      Assert.IsFalse(rl.Check(new ReadOnlySpan<byte>(new byte[] { 0x61, 0x00, 0x62, 0x63 }, 0, 3)).Allowed,
                     "a slice is the key it spans");
    }
  }

  [Test]
  public void BinaryKeys_WorkForAcquireReleaseAndReconcile() {
    byte[] key = { 0xFF, 0x00, 0xFE };
    using (var rl = Limiter("concurrency", "1", "tokens", "10", "window", Year)) {
      rl.Acquire(key, 10, TimeSpan.Zero);
      Fails(Status.Timeout, () => rl.Acquire(key, 0, TimeSpan.Zero));
      rl.Release(key);
      Fails(Status.NotFound, () => rl.Release(key));
      rl.Reconcile(key, 10, 4);
      Assert.AreEqual(6, rl.Check(key, 0).RemainingTokens);
      rl.Release(key);
      rl.Acquire(new byte[0], 0, TimeSpan.Zero);
      rl.Release(new byte[0]);
    }
  }

  [Test]
  public void StringKeys_AreCheckedBeforeTheCall() {
    using (var rl = Limiter("requests", "1")) {
      Assert.Throws<ArgumentNullException>(() => rl.Check((string)null));
      Assert.Throws<ArgumentNullException>(() => rl.Acquire((string)null));
      Assert.Catch<ArgumentException>(() => rl.Check("bad \uD800 key"));
      Assert.AreEqual(0UL, rl.Stats.Allowed + rl.Stats.Limited);
    }
  }

  [Test]
  public void Stats_CountDecisions() {
    using (var rl = Limiter("requests", "2", "window", Year)) {
      RateLimiterStats empty = rl.Stats;
      Assert.AreEqual(0UL, empty.Allowed);
      Assert.AreEqual(0UL, empty.Keys);

      for (int i = 0; i < 5; i++) rl.Check("a");  // 2 allowed, 3 limited
      rl.Check("b");
      Fails(Status.Timeout, () => rl.Acquire("a", 0, TimeSpan.Zero));  // one more limited

      RateLimiterStats s = rl.Stats;
      Assert.AreEqual(3UL, s.Allowed);
      Assert.AreEqual(4UL, s.Limited);
      Assert.AreEqual(2UL, s.Keys);
      Assert.Greater(s.Bytes, 0UL);
      Assert.AreEqual(0UL, s.BackendErrors);
      Assert.AreEqual(3UL, rl.Stat("allowed"));
      Assert.AreEqual(4UL, rl.Stat("limited"));

      var e = Fails(Status.NotFound, () => rl.Stat("nope"));
      StringAssert.Contains("nope", e.Message);
    }
  }

  // Eight threads race for one key whose window never refills during the
  // test: exactly the burst gets through (never more than limit + burst),
  // and the counters agree.
  [Test]
  public void ManyThreads_OnOneKey_AdmitExactlyTheBurst() {
    const int threads = 8, checks = 500, limit = 1000;
    using (var rl = Limiter("requests", limit.ToString(), "window", Year)) {
      int admitted = 0;
      Worker[] workers = Enumerable.Range(0, threads).Select(_ => new Worker(() => {
        for (int n = 0; n < checks; n++) {
          if (rl.Check("shared").Allowed) Interlocked.Increment(ref admitted);
        }
      })).ToArray();
      foreach (var w in workers) Assert.IsNull(w.Join());
      Assert.AreEqual(limit, admitted);
      Assert.AreEqual((ulong)limit, rl.Stats.Allowed);
      Assert.AreEqual((ulong)(threads * checks - limit), rl.Stats.Limited);
    }
  }

  // Threads that Acquire and Release one key never hold more slots at once
  // than "concurrency" allows, and all of them get through, waiting their turn.
  [Test]
  public void ManyThreads_Acquiring_NeverExceedTheConcurrency() {
    const int threads = 8, rounds = 25, slots = 3;
    using (var rl = Limiter("concurrency", slots.ToString())) {
      int inFlight = 0, most = 0, done = 0;
      Worker[] workers = Enumerable.Range(0, threads).Select(_ => new Worker(() => {
        for (int n = 0; n < rounds; n++) {
          rl.Acquire("shared", 0, Long);
          int now = Interlocked.Increment(ref inFlight);
          int seen;
          while (now > (seen = Volatile.Read(ref most)) && Interlocked.CompareExchange(ref most, now, seen) != seen) {}
          Thread.Sleep(1);  // the request's work, while it holds the slot
          Interlocked.Decrement(ref inFlight);
          rl.Release("shared");
          Interlocked.Increment(ref done);
        }
      })).ToArray();
      foreach (var w in workers) Assert.IsNull(w.Join());
      Assert.AreEqual(threads * rounds, done);
      Assert.LessOrEqual(most, slots);
      Assert.Greater(rl.Stats.Limited, 0UL, "no thread ever waited");
      Fails(Status.NotFound, () => rl.Release("shared"));  // every slot came back
    }
  }

  [Test]
  public void Use_AfterDispose_ThrowsObjectDisposedException() {
    var rl = Limiter("requests", "1", "concurrency", "1");
    rl.Dispose();
    rl.Dispose();
    Assert.Throws<ObjectDisposedException>(() => rl.Check("k"));
    Assert.Throws<ObjectDisposedException>(() => rl.Check(new byte[] { 1 }));
    Assert.Throws<ObjectDisposedException>(() => rl.Acquire("k"));
    using (var cts = new CancellationTokenSource()) {
      Assert.Throws<ObjectDisposedException>(() => rl.Acquire("k", 0, null, cts.Token));
    }
    Assert.Throws<ObjectDisposedException>(() => rl.Release("k"));
    Assert.Throws<ObjectDisposedException>(() => rl.Reconcile("k", 1, 0));
    Assert.Throws<ObjectDisposedException>(() => rl.Stat("allowed"));
    Assert.Throws<ObjectDisposedException>(() => { var unused = rl.Stats; });
  }

  // The SafeHandle keeps the limiter alive for a call in progress: disposing
  // it under a blocked Acquire frees it only after that call has returned.
  [Test]
  public void Dispose_WhileAnotherThreadWaits_LetsThatCallFinish() {
    var rl = Limiter("requests", "1", "window", "3600");
    using (var cts = new CancellationTokenSource())
    using (var started = new ManualResetEventSlim()) {
      Assert.IsTrue(rl.Check("k").Allowed);
      var worker = new Worker(() => {
        started.Set();
        rl.Acquire("k", cancellationToken: cts.Token);
      });
      started.Wait();
      Thread.Sleep(100);  // time to block
      rl.Dispose();
      Assert.IsTrue(worker.IsAlive, "Dispose ended the wait");
      cts.Cancel();
      Assert.IsInstanceOf<OperationCanceledException>(worker.Join());
      Assert.Throws<ObjectDisposedException>(() => rl.Check("k"));
    }
  }
}

}
