using System;

namespace Llmkit {

/// <summary>Token counts by model name. All methods are safe from any thread.</summary>
public static class Tokens {
  /// <summary>The encoding an OpenAI model uses, e.g. "o200k_base" for "gpt-4o".</summary>
  /// <exception cref="LlmkitException">NotFound for a model without a public tokenizer.</exception>
  public static string EncodingForModel(string model) {
    string encoding;
    Native.llmkit_encoding_for_model(model, out encoding);
    return encoding;
  }

  /// <summary>The exact count for an OpenAI model; special-token spellings
  /// count as ordinary text, as the API treats them.</summary>
  /// <exception cref="LlmkitException">NotFound for other models: see <see cref="Estimate"/>.</exception>
  public static long Count(string model, string text) {
    byte[] bytes = Utf8.Bytes(text, nameof(text));
    UIntPtr count;
    Native.llmkit_count_tokens(model, bytes, (UIntPtr)bytes.Length, out count);
    return checked((long)count.ToUInt64());
  }

  /// <summary>Prompt tokens of a Chat Completions request, reply priming
  /// included, from its "messages" and optional "tools" JSON arrays.</summary>
  /// <exception cref="LlmkitException">InvalidArgument for malformed JSON;
  /// Unsupported for image or audio parts.</exception>
  public static long CountChat(string model, string messagesJson, string toolsJson = null) {
    byte[] messages = Utf8.Bytes(messagesJson, nameof(messagesJson));
    // llmkit reads empty tools text as no tools, as it does NULL.
    byte[] tools = toolsJson == null ? new byte[0] : Utf8.Bytes(toolsJson, nameof(toolsJson));
    UIntPtr count;
    Native.llmkit_count_tokens_chat(model, messages, (UIntPtr)messages.Length, tools, (UIntPtr)tools.Length,
                                    out count);
    return checked((long)count.ToUInt64());
  }

  /// <summary>An estimate for models whose tokenizer is not public ("claude-*",
  /// "gemini-*", "gemma-*"): their o200k_base count. Exact for OpenAI models.</summary>
  /// <exception cref="LlmkitException">NotFound for a model of no known family.</exception>
  public static TokenEstimate Estimate(string model, string text) {
    byte[] bytes = Utf8.Bytes(text, nameof(text));
    UIntPtr count;
    int exact;
    Native.llmkit_estimate_tokens(model, bytes, (UIntPtr)bytes.Length, out count, out exact);
    return new TokenEstimate(checked((long)count.ToUInt64()), exact != 0);
  }
}

/// <summary>A token count and whether it is the model's own (exact) count.</summary>
public struct TokenEstimate {
  public long Count { get; }
  public bool Exact { get; }

  public TokenEstimate(long count, bool exact) {
    Count = count;
    Exact = exact;
  }
}

}
