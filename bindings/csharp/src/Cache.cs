using System;
using System.Collections;
using System.Collections.Generic;
using System.Threading;
using Microsoft.Win32.SafeHandles;

namespace Llmkit {

/// <summary>A cache of provider answers keyed by the request that produced
/// them. <see cref="Key(string, string, string, Options, out CacheUse)"/>
/// hashes a request into a key: JSON key order, number spelling (1, 1.0, 1e0)
/// and string escapes do not change it, every field that can change the answer
/// does. Values are any bytes. Every method is safe to call from any number of
/// threads at once on one shared instance.</summary>
/// <remarks>See the "Response cache" section of llmkit.h for the options,
/// the eviction (S3-FIFO) and the Redis backend.</remarks>
public sealed class Cache : IDisposable {
  // llmkit takes waits up to about 292 years; fifty is forever in practice.
  static readonly long ForeverMs = (long)TimeSpan.FromDays(50 * 365).TotalMilliseconds;

  // Passed for absent call options: C gets NULL, as Cancel.None passes it.
  static readonly OptionsHandle NoOptions = new OptionsHandle();

  readonly CacheHandle handle;

  volatile bool disposed;

  // For a client to hold (Client.Cache): the native object lives on
  // until the clients holding it let go.
  internal CacheHandle Handle => disposed ? throw new ObjectDisposedException(nameof(Cache)) : handle;

  /// <param name="options">Integers: "max_entries" (default 100000),
  /// "max_bytes" (default 64 MiB), "shards" (default 16), "ttl" in seconds
  /// (default 3600). Strings: "temperature", "cache" (the default) or "skip"
  /// (bypass requests sampled at a temperature other than 0); "backend",
  /// "memory" (the default) or "redis" with "redis.url", "redis.prefix",
  /// "redis.timeout_ms" and "local.ttl". The cache copies them:
  /// <paramref name="options"/> may be changed or disposed afterwards.</param>
  /// <exception cref="LlmkitException">InvalidArgument naming an unknown
  /// option or a bad value.</exception>
  public Cache(Options options) {
    if (options == null) throw new ArgumentNullException(nameof(options));
    Native.llmkit_cache_new(options.Handle, out handle);
  }

  /// <summary>The key of a request: 32 lower-case hex digits.</summary>
  /// <param name="scope">The tenant (null or "" for none): keys of different
  /// scopes never meet.</param>
  /// <param name="provider">"openai", "anthropic", "gemini", "ollama" or any other name.</param>
  /// <param name="requestJson">The request body as sent to the provider, a JSON object.</param>
  /// <param name="callOptions">Per-call settings (may be null): "cache" is
  /// "use" (the default), "bypass" or "refresh".</param>
  /// <param name="use">What the call should do with the cache: Bypass when it
  /// opts out or the "temperature" policy skips the request (the key is
  /// computed all the same), Refresh to skip the lookup and store the fresh
  /// answer, Use otherwise.</param>
  /// <exception cref="LlmkitException">InvalidArgument for malformed JSON or
  /// a bad call option.</exception>
  public string Key(string scope, string provider, string requestJson, Options callOptions, out CacheUse use) =>
      Key(scope, provider, Utf8.Bytes(requestJson, nameof(requestJson)), callOptions, out use);

  /// <summary><see cref="Key(string, string, string, Options, out CacheUse)"/>
  /// with no call options.</summary>
  public string Key(string scope, string provider, string requestJson, out CacheUse use) =>
      Key(scope, provider, requestJson, null, out use);

  /// <summary><see cref="Key(string, string, string, Options, out CacheUse)"/>
  /// for a request body as UTF-8 bytes (invalid UTF-8 is InvalidArgument).</summary>
  public string Key(string scope, string provider, ReadOnlySpan<byte> requestJson, Options callOptions,
                    out CacheUse use) {
    string key;
    Native.llmkit_cache_key(handle, scope, provider, requestJson, callOptions?.Handle ?? NoOptions, out key,
                            out use);
    return key;
  }

  /// <summary>The value stored under <paramref name="key"/>; null on a miss
  /// (or an expired entry, or an unreachable Redis).</summary>
  /// <exception cref="LlmkitException">InvalidArgument for a key that is not 32 hex digits.</exception>
  public byte[] Get(string key) {
    CacheValueHandle value;
    Native.llmkit_cache_get(handle, key, out value);
    return Take(value);
  }

  /// <summary><see cref="Get"/> as text; invalid UTF-8 becomes U+FFFD.</summary>
  public string GetString(string key) => Utf8.Text(Get(key));

  /// <summary>Stores a copy of <paramref name="value"/> under
  /// <paramref name="key"/>, replacing any entry, and wakes the callers
  /// waiting for it in <see cref="GetOrFill"/>. A value larger than
  /// "max_bytes" / "shards" is not stored.</summary>
  /// <param name="ttl">How long the entry lives, rounded up to a whole
  /// millisecond; null: the "ttl" option.</param>
  /// <exception cref="ArgumentOutOfRangeException">A TTL that is not positive.</exception>
  public void Put(string key, byte[] value, TimeSpan? ttl = null) {
    if (value == null) throw new ArgumentNullException(nameof(value));
    Native.llmkit_cache_put(handle, key, value, TtlMs(ttl));
  }

  /// <summary><see cref="Put(string, byte[], TimeSpan?)"/> for text, stored as UTF-8.</summary>
  public void Put(string key, string value, TimeSpan? ttl = null) =>
      Native.llmkit_cache_put(handle, key, Utf8.Bytes(value, nameof(value)), TtlMs(ttl));

  /// <summary>Removes the entry of <paramref name="key"/>, if any.</summary>
  /// <exception cref="LlmkitException">Unavailable when Redis cannot be
  /// reached (the entry may live on there).</exception>
  public void Invalidate(string key) => Native.llmkit_cache_invalidate(handle, key);

  /// <summary>Removes every entry (with Redis, every key under "redis.prefix").</summary>
  public void Clear() => Native.llmkit_cache_clear(handle);

  /// <summary>One statistic: "hits", "misses", "evictions", "expirations",
  /// "entries" and "bytes" (held in memory now), "waits" (lookups that waited
  /// on another caller's fill), "backend_errors".</summary>
  /// <exception cref="LlmkitException">NotFound for another name.</exception>
  public ulong Stat(string name) {
    ulong value;
    Native.llmkit_cache_stat(handle, name, out value);
    return value;
  }

  /// <summary>Every statistic of <see cref="Stat"/>, each read on its own:
  /// with other threads at work they are not one consistent snapshot.</summary>
  public CacheStats Stats =>
      new CacheStats(Stat("hits"), Stat("misses"), Stat("evictions"), Stat("expirations"), Stat("entries"),
                     Stat("bytes"), Stat("waits"), Stat("backend_errors"));

  /// <summary>The value of <paramref name="key"/>, computed by
  /// <paramref name="fill"/> and stored (for the "ttl" option) on a miss,
  /// with stampede protection: of the callers that miss on one key at once,
  /// one calls <paramref name="fill"/> and the others wait up to
  /// <paramref name="wait"/> for its value. A caller whose wait runs out
  /// calls <paramref name="fill"/> itself. When the filler's
  /// <paramref name="fill"/> throws, the exception propagates to it and one
  /// waiter fills instead. Waiting is per process.</summary>
  /// <param name="wait">The longest wait for another caller's fill;
  /// <see cref="Timeout.InfiniteTimeSpan"/> waits as long as it takes.</param>
  /// <param name="cancellationToken">Cancelling it ends a wait at once; it is
  /// not passed to <paramref name="fill"/>.</param>
  /// <exception cref="OperationCanceledException">The token was cancelled
  /// while waiting; its InnerException is the library's LlmkitException
  /// (Status.Cancelled).</exception>
  /// <exception cref="InvalidOperationException"><paramref name="fill"/> returned null.</exception>
  public byte[] GetOrFill(string key, TimeSpan wait, Func<byte[]> fill,
                          CancellationToken cancellationToken = default(CancellationToken)) {
    if (fill == null) throw new ArgumentNullException(nameof(fill));
    long waitMs = WaitMs(wait);
    CacheValueHandle value;
    int filler;
    using (var cancel = new Cancel(cancellationToken)) {
      try {
        Native.llmkit_cache_lookup(handle, key, waitMs, cancel.Handle, out value, out filler);
      } catch (LlmkitException e) when (e.Status == Status.Cancelled) {
        throw cancel.Cancelled(e);
      }
    }
    byte[] found = Take(value);
    if (found != null) return found;
    if (filler == 0) return Fill(key, fill);  // the wait ran out: no one waits on this caller
    try {
      return Fill(key, fill);
    } catch {
      // The waiters would otherwise sleep out their wait: one of them fills now.
      Native.llmkit_cache_abandon(handle, key);
      throw;
    }
  }

  byte[] Fill(string key, Func<byte[]> fill) {
    byte[] value = fill();
    if (value == null) throw new InvalidOperationException("the fill function returned null");
    Native.llmkit_cache_put(handle, key, value, 0);
    return value;
  }

  /// <summary>Answers an embeddings request (OpenAI's shape: "model", "input"
  /// as a string or an array, "dimensions", "encoding_format") with each input
  /// cached on its own: <paramref name="upstream"/> is called only when some
  /// inputs miss, with the request narrowed to those, and its answer is stored
  /// per input (for the "ttl" option).</summary>
  /// <param name="upstream">Sends a request body to the provider and returns
  /// its answer body.</param>
  /// <returns>The answer to the whole request: every input's embedding at its
  /// original "index", "usage" as the provider counted it for the misses.</returns>
  /// <exception cref="LlmkitException">InvalidArgument for a malformed
  /// request; ProviderError for an answer with the wrong number of embeddings.</exception>
  /// <exception cref="InvalidOperationException"><paramref name="upstream"/> returned null.</exception>
  public string Embeddings(string scope, string provider, string requestJson, Func<string, string> upstream) {
    if (upstream == null) throw new ArgumentNullException(nameof(upstream));
    EmbeddingsHandle batch;
    Native.llmkit_embeddings_new(handle, scope, provider, Utf8.Bytes(requestJson, nameof(requestJson)), out batch);
    using (batch) {
      UIntPtr misses;
      byte[] request;
      Native.llmkit_embeddings_upstream(batch, out misses, out request);
      byte[] answer = null;  // NULL with 0 when nothing was asked
      if (misses != UIntPtr.Zero) {
        string text = upstream(Utf8.Text(request));
        if (text == null) throw new InvalidOperationException("the upstream function returned null");
        answer = Utf8.Bytes(text, nameof(upstream));
      }
      byte[] response;
      Native.llmkit_embeddings_complete(batch, answer, 0, out response);
      return Utf8.Text(response);
    }
  }

  /// <summary>The chunks a streaming caller would have received for a cached
  /// Chat Completions answer ("chat.completion" JSON): a role chunk, the
  /// content in pieces of about <paramref name="pieceBytes"/> bytes (never
  /// splitting a UTF-8 character), tool calls with their arguments in pieces,
  /// the finish reason, and a usage chunk when the answer has "usage". Each is
  /// the JSON of one "chat.completion.chunk", the payload of one server-sent
  /// event.</summary>
  /// <remarks>The answer is parsed here, so bad input throws at once; each
  /// enumeration then replays it from the start.</remarks>
  /// <exception cref="LlmkitException">InvalidArgument for malformed JSON or
  /// JSON that is not a chat completion.</exception>
  public static IEnumerable<string> Replay(string completionJson, int pieceBytes = 64) {
    if (pieceBytes <= 0) throw new ArgumentOutOfRangeException(nameof(pieceBytes), pieceBytes, "must be > 0");
    return new ReplayChunks(Utf8.Bytes(completionJson, nameof(completionJson)), (UIntPtr)pieceBytes);
  }

  sealed class ReplayChunks : IEnumerable<string> {
    readonly byte[] json;
    readonly UIntPtr pieceBytes;
    ReplayHandle parsed;  // the first enumeration's replay, parsed up front to report bad input

    public ReplayChunks(byte[] json, UIntPtr pieceBytes) {
      this.json = json;
      this.pieceBytes = pieceBytes;
      parsed = Parse();
    }

    ReplayHandle Parse() {
      ReplayHandle replay;
      Native.llmkit_replay_new(json, pieceBytes, out replay);
      return replay;
    }

    public IEnumerator<string> GetEnumerator() => Chunks(Interlocked.Exchange(ref parsed, null) ?? Parse());

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    // Each chunk is copied before the next call, which invalidates it.
    static IEnumerator<string> Chunks(ReplayHandle replay) {
      using (replay) {
        while (true) {
          byte[] chunk;
          Native.llmkit_replay_next(replay, out chunk);
          if (chunk == null) yield break;
          yield return Utf8.Text(chunk);
        }
      }
    }
  }

  // A value's bytes, copied; the value is released either way. Null for a miss.
  static byte[] Take(CacheValueHandle value) {
    using (value) {
      if (value.IsInvalid) return null;
      byte[] data;
      Native.llmkit_cache_value_data(value, out data);
      return data ?? new byte[0];
    }
  }

  static long TtlMs(TimeSpan? ttl) {
    if (ttl == null) return 0;  // the "ttl" option
    if (ttl.Value <= TimeSpan.Zero) {
      throw new ArgumentOutOfRangeException(nameof(ttl), ttl.Value,
                                            "a TTL must be > 0; null means the cache's \"ttl\" option");
    }
    long ticks = ttl.Value.Ticks;
    return ticks / TimeSpan.TicksPerMillisecond + (ticks % TimeSpan.TicksPerMillisecond != 0 ? 1 : 0);
  }

  static long WaitMs(TimeSpan wait) {
    if (wait == Timeout.InfiniteTimeSpan) return ForeverMs;
    if (wait < TimeSpan.Zero) {
      throw new ArgumentOutOfRangeException(nameof(wait), wait, "a wait must be >= 0 or Timeout.InfiniteTimeSpan");
    }
    return Math.Min(wait.Ticks / TimeSpan.TicksPerMillisecond, ForeverMs);
  }

  /// <summary>Frees the cache and its in-memory entries now rather than at
  /// finalization, or, while calls are still running on other threads (a
  /// GetOrFill waiting), as soon as the last of them returns; a client it is
  /// set on (<see cref="Client.Cache"/>) keeps it until it lets go. Once
  /// disposed, any use throws ObjectDisposedException.</summary>
  public void Dispose() {
    disposed = true;
    handle.Dispose();
  }
}

/// <summary>The statistics of a <see cref="Cache"/>; see <see cref="Cache.Stat"/>.</summary>
public readonly struct CacheStats {
  public ulong Hits { get; }
  public ulong Misses { get; }
  public ulong Evictions { get; }
  public ulong Expirations { get; }
  public ulong Entries { get; }
  public ulong Bytes { get; }
  public ulong Waits { get; }
  public ulong BackendErrors { get; }

  public CacheStats(ulong hits, ulong misses, ulong evictions, ulong expirations, ulong entries, ulong bytes,
                    ulong waits, ulong backendErrors) {
    Hits = hits;
    Misses = misses;
    Evictions = evictions;
    Expirations = expirations;
    Entries = entries;
    Bytes = bytes;
    Waits = waits;
    BackendErrors = backendErrors;
  }
}

// Own one llmkit_cache, llmkit_cache_value, llmkit_embeddings and
// llmkit_replay each, as OptionsHandle owns an llmkit_options.
internal sealed class CacheHandle : SafeHandleZeroOrMinusOneIsInvalid {
  public CacheHandle() : base(true) {}

  protected override bool ReleaseHandle() {
    NativePINVOKE.csharp_llmkit_cache_free(handle);
    return true;
  }
}

internal sealed class CacheValueHandle : SafeHandleZeroOrMinusOneIsInvalid {
  public CacheValueHandle() : base(true) {}

  protected override bool ReleaseHandle() {
    NativePINVOKE.csharp_llmkit_cache_value_free(handle);
    return true;
  }
}

internal sealed class EmbeddingsHandle : SafeHandleZeroOrMinusOneIsInvalid {
  public EmbeddingsHandle() : base(true) {}

  protected override bool ReleaseHandle() {
    NativePINVOKE.csharp_llmkit_embeddings_free(handle);
    return true;
  }
}

internal sealed class ReplayHandle : SafeHandleZeroOrMinusOneIsInvalid {
  public ReplayHandle() : base(true) {}

  protected override bool ReleaseHandle() {
    NativePINVOKE.csharp_llmkit_replay_free(handle);
    return true;
  }
}

}
