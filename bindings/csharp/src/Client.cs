using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;

namespace Llmkit {

/// <summary>Calls one provider: OpenAI Chat Completions (and any
/// OpenAI-compatible server), Anthropic Messages, Gemini or Ollama, or routes
/// among several deployments of them ("deployments"). Each
/// client runs one HTTP event loop on a background thread with a shared
/// connection pool; one instance may be used by any number of threads at
/// once. docs/providers.md describes how each provider's answer becomes one
/// <see cref="Response"/>.</summary>
/// <example><code>
/// using (var opts = new Options())
/// using (var client = new Client(opts)) {  // after opts["provider"] = "openai" ...
///   Response r = client.Chat(new ChatRequest { Model = "gpt-4o-mini", Messages = { Message.User("Hi") } });
///   Console.WriteLine(r.Text);
/// }
/// </code></example>
public sealed class Client : IDisposable {
  // Passed for absent call options: C gets NULL.
  static readonly OptionsHandle NoOptions = new OptionsHandle();

  // The trampolines C calls back. The static fields keep the delegates alive
  // for the life of the process, past any call; each call's state reaches
  // them through user_data, a GCHandle of its CallState.
  static readonly StreamCallback ChunkCallback = OnChunk;
  static readonly DoneCallback DoneCallback = OnDone;

  readonly ClientHandle handle;
  Hooks hooks;              // under `handle`'s lock
  Cache cache;              // likewise
  RateLimiter rateLimiter;  // likewise

  // The depth of this thread's calls into llmkit_client_chat*: a hook that
  // runs where it is 0 runs on a thread of llmkit's (Hooks.OnHook).
  [ThreadStatic] internal static int InCall;

  /// <param name="options">"provider" (required): openai, openai-compatible,
  /// anthropic, gemini or ollama; "base_url" (required for
  /// openai-compatible); "api_key" (default: OPENAI_API_KEY,
  /// ANTHROPIC_API_KEY, GEMINI_API_KEY then GOOGLE_API_KEY from the
  /// environment); "model" (for requests that name none);
  /// "timeout.connect", "timeout.first_byte", "timeout.total", "timeout.idle"
  /// in milliseconds; "max_connections_per_host", "max_connections", "http2",
  /// "tls.verify", "tls.ca_file", "proxy", "anthropic.version",
  /// "embeddings.concurrency"; "scopes" (the hooks' scopes it is in, "a,b");
  /// "header.NAME" to send the header NAME on every call; "retry.attempts"
  /// (tries per call in all, default 3; "1": no retry), "retry.base_ms",
  /// "retry.max_ms"; "breaker" (default "true": a circuit breaker per
  /// deployment, <see cref="BreakerStats"/>) and "breaker.*"; "prices" (for
  /// <see cref="Response.CostUsd"/>); "cache.scope" (the tenant of its
  /// <see cref="Cache"/> keys); "deployments" and "fallbacks" (JSON text or a
  /// file: routing among several deployments, docs/routing.md;
  /// <see cref="Response.Deployment"/> names the one that answered); "trace"
  /// (a SQLite path, "jsonl:PATH" or a postgresql:// URL: a record of every
  /// call, written in the background; <see cref="Flush"/>,
  /// <see cref="TraceStats"/>, docs/traces.md) with "trace.queue",
  /// "trace.on_full", "trace.content", "trace.close_timeout_ms" and
  /// "application". See the "Provider calls" section of llmkit.h. The client copies
  /// them: <paramref name="options"/> may be changed or disposed afterwards.</param>
  /// <exception cref="LlmkitException">InvalidArgument for an unknown option
  /// or provider; Auth when the provider needs a key and none is set.</exception>
  public Client(Options options) {
    if (options == null) throw new ArgumentNullException(nameof(options));
    Native.llmkit_client_new(options.Handle, out handle);
  }

  /// <summary>Sends <paramref name="request"/> and waits for the whole answer.</summary>
  /// <param name="callOptions">Per-call settings (may be null): "stream" =
  /// "true" (stream without a callback, for the timing figures), "raw" =
  /// "true" (keep the body in <see cref="Response.Raw"/>), "deadline_ms"
  /// (the whole call, retries and their waits included), the client's
  /// "timeout.*" and "header.NAME" options for this call, for the hooks
  /// "tags" ("a,b") and "meta.KEY", "cache" ("use", "bypass", "refresh";
  /// <see cref="Cache"/>), "caller" and "ratelimit.wait_ms"
  /// (<see cref="RateLimiter"/>).</param>
  /// <param name="cancellationToken">Cancelling it from any thread ends the call at once.</param>
  /// <remarks>A call failing as another try may cure (rate limited,
  /// overloaded, the network, a timeout, a 5xx) is tried again after a
  /// backoff, up to the client's "retry.attempts"
  /// (<see cref="Response.Attempts"/>).</remarks>
  /// <exception cref="LlmkitException">The provider's error as a status
  /// (RateLimited, Auth, InvalidArgument, NotFound, Overloaded,
  /// ProviderError, Timeout) with the answer in
  /// <see cref="LlmkitException.Response"/>; Network, Timeout for the
  /// transport (a stream cut short is Network, "stream truncated"), with no
  /// Response; Unavailable while the deployment's circuit is open
  /// (<see cref="BreakerStats"/>); NotFound for a model no deployment
  /// serves; InvalidArgument or Unsupported for a
  /// request the provider cannot take.</exception>
  /// <exception cref="OperationCanceledException">The token was cancelled;
  /// its InnerException is the library's LlmkitException (Status.Cancelled).</exception>
  public Response Chat(ChatRequest request, Options callOptions = null,
                       CancellationToken cancellationToken = default(CancellationToken)) =>
      Send(request, null, callOptions, cancellationToken);

  /// <summary>Streams the answer: <paramref name="onChunk"/> gets each piece,
  /// in order, on the calling thread as it arrives; the whole answer is
  /// returned at the end. An exception thrown by <paramref name="onChunk"/>
  /// stops the stream and propagates from this call (so does cancelling the
  /// token, from the callback too).</summary>
  /// <inheritdoc cref="Chat(ChatRequest, Options, CancellationToken)"/>
  public Response Chat(ChatRequest request, Action<Chunk> onChunk, Options callOptions = null,
                       CancellationToken cancellationToken = default(CancellationToken)) {
    if (onChunk == null) throw new ArgumentNullException(nameof(onChunk));
    return Send(request, onChunk, callOptions, cancellationToken);
  }

  Response Send(ChatRequest request, Action<Chunk> onChunk, Options callOptions, CancellationToken token) {
    if (request == null) throw new ArgumentNullException(nameof(request));
    NotOnLoopThread();
    var call = new CallState(onChunk);
    GCHandle self = onChunk == null ? default(GCHandle) : GCHandle.Alloc(call);
    ResponseHandle response = null;
    LlmkitException failed = null;
    try {
      using (RequestHandle r = request.ToNative())
      using (var cancel = new Cancel(token)) {
        InCall++;
        try {
          Native.llmkit_client_chat(handle, r, callOptions?.Handle ?? NoOptions, cancel.Handle,
                                    onChunk == null ? null : ChunkCallback,
                                    onChunk == null ? IntPtr.Zero : GCHandle.ToIntPtr(self), out response);
        } catch (LlmkitException e) {
          failed = e;
        } finally {
          InCall--;
        }
        // What the callback threw stopped the call: it is the error.
        if (call.Thrown != null) {
          Response.Take(response);
          call.Thrown.Throw();
        }
        if (failed != null && failed.Status == Status.Cancelled && token.IsCancellationRequested) {
          Response.Take(response);
          throw cancel.Cancelled(failed);
        }
      }
    } finally {
      if (self.IsAllocated) self.Free();
    }
    Response answer = Response.Take(response);
    if (failed != null) throw failed.With(answer);
    return answer;
  }

  /// <summary>The call <see cref="Chat(ChatRequest, Options, CancellationToken)"/>
  /// makes, without blocking a thread: it runs on the client's event loop and
  /// the task completes there (its continuations run on the thread pool).</summary>
  /// <returns>A task that ends with the answer, faults with the
  /// LlmkitException Chat would throw, or is cancelled when the token
  /// is. Disposing the client ends it with LlmkitException Cancelled.</returns>
  /// <exception cref="LlmkitException">At once, for a call that cannot start:
  /// a bad request or call option (InvalidArgument).</exception>
  public Task<Response> ChatAsync(ChatRequest request, Options callOptions = null,
                                  CancellationToken cancellationToken = default(CancellationToken)) =>
      Start(request, null, callOptions, cancellationToken);

  /// <summary><see cref="ChatAsync(ChatRequest, Options, CancellationToken)"/>,
  /// streamed: <paramref name="onChunk"/> gets each piece on the client's
  /// event loop thread, so it must be quick and must not block (every call of
  /// the client waits meanwhile); a blocking call on this client or its
  /// Dispose throws InvalidOperationException there. An exception it throws
  /// stops the stream and faults the task.</summary>
  public Task<Response> ChatAsync(ChatRequest request, Action<Chunk> onChunk, Options callOptions = null,
                                  CancellationToken cancellationToken = default(CancellationToken)) {
    if (onChunk == null) throw new ArgumentNullException(nameof(onChunk));
    return Start(request, onChunk, callOptions, cancellationToken);
  }

  Task<Response> Start(ChatRequest request, Action<Chunk> onChunk, Options callOptions, CancellationToken token) {
    if (request == null) throw new ArgumentNullException(nameof(request));
    if (token.IsCancellationRequested) return Task.FromCanceled<Response>(token);
    FreeAtExit();
    var call = new CallState(onChunk) {
      Done = new TaskCompletionSource<Response>(TaskCreationOptions.RunContinuationsAsynchronously),
      Token = token,
      Client = handle,
    };
    using (RequestHandle r = request.ToNative()) {  // copied by the call
      call.Cancel = new Cancel(token);  // outlives the call: OnDone disposes it
      GCHandle self = GCHandle.Alloc(call);
      InCall++;  // its before hooks run here
      try {
        Native.llmkit_client_chat_async(handle, r, callOptions?.Handle ?? NoOptions, call.Cancel.Handle,
                                        onChunk == null ? null : ChunkCallback, DoneCallback,
                                        GCHandle.ToIntPtr(self));
      } catch {
        // A call that cannot start never calls back.
        self.Free();
        call.Cancel.Dispose();
        throw;
      } finally {
        InCall--;
      }
    }
    return call.Done.Task;
  }

  /// <summary>Embeds <paramref name="texts"/> with <paramref name="model"/>
  /// (null: the client's "model"): OpenAI, Gemini and Ollama. The inputs go in
  /// batches the provider accepts, several at a time ("embeddings.concurrency").</summary>
  /// <param name="callOptions">May be null: "dimensions", "timeout.*", "header.NAME".</param>
  /// <returns>One vector per text, in the order of <paramref name="texts"/>.</returns>
  /// <exception cref="LlmkitException">The status of the first batch that
  /// failed: the call fails as a whole.</exception>
  /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
  public Embeddings Embed(string model, IReadOnlyList<string> texts, Options callOptions = null,
                          CancellationToken cancellationToken = default(CancellationToken)) {
    if (texts == null) throw new ArgumentNullException(nameof(texts));
    NotOnLoopThread();
    int n = texts.Count;
    var lens = new UIntPtr[n];
    int total = 0;
    for (int i = 0; i < n; i++) {
      if (texts[i] == null) throw new ArgumentNullException($"texts[{i}]");
      int len = Utf8.ByteCount(texts[i]);
      lens[i] = (UIntPtr)len;
      total = checked(total + len);
    }
    // All texts go in one buffer: one pin for the call however many there are.
    var buffer = new byte[total];
    var starts = new IntPtr[n];
    VectorsHandle vectors;
    GCHandle pin = GCHandle.Alloc(buffer, GCHandleType.Pinned);
    try {
      IntPtr at = pin.AddrOfPinnedObject();
      int offset = 0;
      for (int i = 0; i < n; i++) {
        starts[i] = at + offset;
        offset += Utf8.Write(texts[i], buffer, offset);
      }
      using (var cancel = new Cancel(cancellationToken)) {
        try {
          Native.llmkit_client_embed(handle, model, starts, lens, (UIntPtr)n, callOptions?.Handle ?? NoOptions,
                                     cancel.Handle, out vectors);
        } catch (LlmkitException e) when (e.Status == Status.Cancelled && cancellationToken.IsCancellationRequested) {
          throw cancel.Cancelled(e);
        }
      }
    } finally {
      pin.Free();
    }
    return Embeddings.Take(vectors);
  }

  /// <summary>The hooks that run around this client's calls, for the calls
  /// that start from now on; null (the default) for none. Calls already
  /// running keep the hooks they began with. The client keeps the hooks'
  /// set while they are attached, also after <see cref="Llmkit.Hooks.Dispose"/>.</summary>
  /// <exception cref="ObjectDisposedException">Set to disposed hooks.</exception>
  public Hooks Hooks {
    get { return hooks; }
    set {
      lock (handle) {
        HooksHandle set = value?.Handle;
        handle.Attach(set, () => Native.llmkit_client_set_hooks(handle, set ?? NoHooks));
        hooks = value;
      }
      if (value != null) FreeAtExit();
    }
  }

  static readonly HooksHandle NoHooks = new HooksHandle();

  /// <summary>The response cache in front of this client's calls, for the
  /// calls that start from now on; null (the default) for none. A call is
  /// keyed by its request as made (after the before hooks), its model and
  /// the client's "cache.scope", not by the provider that answers. A hit
  /// ends the call with the stored answer (<see cref="Response.Cached"/>,
  /// <see cref="Response.CostUsd"/> 0, <see cref="Response.Attempts"/> 1),
  /// spends no rate limit, and streams through the call's callback first
  /// (docs/cache.md). The client holds the cache's native object while it
  /// is set, also after <see cref="Llmkit.Cache.Dispose"/>.</summary>
  /// <exception cref="ObjectDisposedException">Set to a disposed cache.</exception>
  public Cache Cache {
    get { return cache; }
    set {
      lock (handle) {
        CacheHandle set = value?.Handle;
        handle.Attach(set, () => Native.llmkit_client_set_cache(handle, set ?? NoCache));
        cache = value;
      }
    }
  }

  static readonly CacheHandle NoCache = new CacheHandle();

  /// <summary>The per-caller rate limit of this client's calls, for the
  /// calls that start from now on; null (the default) for none. The key is
  /// the call option "caller" ("" without one); each call is one request,
  /// a concurrency slot and its estimated tokens, settled to the provider's
  /// usage when it ends. A refused call throws RateLimited naming the
  /// caller, without reaching the provider; the call option
  /// "ratelimit.wait_ms" waits that long for room instead
  /// (docs/ratelimit.md). Held as <see cref="Cache"/> is.</summary>
  /// <exception cref="ObjectDisposedException">Set to a disposed limiter.</exception>
  public RateLimiter RateLimiter {
    get { return rateLimiter; }
    set {
      lock (handle) {
        RateLimiterHandle set = value?.Handle;
        handle.Attach(set, () => Native.llmkit_client_set_ratelimiter(handle, set ?? NoLimiter));
        rateLimiter = value;
      }
    }
  }

  static readonly RateLimiterHandle NoLimiter = new RateLimiterHandle();

  /// <summary>The figures of the circuit breaker of <paramref name="deployment"/>:
  /// a name in the client's "deployments", or a model of its own provider
  /// (the "breaker.*" options; docs/providers.md, "Circuit breakers").</summary>
  /// <exception cref="LlmkitException">NotFound before the first call to
  /// <paramref name="deployment"/>, or with "breaker" = "false".</exception>
  public BreakerStats BreakerStats(string deployment) => new BreakerStats(handle, deployment);

  /// <summary>What the budget of <paramref name="kind"/> ("application" or
  /// "caller") for <paramref name="key"/> has spent this UTC
  /// <paramref name="per"/> ("day" or "month"), in dollars, as the client's
  /// "budget.store" holds it. A call whose budget is spent throws
  /// LlmkitException BudgetExceeded without reaching the provider.</summary>
  /// <exception cref="LlmkitException">NotFound when no rule of the client's
  /// "budgets" covers it; Unavailable when a shared store cannot be reached.</exception>
  public double BudgetSpent(string kind, string key, string per = "day") {
    double usd;
    Native.llmkit_client_budget_spent(handle, kind, key, per, out usd);
    return usd;
  }

  /// <summary>Waits until the trace records of every call that ended
  /// before it are written ("trace"; docs/traces.md), at most
  /// <paramref name="timeout"/>; returns at once for a client without
  /// "trace". <see cref="Dispose"/> writes them too.</summary>
  /// <exception cref="LlmkitException">Timeout while records are still
  /// queued, with the database's last error when it is failing (they are
  /// written once it is back).</exception>
  public void Flush(TimeSpan timeout) =>
      Native.llmkit_client_flush(handle, Math.Max(0, (long)Math.Ceiling(timeout.TotalMilliseconds)));

  /// <summary>The figures of the client's trace writer; all 0 for a client
  /// without "trace".</summary>
  public TraceStats TraceStats() => new TraceStats(handle);

  /// <summary>The client's metrics in Prometheus text exposition format
  /// 0.0.4 (docs/metrics.md names every family).</summary>
  public string Metrics() {
    string text;
    UIntPtr len;
    Native.llmkit_client_metrics(handle, out text, out len);
    return text;
  }

  /// <summary>A snapshot of the client as JSON text (docs/metrics.md):
  /// "health", "calls", "series", "breakers", "hooks", the parts it has,
  /// and "recommendations" ([{"code", "message"}]).</summary>
  public string StatsJson() {
    string text;
    UIntPtr len;
    Native.llmkit_client_stats_json(handle, out text, out len);
    return text;
  }

  /// <summary>How the client is doing, and why.</summary>
  public HealthReport Health() {
    HealthState state;
    string reasons;
    Native.llmkit_client_health(handle, out state, out reasons);
    return new HealthReport(state, reasons.Length == 0 ? new string[0] : reasons.Split('\n'));
  }

  /// <summary>Frees the client now rather than at finalization: async calls
  /// still running end with LlmkitException Cancelled; blocking calls running
  /// on other threads keep it until they return. Once freed, any use throws
  /// ObjectDisposedException.</summary>
  /// <exception cref="InvalidOperationException">Called from an async
  /// call's callback, on the client's own loop thread, which freeing the
  /// client must join.</exception>
  public void Dispose() {
    NotOnLoopThread();
    handle.Dispose();
  }

  // The loop thread runs async calls' callbacks; a blocking call or a free
  // made there would wait for that thread itself, forever.
  void NotOnLoopThread() {
    if (handle.LoopThread == Thread.CurrentThread.ManagedThreadId) {
      throw new InvalidOperationException(
          "an async call's callback runs on the client's loop thread: it cannot make blocking calls on the client or dispose it");
    }
  }

  // One call's state, reached from the trampolines through user_data.
  sealed class CallState {
    public readonly Action<Chunk> OnChunk;
    public ExceptionDispatchInfo Thrown;  // what OnChunk threw: it stopped the call

    // Async calls only.
    public TaskCompletionSource<Response> Done;
    public Cancel Cancel;
    public CancellationToken Token;
    public ClientHandle Client;  // keeps the client from finalization while the call runs

    public CallState(Action<Chunk> onChunk) {
      OnChunk = onChunk;
    }
  }

  // Runs on the calling thread (blocking calls) or the loop thread (async):
  // an exception must not unwind through C, so it is kept and stops the call.
  static int OnChunk(IntPtr chunk, IntPtr userData) {
    var call = (CallState)GCHandle.FromIntPtr(userData).Target;
    if (call.Done != null) OnLoopThread(call);
    try {
      call.OnChunk(Chunk.Read(chunk));
      return (int)Status.Ok;
    } catch (Exception e) {
      call.Thrown = ExceptionDispatchInfo.Capture(e);
      return (int)Status.Cancelled;
    }
  }

  // A loop thread ends only when its client is freed, so a client that ran
  // async calls and was never disposed would keep the process from exiting:
  // its loop thread is made a background thread here, and the client is
  // freed at ProcessExit (AtExit).
  static void OnLoopThread(CallState call) {
    AtExit.Background();
    call.Client.LoopThread = Thread.CurrentThread.ManagedThreadId;
  }

  int freedAtExit;  // 1 once in AtExit

  // A client whose loop thread may run C# (async calls), or whose hooks
  // the hooks' own thread may (which ends when every client holding them
  // is freed too).
  void FreeAtExit() {
    if (Interlocked.Exchange(ref freedAtExit, 1) == 0) AtExit.Free(handle);
  }

  // Runs once per started async call, on the loop thread (on the calling
  // thread, inside Start, when a before hook answered or rejected the call),
  // with the response to own. Never throws into C.
  static void OnDone(int status, IntPtr response, IntPtr userData) {
    GCHandle self = GCHandle.FromIntPtr(userData);
    var call = (CallState)self.Target;
    self.Free();
    if (InCall == 0) OnLoopThread(call);  // else a before hook ended the call on the calling thread
    var answer = new ResponseHandle(response);
    try {
      LlmkitException failed = null;
      try {
        // First: the library set this thread's message for the call, and the
        // next llmkit call (reading the answer) clears it.
        Native.llmkit_csharp_check(status);
      } catch (LlmkitException e) {
        failed = e;
      }
      call.Cancel.Dispose();
      Response r = Response.Take(answer);
      if (call.Thrown != null) {
        call.Done.TrySetException(call.Thrown.SourceException);
      } else if (failed == null) {
        call.Done.TrySetResult(r);
      } else if (failed.Status == Status.Cancelled && call.Token.IsCancellationRequested) {
        call.Done.TrySetCanceled(call.Token);
      } else {
        call.Done.TrySetException(failed.With(r));
      }
    } catch (Exception e) {
      answer.Dispose();
      call.Done.TrySetException(e);
    }
    GC.KeepAlive(call.Client);
  }
}

/// <summary>The state of a circuit breaker; values match llmkit_client_breaker_stat's "state".</summary>
public enum BreakerState {
  /// <summary>Calls go.</summary>
  Closed = 0,

  /// <summary>Calls fail at once with LlmkitException Unavailable.</summary>
  Open = 1,

  /// <summary>Probe calls go.</summary>
  HalfOpen = 2,
}

/// <summary>A deployment's circuit breaker (<see cref="Client.BreakerStats"/>).</summary>
public readonly struct BreakerStats {
  public BreakerState State { get; }

  /// <summary>Times it opened.</summary>
  public long Opened { get; }

  /// <summary>Calls failed at once while it was open.</summary>
  public long Rejected { get; }

  /// <summary>Calls ended in the window now.</summary>
  public long Calls { get; }

  /// <summary>Of those, the ones that failed as a retry would cure.</summary>
  public long Failures { get; }

  /// <summary>While open, the time until the next probe goes.</summary>
  public TimeSpan RetryIn { get; }

  // Reads the breaker of `deployment` in `client`.
  internal BreakerStats(ClientHandle client, string deployment) {
    State = (BreakerState)Stat(client, deployment, "state");  // first: NotFound for one not called yet
    Opened = Stat(client, deployment, "opened");
    Rejected = Stat(client, deployment, "rejected");
    Calls = Stat(client, deployment, "calls");
    Failures = Stat(client, deployment, "failures");
    RetryIn = TimeSpan.FromMilliseconds(Stat(client, deployment, "retry_in_ms"));
  }

  static long Stat(ClientHandle client, string deployment, string name) {
    long value;
    Native.llmkit_client_breaker_stat(client, deployment, name, out value);
    return value;
  }
}

/// <summary>A client's health (<see cref="Client.Health"/>, docs/metrics.md).</summary>
public sealed class HealthReport {
  internal HealthReport(HealthState state, IReadOnlyList<string> reasons) {
    State = state;
    Reasons = reasons;
  }

  /// <summary>Healthy; Degraded (a breaker open or probing, trace writes
  /// failing); Unhealthy (every breaker the client has is open).</summary>
  public HealthState State { get; }

  /// <summary>Why, one sentence each; none when Healthy.</summary>
  public IReadOnlyList<string> Reasons { get; }
}

/// <summary>Metrics read back from a traces table (docs/metrics.md).</summary>
public static class Traces {
  /// <summary>The metrics of every call in the traces table of
  /// <paramref name="db"/> (a SQLite file's path or a postgresql:// URL) as
  /// a client would have counted them, in Prometheus text: what
  /// `llmkit serve-metrics` serves.</summary>
  /// <exception cref="LlmkitException">NotFound for a SQLite file that does
  /// not exist; Unavailable when the database cannot be reached.</exception>
  public static string Metrics(string db) {
    if (db == null) throw new ArgumentNullException(nameof(db));
    string text;
    UIntPtr len;
    Native.llmkit_traces_metrics(db, out text, out len);
    return text;
  }
}

/// <summary>A client's trace writer (<see cref="Client.TraceStats"/>, docs/traces.md).</summary>
public readonly struct TraceStats {
  /// <summary>Records in the database.</summary>
  public long Written { get; }

  /// <summary>Records lost to a full queue ("trace.on_full" "drop").</summary>
  public long Dropped { get; }

  /// <summary>Batches the database refused, each tried again later.</summary>
  public long FailedWrites { get; }

  /// <summary>Records not yet written.</summary>
  public long Queued { get; }

  internal TraceStats(ClientHandle client) {
    Written = Stat(client, "written");
    Dropped = Stat(client, "dropped");
    FailedWrites = Stat(client, "failed_writes");
    Queued = Stat(client, "queued");
  }

  static long Stat(ClientHandle client, string name) {
    long value;
    Native.llmkit_client_trace_stat(client, name, out value);
    return value;
  }
}

/// <summary>Embedding vectors, one per input, in input order.</summary>
public sealed class Embeddings {
  Embeddings(IReadOnlyList<float[]> vectors, long inputTokens) {
    Vectors = vectors;
    InputTokens = inputTokens;
  }

  public IReadOnlyList<float[]> Vectors { get; }

  /// <summary>The input tokens the provider counted (0 when it reports none).</summary>
  public long InputTokens { get; }

  /// <summary>Parses a recorded embeddings answer of <paramref name="provider"/>
  /// (openai, openai-compatible, gemini's batchEmbedContents, ollama's /api/embed):
  /// every vector it holds.</summary>
  /// <exception cref="LlmkitException">ProviderError for a body that is no
  /// embeddings answer; a provider's error body: its status.</exception>
  public static Embeddings Parse(string provider, string body) {
    VectorsHandle v;
    Native.llmkit_vectors_parse(provider, Utf8.Bytes(body, nameof(body)), out v);
    return Take(v);
  }

  // The vectors of `v`, copied; frees `v`.
  internal static Embeddings Take(VectorsHandle v) {
    using (v) {
      int n = checked((int)Native.llmkit_vectors_count(v).ToUInt64());
      var vectors = new float[n][];
      for (int i = 0; i < n; i++) Native.llmkit_vectors_get(v, (UIntPtr)i, out vectors[i]);
      return new Embeddings(new ReadOnlyCollection<float[]>(vectors), Native.llmkit_vectors_input_tokens(v));
    }
  }
}

// The C callbacks, as the swg passes them (llmkit_stream_fn, llmkit_done_fn).
[UnmanagedFunctionPointer(CallingConvention.Cdecl)]
internal delegate int StreamCallback(IntPtr chunk, IntPtr userData);

[UnmanagedFunctionPointer(CallingConvention.Cdecl)]
internal delegate void DoneCallback(int status, IntPtr response, IntPtr userData);

// A vector the library owns, copied before the next call; null for NULL.
internal static class Vectors {
  public static float[] Copy(IntPtr p, UIntPtr n) {
    if (p == IntPtr.Zero) return null;
    var values = new float[checked((int)n.ToUInt64())];
    Marshal.Copy(p, values, 0, values.Length);
    return values;
  }
}

// Own one llmkit_client, llmkit_request and llmkit_vectors each, as
// OptionsHandle owns an llmkit_options.
internal sealed class ClientHandle : SafeHandleZeroOrMinusOneIsInvalid {
  public ClientHandle() : base(true) {}

  // The managed id of the client's loop thread, once it has run C# (0 before).
  public volatile int LoopThread;

  // What C holds for the client: the hooks, the cache and the limiter,
  // each counted as a reference to its handle (which frees the object only
  // when released by all), given back when this client is freed or holds
  // another.
  HooksHandle hooks;
  CacheHandle cache;
  RateLimiterHandle limiter;

  // Sets `set` (null: none) as the hooks, cache or limiter C holds for the
  // client, `attach` telling C.
  public void Attach(HooksHandle set, Action attach) => Hold(ref hooks, set, attach);
  public void Attach(CacheHandle set, Action attach) => Hold(ref cache, set, attach);
  public void Attach(RateLimiterHandle set, Action attach) => Hold(ref limiter, set, attach);

  static void Hold<T>(ref T held, T set, Action attach) where T : SafeHandle {
    bool added = false;
    if (set != null) set.DangerousAddRef(ref added);  // ObjectDisposedException once disposed
    try {
      attach();
    } catch {
      if (added) set.DangerousRelease();
      throw;
    }
    Interlocked.Exchange(ref held, set)?.DangerousRelease();
  }

  protected override bool ReleaseHandle() {
    NativePINVOKE.csharp_llmkit_client_free(handle);
    Interlocked.Exchange(ref hooks, null)?.DangerousRelease();
    Interlocked.Exchange(ref cache, null)?.DangerousRelease();
    Interlocked.Exchange(ref limiter, null)?.DangerousRelease();
    return true;
  }
}

// Handles freed at ProcessExit, if still alive: Mono adopts a native thread
// that runs C# (a client's loop thread, the hooks' own thread) as a
// foreground thread, and at exit waits for its foreground threads to end,
// then for its background threads to abort, which a thread in native code
// never does. Such a thread is made a background thread when it first runs
// C#, and what owns it is freed here, which comes between the two waits.
internal static class AtExit {
  static readonly List<WeakReference<SafeHandle>> Handles = new List<WeakReference<SafeHandle>>();
  static bool hooked;  // under the Handles lock

  public static void Free(SafeHandle handle) {
    lock (Handles) {
      if (!hooked) {
        AppDomain.CurrentDomain.ProcessExit += (sender, e) => FreeAll();
        hooked = true;
      }
      Handles.RemoveAll(w => !w.TryGetTarget(out SafeHandle _));
      Handles.Add(new WeakReference<SafeHandle>(handle));
    }
  }

  static void FreeAll() {
    lock (Handles) {
      foreach (var w in Handles) {
        SafeHandle h;
        if (w.TryGetTarget(out h)) h.Dispose();
      }
      Handles.Clear();
    }
  }

  // Makes the calling thread, one of llmkit's, a background thread.
  public static void Background() {
    Thread thread = Thread.CurrentThread;
    if (!thread.IsBackground) thread.IsBackground = true;
  }
}

internal sealed class RequestHandle : SafeHandleZeroOrMinusOneIsInvalid {
  public RequestHandle() : base(true) {}

  protected override bool ReleaseHandle() {
    NativePINVOKE.csharp_llmkit_request_free(handle);
    return true;
  }
}

internal sealed class VectorsHandle : SafeHandleZeroOrMinusOneIsInvalid {
  public VectorsHandle() : base(true) {}

  protected override bool ReleaseHandle() {
    NativePINVOKE.csharp_llmkit_vectors_free(handle);
    return true;
  }
}

}
