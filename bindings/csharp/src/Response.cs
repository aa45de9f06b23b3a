using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using Microsoft.Win32.SafeHandles;

namespace Llmkit {

/// <summary>A provider's answer in llmkit's one normalised form
/// (docs/providers.md), whatever the wire format: a success, or, carried by
/// <see cref="LlmkitException.Response"/>, the provider's error with its
/// details. Immutable; copied out of the library, so nothing to dispose.</summary>
public sealed class Response {
  /// <summary>The answer's text parts, concatenated (a refusal's text for <see cref="Llmkit.FinishReason.Refusal"/>).</summary>
  public string Text { get; }

  /// <summary>The thinking text ("" when none).</summary>
  public string Reasoning { get; }

  /// <summary>Anthropic's and Gemini's reasoning blocks, in order: what
  /// <see cref="ChatRequest.AddResponse"/> sends back on the next turn.</summary>
  public IReadOnlyList<Thinking> Thinking { get; }

  /// <summary>Why the model stopped; <see cref="Llmkit.FinishReason.Error"/> for an error answer.</summary>
  public FinishReason FinishReason { get; }

  /// <summary>The provider's own finish reason ("end_turn", "STOP", ...).</summary>
  public string FinishReasonRaw { get; }

  public Usage Usage { get; }

  /// <summary>The tool calls of the answer, in order.</summary>
  public IReadOnlyList<ToolCall> ToolCalls { get; }

  /// <summary>The model that answered, as the provider names it.</summary>
  public string Model { get; }

  /// <summary>The provider's id of the answer.</summary>
  public string Id { get; }

  /// <summary>The provider of the deployment that answered: "openai",
  /// "anthropic", "gemini", "ollama" or "openai-compatible".</summary>
  public string Provider { get; }

  /// <summary>The deployment that answered (or gave the last failure): its
  /// name in the client's "deployments" (docs/routing.md), or the model of
  /// the client's own provider.</summary>
  public string Deployment { get; }

  /// <summary>Ok, or the provider's error as a status (RateLimited, Overloaded, ...).</summary>
  public Status Status { get; }

  /// <summary>The HTTP status of the answer (0 for a recorded answer parsed offline).</summary>
  public int HttpStatus { get; }

  /// <summary>How long the provider asks to wait before retrying (its
  /// Retry-After or reset hint); null when it gave none.</summary>
  public TimeSpan? RetryAfter { get; }

  /// <summary>From sending the request to the end of the answer.</summary>
  public TimeSpan Latency { get; }

  /// <summary>From sending the request to the first streamed token; null
  /// when the answer was not streamed or held no token.</summary>
  public TimeSpan? FirstToken { get; }

  /// <summary>The longest pause between two stream chunks.</summary>
  public TimeSpan MaxGap { get; }

  /// <summary>The stream chunks received.</summary>
  public long Chunks { get; }

  /// <summary>Output tokens per second after the first token.</summary>
  public double OutputTokensPerSecond { get; }

  /// <summary>The tries the call took, retries included (1 for an answer
  /// from the cache or a hook).</summary>
  public int Attempts { get; }

  /// <summary>Whether the answer came from the client's <see cref="Client.Cache"/>.</summary>
  public bool Cached { get; }

  /// <summary>The answer's cost in US dollars, from the client's price table
  /// (docs/cost.md): 0 for an answer no provider was paid for (a before
  /// hook's); null when the model has no price.</summary>
  public double? CostUsd { get; }

  /// <summary>The provider's error message; "" for a success.</summary>
  public string ErrorMessage { get; }

  /// <summary>"context_length_exceeded", "overloaded" or "".</summary>
  public string ErrorDetail { get; }

  /// <summary>The answer's body as received, with the call option "raw" =
  /// "true"; "" otherwise.</summary>
  public string Raw { get; }

  /// <summary>The whole normalised answer as one JSON object (the form of
  /// docs/providers.md and `llmkit replay`).</summary>
  public string Json { get; }

  public override string ToString() => Text;

  Response(ResponseHandle r) {
    Text = Get(r, "text");
    Reasoning = Get(r, "reasoning");
    FinishReason = Native.llmkit_response_finish_reason(r);
    FinishReasonRaw = Get(r, "finish_reason_raw");
    Usage = new Usage((long)Number(r, "input_tokens"), (long)Number(r, "output_tokens"),
                      (long)Number(r, "cached_input_tokens"), (long)Number(r, "cache_write_tokens"),
                      (long)Number(r, "reasoning_tokens"));
    int calls = (int)Number(r, "tool_calls");
    var toolCalls = new ToolCall[calls];
    for (int i = 0; i < calls; i++) {
      string id, name, arguments, signature;
      Native.llmkit_response_tool_call(r, (UIntPtr)i, out id, out name, out arguments);
      Native.llmkit_response_tool_call_signature(r, (UIntPtr)i, out signature);
      toolCalls[i] = new ToolCall(id, name, arguments, signature);
    }
    ToolCalls = new ReadOnlyCollection<ToolCall>(toolCalls);
    var thinking = new Thinking[(int)Number(r, "thinking")];
    for (int i = 0; i < thinking.Length; i++) {
      string text, signature;
      int redacted;
      Native.llmkit_response_thinking(r, (UIntPtr)i, out text, out signature, out redacted);
      thinking[i] = new Thinking(text, signature, redacted != 0);
    }
    Thinking = new ReadOnlyCollection<Thinking>(thinking);
    Model = Get(r, "model");
    Id = Get(r, "id");
    Provider = Get(r, "provider");
    Deployment = Get(r, "deployment");
    Status = (Status)(int)Number(r, "status");
    HttpStatus = (int)Number(r, "http_status");
    RetryAfter = Duration(Number(r, "retry_after_ms"));
    Latency = Duration(Number(r, "latency_ms")) ?? TimeSpan.Zero;
    FirstToken = Duration(Number(r, "first_token_ms"));
    MaxGap = Duration(Number(r, "max_gap_ms")) ?? TimeSpan.Zero;
    Chunks = (long)Number(r, "chunks");
    OutputTokensPerSecond = Number(r, "output_tokens_per_second");
    Attempts = (int)Number(r, "attempts");
    Cached = Number(r, "cached") == 1;
    CostUsd = Cost(Number(r, "cost_usd"));
    ErrorMessage = Get(r, "error.message");
    ErrorDetail = Get(r, "error.detail");
    Raw = Get(r, "raw");
    byte[] json;
    Native.llmkit_response_json(r, out json);
    Json = Utf8.Text(json);
  }

  // The answer a call left in `r`, copied; null when none arrived. Frees `r`.
  internal static Response Take(ResponseHandle r) {
    if (r == null) return null;
    using (r) return r.IsInvalid ? null : new Response(r);
  }

  // A copy of an answer the library keeps (a hook's event's).
  internal static Response Copy(IntPtr response) {
    using (var r = new ResponseHandle(response, false)) return new Response(r);
  }

  /// <summary>Parses a recorded answer of <paramref name="provider"/> as a call
  /// would, with no network: a whole body, or with <paramref name="stream"/> a
  /// whole SSE / NDJSON stream.</summary>
  /// <exception cref="LlmkitException">An error body: its status (classified
  /// by the body alone), with the parsed <see cref="LlmkitException.Response"/>;
  /// ProviderError for a body that is no answer, Network for a cut stream
  /// (with no Response).</exception>
  public static Response Parse(string provider, string body, bool stream = false) {
    byte[] bytes = Utf8.Bytes(body, nameof(body));
    ResponseHandle r = null;
    try {
      Native.llmkit_response_parse(provider, bytes, stream ? 1 : 0, out r);
    } catch (LlmkitException e) {
      throw e.With(Take(r));
    }
    return Take(r);
  }

  static string Get(ResponseHandle r, string field) {
    byte[] value;
    Native.llmkit_response_get(r, field, out value);
    return Utf8.Text(value);
  }

  static double Number(ResponseHandle r, string field) {
    double value;
    Native.llmkit_response_number(r, field, out value);
    return value;
  }

  // A cost in USD; null for the library's -1, no price.
  internal static double? Cost(double usd) => usd < 0 ? (double?)null : usd;

  // Milliseconds (fractional) as a TimeSpan, to the tick; null for the library's -1.
  static TimeSpan? Duration(double ms) =>
      ms < 0 ? (TimeSpan?)null : TimeSpan.FromTicks((long)Math.Round(ms * TimeSpan.TicksPerMillisecond));
}

/// <summary>Tokens an answer used (docs/providers.md): cached and cache-write
/// tokens are parts of <see cref="InputTokens"/>, reasoning tokens part of
/// <see cref="OutputTokens"/>.</summary>
public readonly struct Usage {
  public long InputTokens { get; }
  public long OutputTokens { get; }

  /// <summary>Input tokens read from the provider's prompt cache.</summary>
  public long CachedInputTokens { get; }

  /// <summary>Input tokens written to the provider's prompt cache.</summary>
  public long CacheWriteTokens { get; }

  /// <summary>Output tokens spent thinking.</summary>
  public long ReasoningTokens { get; }

  public Usage(long inputTokens, long outputTokens, long cachedInputTokens, long cacheWriteTokens,
               long reasoningTokens) {
    InputTokens = inputTokens;
    OutputTokens = outputTokens;
    CachedInputTokens = cachedInputTokens;
    CacheWriteTokens = cacheWriteTokens;
    ReasoningTokens = reasoningTokens;
  }
}

/// <summary>A piece of a streamed answer, handed to the callback of
/// <see cref="Client.Chat(ChatRequest, Action{Chunk}, Options, System.Threading.CancellationToken)"/>
/// as it arrives.</summary>
public readonly struct Chunk {
  public ChunkKind Kind { get; }

  /// <summary>The piece's text: answer text, reasoning, or a piece of a tool
  /// call's arguments.</summary>
  public string Text { get; }

  /// <summary>A tool call's position in the answer (0 for other kinds).</summary>
  public int ToolIndex { get; }

  /// <summary>A tool call's id and name: set on the call's first piece only, "" otherwise.</summary>
  public string ToolId { get; }
  public string ToolName { get; }

  public Chunk(ChunkKind kind, string text, int toolIndex = 0, string toolId = "", string toolName = "") {
    Kind = kind;
    Text = text;
    ToolIndex = toolIndex;
    ToolId = toolId;
    ToolName = toolName;
  }

  public override string ToString() => Text;

  // Copies the chunk C passes to the stream callback, valid during it only.
  internal static Chunk Read(IntPtr chunk) {
    UIntPtr len;
    IntPtr text = Native.llmkit_chunk_text(chunk, out len);
    return new Chunk(Native.llmkit_chunk_get_kind(chunk), Utf8.Text(Utf8.Copy(text, len)),
                     Native.llmkit_chunk_tool_index(chunk), Native.llmkit_chunk_tool_id(chunk),
                     Native.llmkit_chunk_tool_name(chunk));
  }
}

// Owns one llmkit_response, as OptionsHandle owns an llmkit_options.
internal sealed class ResponseHandle : SafeHandleZeroOrMinusOneIsInvalid {
  public ResponseHandle() : base(true) {}

  // The response an async call's done callback was handed to own, or
  // (owns false) one the library keeps: a hook's event's.
  public ResponseHandle(IntPtr response, bool owns = true) : base(owns) {
    SetHandle(response);
  }

  protected override bool ReleaseHandle() {
    NativePINVOKE.csharp_llmkit_response_free(handle);
    return true;
  }
}

}
