using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Llmkit {

/// <summary>When a hook runs; values match llmkit_hook_kind.</summary>
public enum HookKind {
  /// <summary>Before the provider call: may change, answer or reject it.</summary>
  Before = 0,

  /// <summary>After a call that succeeded.</summary>
  After = 1,

  /// <summary>After a call that failed (a rejection too).</summary>
  Error = 2,

  /// <summary>After every call, once, last.</summary>
  Finally = 3,
}

/// <summary>How a hook runs.</summary>
[Flags]
public enum HookFlags {
  None = 0,

  /// <summary>On the set's own thread, fed through a bounded queue, with a
  /// read-only copy of the event: slow work adds nothing to the call.</summary>
  Async = 1,
}

/// <summary>A set of hooks: callbacks that run around the calls of the
/// clients it is attached to (<see cref="Client.Hooks"/>; several clients may
/// share one), chosen by kind, scope and a rule compiled once
/// (docs/hooks.md). Every member may be used from any thread, also while
/// calls run.</summary>
/// <remarks>A hook that throws fails: the failure is counted, with the
/// exception's message (<see cref="Stats"/>), and never fails the call.
/// Hooks run on the calling thread, on the client's loop thread (an async
/// call's after, error and finally hooks: keep them short), or, async
/// ones, on the set's own thread. Clients attached keep running the hooks
/// after <see cref="Dispose"/>: the set and its callbacks are let go when it
/// is disposed and no client holds it any more (each detached by setting
/// <see cref="Client.Hooks"/> again, or disposed), and the async hooks still
/// queued run then.</remarks>
/// <example><code>
/// using (var hooks = new Hooks()) {
///   hooks.Add(HookKind.After, e => audit.Write(e.Model, e.Response.Usage), scope: "production",
///             rule: "model:gpt-4o* and not tag:test", flags: HookFlags.Async);
///   client.Hooks = hooks;  // client made with opts["scopes"] = "production"
/// }
/// </code></example>
public sealed class Hooks : IDisposable {
  // Passed for absent options: C gets NULL.
  static readonly OptionsHandle NoOptions = new OptionsHandle();

  // The trampolines C calls back, kept alive by the static fields for the
  // life of the process; each hook's callback reaches them through
  // user_data, its key in Callbacks. A key, not a GCHandle: C may still run
  // a hook after its set let go of the callback (a call that began before),
  // which must find it missing, not a freed GCHandle.
  static readonly HookCallback HookTrampoline = OnHook;
  static readonly PredicateCallback PredicateTrampoline = OnPredicate;
  static readonly Dictionary<long, Delegate> Callbacks = new Dictionary<long, Delegate>();
  static long lastKey;  // under the Callbacks lock

  readonly HooksHandle handle;  // disposed only when no client holds it any more
  volatile bool disposed;

  /// <param name="options">May be null: "queue_size" (the async hooks'
  /// queue, default 10000), "queue_full" ("drop", the default, or "block":
  /// the call waits for room), "slow_ms" (a run longer is counted slow,
  /// default 100).</param>
  /// <exception cref="LlmkitException">InvalidArgument for an unknown option or a bad value.</exception>
  public Hooks(Options options = null) {
    Native.llmkit_hooks_new(options?.Handle ?? NoOptions, out handle);
    AtExit.Free(handle);  // its thread, once it ran C#, ends only with the set
  }

  // The set, until Dispose: clients attached may hold it longer.
  internal HooksHandle Handle => disposed ? throw new ObjectDisposedException(nameof(Hooks)) : handle;

  /// <summary>Adds <paramref name="hook"/> after every other hook.</summary>
  /// <param name="scope">null: global, every client; a name: the clients
  /// with it in their "scopes" option.</param>
  /// <param name="rule">null: every call; e.g. "model:gpt-4o* and tag:billing" (docs/hooks.md).</param>
  /// <returns>The hook's id.</returns>
  /// <exception cref="LlmkitException">InvalidArgument, naming the column,
  /// for a rule that does not compile or names an unknown predicate; for a
  /// scope that is not a word.</exception>
  public ulong Add(HookKind kind, Action<HookEvent> hook, string scope = null, string rule = null,
                   HookFlags flags = HookFlags.None) {
    if (hook == null) throw new ArgumentNullException(nameof(hook));
    ulong id = 0;
    Register(hook, key => Native.llmkit_hooks_add(Handle, kind, scope, rule, (uint)flags, HookTrampoline, key, out id));
    return id;
  }

  /// <summary>Registers <paramref name="predicate"/> as pred:NAME for the
  /// rules added after it. One that throws fails the rule: the hook is
  /// skipped and the failure counted (<see cref="HookStats.RuleFailures"/>).</summary>
  /// <param name="name">Letters, digits, '_', '-' or '.'.</param>
  /// <exception cref="LlmkitException">InvalidArgument for a name taken or not a word.</exception>
  public void AddPredicate(string name, Func<HookEvent, bool> predicate) {
    if (predicate == null) throw new ArgumentNullException(nameof(predicate));
    Register(predicate, key => Native.llmkit_hooks_add_predicate(Handle, name, PredicateTrampoline, key));
  }

  /// <summary>Removes hook <paramref name="id"/>; its async events already queued still run.</summary>
  /// <exception cref="LlmkitException">NotFound for an unknown id.</exception>
  public void Remove(ulong id) => Native.llmkit_hooks_remove(Handle, id);

  /// <summary>Waits until every async event queued so far has run. Not from a hook.</summary>
  public void Flush() => Native.llmkit_hooks_flush(Handle);

  /// <summary>The counters of hook <paramref name="id"/>.</summary>
  /// <exception cref="LlmkitException">NotFound for an unknown id.</exception>
  public HookStats Stats(ulong id) => new HookStats(Handle, id);

  /// <summary>Lets go of the set now rather than at finalization; clients
  /// attached keep it (see the remarks). Any later use throws
  /// ObjectDisposedException. Not from a hook.</summary>
  public void Dispose() {
    disposed = true;
    handle.Dispose();
  }

  // Keeps `callback` under a new key while `add` hands the key to C.
  void Register(Delegate callback, Action<IntPtr> add) {
    long key;
    lock (Callbacks) {
      key = ++lastKey;
      Callbacks.Add(key, callback);
    }
    try {
      add((IntPtr)key);
    } catch {
      Forget(new[] { key });
      throw;
    }
    lock (handle.Keys) handle.Keys.Add(key);
  }

  internal static void Forget(IEnumerable<long> keys) {
    lock (Callbacks) {
      foreach (long key in keys) Callbacks.Remove(key);
    }
  }

  static T Find<T>(IntPtr key) where T : class {
    lock (Callbacks) {
      Delegate callback;
      return Callbacks.TryGetValue((long)key, out callback) ? callback as T : null;
    }
  }

  // A hook runs on a thread of the caller's (in a call: Client.InCall) or of
  // llmkit's, which becomes a background thread (AtExit). Never throws into C.
  static int OnHook(IntPtr ev, IntPtr key) {
    try {
      if (Client.InCall == 0) AtExit.Background();
      var hook = Find<Action<HookEvent>>(key);
      if (hook == null) return Fail(ev, Status.Unavailable, "the hook was let go: its Hooks is disposed");
      var e = new HookEvent(ev);
      try {
        hook(e);
      } finally {
        e.End();
      }
      return (int)Status.Ok;
    } catch (Exception e) {
      return Fail(ev, (e as LlmkitException)?.Status ?? Status.Internal, e.Message);
    }
  }

  static int Fail(IntPtr ev, Status status, string message) {
    if (status == Status.Ok) status = Status.Internal;
    try {
      return Native.llmkit_csharp_hook_fail(ev, (int)status, message);
    } catch (Exception) {  // a message that is no UTF-8 (a lone surrogate): the status alone
      return (int)status;
    }
  }

  // 1, 0, or -1: the rule fails.
  static int OnPredicate(IntPtr ev, IntPtr key) {
    try {
      if (Client.InCall == 0) AtExit.Background();
      var predicate = Find<Func<HookEvent, bool>>(key);
      if (predicate == null) return -1;
      var e = new HookEvent(ev);
      try {
        return predicate(e) ? 1 : 0;
      } finally {
        e.End();
      }
    } catch (Exception) {
      return -1;
    }
  }
}

/// <summary>One call as a hook sees it, valid while the hook runs: afterwards
/// every member but <see cref="Kind"/> throws InvalidOperationException. The
/// changes (<see cref="Set"/>, <see cref="SetMeta"/>, <see cref="Answer"/>,
/// <see cref="Reject"/>) are a synchronous before hook's: elsewhere they
/// throw LlmkitException InvalidArgument.</summary>
public sealed class HookEvent {
  IntPtr ev;

  internal HookEvent(IntPtr ev) {
    this.ev = ev;
    Kind = Native.llmkit_hook_event_kind(ev);
  }

  public HookKind Kind { get; }

  /// <summary>The client's provider ("openai", "anthropic", ...).</summary>
  public string Provider => Get("provider");

  /// <summary>The model the call goes to, as the before hooks left it.</summary>
  public string Model => Get("model");

  /// <summary>The call's tags (the call option "tags").</summary>
  public IReadOnlyList<string> Tags {
    get {
      string tags = Get("tags");
      return tags.Length == 0 ? Array.Empty<string>() : tags.Split(',');
    }
  }

  /// <summary>The call's metadata <paramref name="key"/> (the call option
  /// "meta.KEY", or set by a before hook); null when unset.</summary>
  public string Meta(string key) {
    try {
      return Get("meta." + key);
    } catch (LlmkitException e) when (e.Status == Status.NotFound) {
      return null;
    }
  }

  /// <summary>Why the call failed (error and finally hooks); "" otherwise.</summary>
  public string Message => Get("message");

  /// <summary>The JSON body the provider gets (no keys or headers).</summary>
  public string Request => Get("request");

  /// <summary>The call's outcome (after, error and finally hooks).</summary>
  public Status Status => (Status)(int)Number("status");

  /// <summary>The time since the call began.</summary>
  public TimeSpan Elapsed => TimeSpan.FromTicks((long)Math.Round(Number("elapsed_ms") * TimeSpan.TicksPerMillisecond));

  /// <summary>The answer's cost in US dollars, as <see cref="Llmkit.Response.CostUsd"/>;
  /// null before or without an answer, or when the model has no price.</summary>
  public double? CostUsd => Llmkit.Response.Cost(Number("cost_usd"));

  /// <summary>Whether the answer came from the client's cache, as
  /// <see cref="Llmkit.Response.Cached"/>.</summary>
  public bool Cached => Number("cached") == 1;

  /// <summary>The call's answer, copied (after hooks; error hooks when the
  /// provider answered); null when none.</summary>
  public Response Response {
    get {
      IntPtr r = Native.llmkit_hook_event_response(Event);
      return r == IntPtr.Zero ? null : Response.Copy(r);
    }
  }

  /// <summary>Sets a request parameter of this call (the keys of
  /// llmkit_request_set: "model", "temperature", "max_tokens", ...).</summary>
  public void Set(string key, string value) => Native.llmkit_hook_event_set(Event, key, value);

  /// <summary>Sets the call's metadata <paramref name="key"/>; the hooks after it see it.</summary>
  public void SetMeta(string key, string value) => Native.llmkit_hook_event_set_meta(Event, key, value);

  /// <summary>Answers the call with <paramref name="text"/>: no request is
  /// sent, no later before hook runs, the after hooks see the answer.</summary>
  public void Answer(string text) => Native.llmkit_hook_event_answer(Event, text);

  /// <summary>Ends the call with <paramref name="status"/> (not Ok): the call
  /// throws LlmkitException with it and <paramref name="message"/>, and the
  /// error hooks run.</summary>
  public void Reject(Status status, string message) => Native.llmkit_hook_event_reject(Event, status, message ?? "");

  IntPtr Event => ev != IntPtr.Zero ? ev : throw new InvalidOperationException("the event is over: use it only while its hook runs");

  internal void End() => ev = IntPtr.Zero;

  string Get(string field) {
    byte[] value;
    Native.llmkit_hook_event_get(Event, field, out value);
    return Utf8.Text(value);
  }

  double Number(string field) {
    double value;
    Native.llmkit_hook_event_number(Event, field, out value);
    return value;
  }
}

/// <summary>A hook's counters (docs/hooks.md, "Stats").</summary>
public readonly struct HookStats {
  /// <summary>Runs: the rule matched.</summary>
  public long Calls { get; }

  /// <summary>The rule did not match.</summary>
  public long Skipped { get; }

  /// <summary>The hook failed (threw).</summary>
  public long Errors { get; }

  /// <summary>The rule's predicate failed: not run.</summary>
  public long RuleFailures { get; }

  /// <summary>Async: the queue was full.</summary>
  public long Dropped { get; }

  /// <summary>Runs longer than "slow_ms".</summary>
  public long Slow { get; }

  public TimeSpan Total { get; }
  public TimeSpan Max { get; }

  /// <summary>The last failure's message; "" when none.</summary>
  public string LastError { get; }

  // Reads hook `id`'s counters in `set`.
  internal HookStats(HooksHandle set, ulong id) {
    string lastError;
    Native.llmkit_hooks_last_error(set, id, out lastError);  // first: NotFound for an unknown id
    LastError = lastError;
    Calls = Stat(set, id, "calls");
    Skipped = Stat(set, id, "skipped");
    Errors = Stat(set, id, "errors");
    RuleFailures = Stat(set, id, "rule_failures");
    Dropped = Stat(set, id, "dropped");
    Slow = Stat(set, id, "slow");
    Total = TimeSpan.FromTicks(Stat(set, id, "total_us") * 10);
    Max = TimeSpan.FromTicks(Stat(set, id, "max_us") * 10);
  }

  static long Stat(HooksHandle set, ulong id, string name) {
    long value;
    Native.llmkit_hooks_stat(set, id, name, out value);
    return value;
  }
}

// The C callbacks, as the swg passes them (llmkit_hook_fn, llmkit_predicate_fn).
[UnmanagedFunctionPointer(CallingConvention.Cdecl)]
internal delegate int HookCallback(IntPtr ev, IntPtr userData);

[UnmanagedFunctionPointer(CallingConvention.Cdecl)]
internal delegate int PredicateCallback(IntPtr ev, IntPtr userData);

// Owns one llmkit_hooks. Each client attached holds a reference to it
// (ClientHandle.Attach), so it is released, freeing the set and letting go
// of its callbacks, only when the Hooks is disposed or finalized and no
// client holds it any more.
internal sealed class HooksHandle : SafeHandleZeroOrMinusOneIsInvalid {
  public HooksHandle() : base(true) {}

  // The keys of its hooks' and predicates' callbacks (lock it).
  public readonly List<long> Keys = new List<long>();

  protected override bool ReleaseHandle() {
    // The last owner runs the async hooks still queued: before the callbacks go.
    NativePINVOKE.csharp_llmkit_hooks_free(handle);
    lock (Keys) Hooks.Forget(Keys);
    return true;
  }
}

}
