using System;
using System.Threading;
using Microsoft.Win32.SafeHandles;

namespace Llmkit {

/// <summary>Per-key limits on requests per window, tokens per window and
/// requests in flight (GCRA: no refill steps, no drift). Keys are any bytes
/// (a user id, a team); each key has its own limits, and in any window a key
/// is admitted at most limit + burst. Every method is safe to call from any
/// number of threads at once on one shared instance.</summary>
/// <remarks>See docs/ratelimit.md for the algorithm and its options.</remarks>
public sealed class RateLimiter : IDisposable {
  // llmkit takes timeouts up to about 73 years; fifty is forever in practice.
  static readonly long ForeverMs = (long)TimeSpan.FromDays(50 * 365).TotalMilliseconds;

  readonly RateLimiterHandle handle;

  volatile bool disposed;

  // For a client to hold (Client.RateLimiter): the native object lives on
  // until the clients holding it let go.
  internal RateLimiterHandle Handle => disposed ? throw new ObjectDisposedException(nameof(RateLimiter)) : handle;

  /// <param name="options">Integers: "requests" and "tokens" per window,
  /// "window" in seconds (default 60), "burst_requests" and "burst_tokens"
  /// (default: the limit), "concurrency" (requests in flight); 0 or unset turns
  /// a limit off, and at least one must be on. "backend": "memory" (the
  /// default), or "shm" or "redis" for one limit shared by processes or hosts,
  /// with their own options (docs/ratelimit.md). The limiter copies them:
  /// <paramref name="options"/> may be changed or disposed afterwards.</param>
  /// <exception cref="LlmkitException">InvalidArgument naming an unknown
  /// option or a bad value, or when no limit is on.</exception>
  public RateLimiter(Options options) {
    if (options == null) throw new ArgumentNullException(nameof(options));
    Native.llmkit_ratelimiter_new(options.Handle, out handle);
  }

  /// <summary>Asks to admit one request of <paramref name="tokens"/> tokens for
  /// <paramref name="key"/> (its UTF-8 bytes) now, without waiting.</summary>
  /// <returns>Admitted: the request is charged to every limit and, when
  /// "concurrency" is set, holds a slot until <see cref="Release(string)"/>.
  /// Refused: nothing is charged.</returns>
  /// <exception cref="LlmkitException">InvalidArgument for more than about
  /// 9.2 billion tokens.</exception>
  public RateLimitDecision Check(string key, ulong tokens = 0) => Check(Utf8.Bytes(key, nameof(key)), tokens);

  /// <summary><see cref="Check(string, ulong)"/> for a key of any bytes, empty included.</summary>
  public RateLimitDecision Check(ReadOnlySpan<byte> key, ulong tokens = 0) {
    int allowed;
    long retryAfterMs, remainingRequests, remainingTokens;
    Native.llmkit_ratelimiter_check(handle, key, tokens, out allowed, out retryAfterMs, out remainingRequests,
                                    out remainingTokens);
    TimeSpan? retryAfter = null;
    if (retryAfterMs >= 0) retryAfter = TimeSpan.FromTicks(retryAfterMs * TimeSpan.TicksPerMillisecond);
    return new RateLimitDecision(allowed != 0, retryAfter, remainingRequests, remainingTokens);
  }

  /// <summary>Like <see cref="Check(string, ulong)"/>, but blocks until the
  /// request is admitted, and returns then. Waiting on a time-based limit
  /// sleeps until the request fits; waiting on a concurrency slot polls,
  /// backing off from 0.1 to 10 ms.</summary>
  /// <param name="timeout">The longest wait; null or
  /// <see cref="Timeout.InfiniteTimeSpan"/> waits as long as it takes.
  /// Whole milliseconds count.</param>
  /// <param name="cancellationToken">Cancelling it from any thread ends the
  /// wait at once. If it is cancelled just as the request is admitted,
  /// Acquire may still return normally: the request then holds what it took.</param>
  /// <exception cref="LlmkitException">Timeout as soon as the request is known
  /// not to fit before the timeout (without waiting it out); RateLimited when
  /// it can never fit (more tokens than the burst).</exception>
  /// <exception cref="OperationCanceledException">The token was cancelled;
  /// its InnerException is the library's LlmkitException (Status.Cancelled).</exception>
  /// <exception cref="ArgumentOutOfRangeException">A negative timeout other
  /// than Timeout.InfiniteTimeSpan.</exception>
  public void Acquire(string key, ulong tokens = 0, TimeSpan? timeout = null,
                      CancellationToken cancellationToken = default(CancellationToken)) =>
      Acquire(Utf8.Bytes(key, nameof(key)), tokens, timeout, cancellationToken);

  /// <summary><see cref="Acquire(string, ulong, TimeSpan?, CancellationToken)"/>
  /// for a key of any bytes, empty included.</summary>
  public void Acquire(ReadOnlySpan<byte> key, ulong tokens = 0, TimeSpan? timeout = null,
                      CancellationToken cancellationToken = default(CancellationToken)) {
    long timeoutMs = TimeoutMs(timeout);
    using (var cancel = new Cancel(cancellationToken)) {
      try {
        Native.llmkit_ratelimiter_acquire(handle, key, tokens, timeoutMs, cancel.Handle);
      } catch (LlmkitException e) when (e.Status == Status.Cancelled) {
        throw cancel.Cancelled(e);
      }
    }
  }

  static long TimeoutMs(TimeSpan? timeout) {
    if (timeout == null || timeout.Value == Timeout.InfiniteTimeSpan) return ForeverMs;
    if (timeout.Value < TimeSpan.Zero) {
      throw new ArgumentOutOfRangeException(nameof(timeout), timeout.Value,
                                            "a timeout must be >= 0 or Timeout.InfiniteTimeSpan");
    }
    return Math.Min(timeout.Value.Ticks / TimeSpan.TicksPerMillisecond, ForeverMs);
  }

  /// <summary>Gives back the concurrency slot of an admitted request.</summary>
  /// <exception cref="LlmkitException">NotFound when <paramref name="key"/> holds no slot.</exception>
  public void Release(string key) => Release(Utf8.Bytes(key, nameof(key)));

  public void Release(ReadOnlySpan<byte> key) => Native.llmkit_ratelimiter_release(handle, key);

  /// <summary>Settles a request admitted with an estimate of
  /// <paramref name="reserved"/> tokens that used <paramref name="actual"/>:
  /// refunds the difference (never beyond the burst) or charges the excess.</summary>
  public void Reconcile(string key, ulong reserved, ulong actual) =>
      Reconcile(Utf8.Bytes(key, nameof(key)), reserved, actual);

  public void Reconcile(ReadOnlySpan<byte> key, ulong reserved, ulong actual) =>
      Native.llmkit_ratelimiter_reconcile(handle, key, reserved, actual);

  /// <summary>One statistic: "allowed" and "limited" (decisions so far,
  /// Acquire's included), "keys" (keys with state), "bytes" (memory held for
  /// them), "backend_errors" (failed calls to a remote backend).</summary>
  /// <exception cref="LlmkitException">NotFound for another name.</exception>
  public ulong Stat(string name) {
    ulong value;
    Native.llmkit_ratelimiter_stat(handle, name, out value);
    return value;
  }

  /// <summary>Every statistic of <see cref="Stat"/>, each read on its own:
  /// with other threads at work they are not one consistent snapshot.</summary>
  public RateLimiterStats Stats =>
      new RateLimiterStats(Stat("allowed"), Stat("limited"), Stat("keys"), Stat("bytes"), Stat("backend_errors"));

  /// <summary>Frees the limiter now rather than at finalization, or, while
  /// calls are still running on other threads (an Acquire waiting), as soon as
  /// the last of them returns; a client it is set on
  /// (<see cref="Client.RateLimiter"/>) keeps it until it lets go. Once
  /// disposed, any use throws ObjectDisposedException.</summary>
  public void Dispose() {
    disposed = true;
    handle.Dispose();
  }
}

/// <summary>What <see cref="RateLimiter.Check(string, ulong)"/> decided.</summary>
public readonly struct RateLimitDecision {
  /// <summary>Whether the request was admitted (and charged).</summary>
  public bool Allowed { get; }

  /// <summary>How long until the same request fits, rounded up to a whole
  /// millisecond. <see cref="TimeSpan.Zero"/> when admitted, and when only the
  /// concurrency limit refused it (a slot frees when its holder releases, at
  /// no known time). Null when it can never fit: it asks for more tokens than
  /// the burst.</summary>
  public TimeSpan? RetryAfter { get; }

  /// <summary>Requests still admissible now, after this one if admitted;
  /// long.MaxValue when there is no request limit.</summary>
  public long RemainingRequests { get; }

  /// <summary>Tokens still admissible now, after this request's if admitted;
  /// long.MaxValue when there is no token limit.</summary>
  public long RemainingTokens { get; }

  public RateLimitDecision(bool allowed, TimeSpan? retryAfter, long remainingRequests, long remainingTokens) {
    Allowed = allowed;
    RetryAfter = retryAfter;
    RemainingRequests = remainingRequests;
    RemainingTokens = remainingTokens;
  }
}

/// <summary>The statistics of a <see cref="RateLimiter"/>; see <see cref="RateLimiter.Stat"/>.</summary>
public readonly struct RateLimiterStats {
  public ulong Allowed { get; }
  public ulong Limited { get; }
  public ulong Keys { get; }
  public ulong Bytes { get; }
  public ulong BackendErrors { get; }

  public RateLimiterStats(ulong allowed, ulong limited, ulong keys, ulong bytes, ulong backendErrors) {
    Allowed = allowed;
    Limited = limited;
    Keys = keys;
    Bytes = bytes;
    BackendErrors = backendErrors;
  }
}

// Owns one llmkit_ratelimiter, as OptionsHandle owns an llmkit_options.
internal sealed class RateLimiterHandle : SafeHandleZeroOrMinusOneIsInvalid {
  public RateLimiterHandle() : base(true) {}

  protected override bool ReleaseHandle() {
    NativePINVOKE.csharp_llmkit_ratelimiter_free(handle);
    return true;
  }
}

}
