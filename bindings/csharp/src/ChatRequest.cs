using System;
using System.Collections.Generic;
using System.Globalization;

namespace Llmkit {

/// <summary>A chat request, built as plain C# and turned into an
/// llmkit_request for each call, so one instance may be sent any number of
/// times (not while another thread changes it). Null and empty members are
/// left out: the provider's defaults apply.</summary>
/// <example><code>
/// var request = new ChatRequest {
///   Model = "gpt-4o-mini",
///   SystemPrompt = "Answer in one word.",
///   Messages = { Message.User("What colour is the sky?") },
///   Temperature = 0,
/// };
/// </code></example>
public sealed class ChatRequest {
  /// <summary>The model; null: the client's "model" option.</summary>
  public string Model { get; set; }

  /// <summary>The system prompt.</summary>
  public string SystemPrompt { get; set; }

  /// <summary>Marks a prompt-cache breakpoint after the system prompt
  /// (Anthropic's cache_control; OpenAI and Gemini cache on their own and
  /// ignore it). Needs a <see cref="SystemPrompt"/>.</summary>
  public bool CacheSystemPrompt { get; set; }

  /// <summary>The conversation, in order: user and assistant messages, tool results.</summary>
  public IList<Message> Messages { get; } = new List<Message>();

  /// <summary>The tools the model may call.</summary>
  public IList<Tool> Tools { get; } = new List<Tool>();

  /// <summary>"auto", "none", "required", or a tool's name.</summary>
  public string ToolChoice { get; set; }

  /// <summary>"text", "json", or a JSON schema (an object's JSON text) the
  /// answer must follow.</summary>
  public string ResponseFormat { get; set; }

  public double? Temperature { get; set; }
  public double? TopP { get; set; }
  public long? MaxTokens { get; set; }

  /// <summary>A best effort where the provider takes one (Anthropic takes none: it is dropped there).</summary>
  public long? Seed { get; set; }

  /// <summary>Tokens of reasoning: Anthropic thinking, Gemini thinkingConfig,
  /// Ollama think. OpenAI takes none (the call throws Unsupported): put
  /// {"reasoning_effort": ...} in <see cref="Extra"/> instead.</summary>
  public long? ThinkingBudget { get; set; }

  /// <summary>Stop sequences.</summary>
  public IList<string> Stop { get; } = new List<string>();

  /// <summary>A JSON object merged into the provider's request body, member
  /// by member, for provider-specific parameters.</summary>
  public string Extra { get; set; }

  /// <summary>Appends <paramref name="response"/>'s turn as an assistant message:
  /// its text, reasoning blocks and tool calls with their signatures, as they
  /// came, so that tool results can follow and the conversation go on
  /// (llmkit_request_add_response). Anthropic with thinking on, and Gemini 3,
  /// refuse a tool-use turn sent back without them.</summary>
  /// <exception cref="ArgumentException">An error answer, one that did not
  /// finish (a cut stream), or one with nothing to add.</exception>
  public void AddResponse(Response response) {
    if (response == null) throw new ArgumentNullException(nameof(response));
    if (response.Status != Status.Ok) {
      throw new ArgumentException($"an error answer ({response.Status}) is no turn to add", nameof(response));
    }
    if (response.FinishReason == FinishReason.None) {
      throw new ArgumentException("the answer did not finish (a cut stream): no turn to add", nameof(response));
    }
    if (response.Text.Length == 0 && response.Thinking.Count == 0 && response.ToolCalls.Count == 0) {
      throw new ArgumentException("the answer has no text, thinking or tool call to add", nameof(response));
    }
    Message m = Message.Assistant(response.Text.Length == 0 ? null : response.Text, response.ToolCalls);
    foreach (Thinking t in response.Thinking) m.Thinking.Add(t);
    Messages.Add(m);
  }

  // The llmkit_request for one call: the caller disposes it. Bad values
  // throw here, before anything is sent: LlmkitException InvalidArgument
  // from the library, ArgumentException for a malformed message.
  //
  // A parameter named `text` crosses as a span (the swg's %apply for text
  // with a length); these take it NUL-terminated, as Utf8.Encode makes it.
  internal RequestHandle ToNative() {
    RequestHandle r;
    Native.llmkit_request_new(out r);
    try {
      Set(r, "model", Model);
      Set(r, "system", SystemPrompt);
      if (CacheSystemPrompt) Native.llmkit_request_cache_breakpoint(r);
      Set(r, "temperature", Number(Temperature));
      Set(r, "top_p", Number(TopP));
      Set(r, "max_tokens", Number(MaxTokens));
      Set(r, "seed", Number(Seed));
      Set(r, "thinking_budget", Number(ThinkingBudget));
      Set(r, "tool_choice", ToolChoice);
      Set(r, "response_format", ResponseFormat);
      Set(r, "extra", Extra);
      foreach (string stop in Stop) {
        Native.llmkit_request_add_stop(r, Utf8.Encode(stop ?? throw new ArgumentException("a stop sequence is null", nameof(Stop))));
      }
      for (int i = 0; i < Messages.Count; i++) {
        Message m = Messages[i] ?? throw new ArgumentException($"message {i} is null", nameof(Messages));
        m.AddTo(r, i);
      }
      foreach (Tool t in Tools) {
        if (t == null) throw new ArgumentException("a tool is null", nameof(Tools));
        Native.llmkit_request_add_tool(r, t.Name, t.Description, t.Parameters);
      }
      return r;
    } catch {
      r.Dispose();
      throw;
    }
  }

  static void Set(RequestHandle r, string key, string value) {
    if (value != null) Native.llmkit_request_set(r, key, value);
  }

  // "R" round-trips every double; a NaN or an infinity reaches the library,
  // which refuses it as InvalidArgument.
  static string Number(double? d) => d?.ToString("R", CultureInfo.InvariantCulture);
  static string Number(long? n) => n?.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Who speaks a <see cref="Message"/>.</summary>
public enum Role {
  User,
  Assistant,
  /// <summary>The result of a tool call: see <see cref="Message.ToolResult"/>.</summary>
  Tool,
}

/// <summary>One message of a conversation: text and image parts in order,
/// and for the assistant the tool calls it made.</summary>
/// <example><code>
/// Message.User("What is in this picture?", ContentPart.FromImage("https://example.com/cat.png"))
/// Message.Assistant(null, new[] { new ToolCall("call_1", "get_weather", "{\"city\":\"Paris\"}") })
/// Message.ToolResult("call_1", "{\"temp_c\":18}")
/// new Message(Role.User, longDocument) { CacheBreakpoint = true }
/// </code></example>
public sealed class Message {
  /// <param name="role">User or Assistant; tool results come from <see cref="ToolResult"/>.</param>
  /// <param name="content">Text (a string converts) and image parts, in order.</param>
  public Message(Role role, params ContentPart[] content) {
    if (role != Role.User && role != Role.Assistant) {
      throw new ArgumentException("a message is the user's or the assistant's; tool results: Message.ToolResult",
                                  nameof(role));
    }
    Role = role;
    if (content != null) foreach (ContentPart part in content) Content.Add(part);
  }

  Message(string toolCallId, string content) {
    Role = Role.Tool;
    ToolCallId = toolCallId ?? throw new ArgumentNullException(nameof(toolCallId));
    Content.Add(ContentPart.FromText(content));
  }

  public static Message User(params ContentPart[] content) => new Message(Role.User, content);

  public static Message Assistant(params ContentPart[] content) => new Message(Role.Assistant, content);

  /// <summary>An assistant message that called tools; <paramref name="text"/> may be null.</summary>
  public static Message Assistant(string text, IEnumerable<ToolCall> toolCalls) {
    var m = text == null ? new Message(Role.Assistant) : new Message(Role.Assistant, text);
    if (toolCalls != null) foreach (ToolCall call in toolCalls) m.ToolCalls.Add(call);
    return m;
  }

  /// <summary>What the tool call <paramref name="toolCallId"/> returned.</summary>
  public static Message ToolResult(string toolCallId, string content) => new Message(toolCallId, content);

  public Role Role { get; }

  /// <summary>Text and image parts, in order. A tool result holds one text part.</summary>
  public IList<ContentPart> Content { get; } = new List<ContentPart>();

  /// <summary>The tool calls an assistant message made.</summary>
  public IList<ToolCall> ToolCalls { get; } = new List<ToolCall>();

  /// <summary>The reasoning of the answer an assistant message is, as
  /// <see cref="Response.Thinking"/> gave it: Anthropic gets the blocks first in
  /// the message, Gemini each on the part it came with, OpenAI and Ollama
  /// none.</summary>
  public IList<Thinking> Thinking { get; } = new List<Thinking>();

  /// <summary>For a tool result: the id of the call it answers.</summary>
  public string ToolCallId { get; }

  /// <summary>Marks a prompt-cache breakpoint after this message (Anthropic's
  /// cache_control; OpenAI and Gemini ignore it).</summary>
  public bool CacheBreakpoint { get; set; }

  internal void AddTo(RequestHandle r, int index) {
    if (Role == Role.Tool) {
      if (Content.Count != 1 || Content[0]?.Text == null) {
        throw new ArgumentException($"message {index}: a tool result holds exactly one text part", "Messages");
      }
      Native.llmkit_request_add_tool_result(r, ToolCallId, Content[0].Text);
    } else {
      int first = 0;
      ContentPart head = Content.Count > 0 ? Content[0] : null;
      if (head != null && head.Text != null) first = 1;
      // NULL text: a message whose parts all follow.
      Native.llmkit_request_add_message(r, Role == Role.User ? "user" : "assistant", Utf8.Encode(first == 1 ? head.Text : null));
      for (int i = first; i < Content.Count; i++) {
        ContentPart p = Content[i] ?? throw new ArgumentException($"message {index}: part {i} is null", "Messages");
        if (p.Text != null) {
          Native.llmkit_request_add_text(r, Utf8.Encode(p.Text));
        } else {
          Native.llmkit_request_add_image(r, p.ImageUrl);
        }
      }
      foreach (Thinking t in Thinking) {
        if (t == null) throw new ArgumentException($"message {index}: a thinking block is null", "Messages");
        Native.llmkit_request_add_thinking(r, Utf8.Encode(t.Text), t.Signature, t.Redacted ? 1 : 0);
      }
      foreach (ToolCall c in ToolCalls) {
        if (c == null) throw new ArgumentException($"message {index}: a tool call is null", "Messages");
        Native.llmkit_request_add_tool_call(r, c.Id, c.Name, c.Arguments);
        if (c.Signature.Length > 0) Native.llmkit_request_set_tool_call_signature(r, c.Signature);
      }
    }
    if (CacheBreakpoint) Native.llmkit_request_cache_breakpoint(r);
  }
}

/// <summary>A part of a message: text, or an image by URL. A string converts
/// to a text part.</summary>
public sealed class ContentPart {
  ContentPart(string text, string imageUrl) {
    Text = text;
    ImageUrl = imageUrl;
  }

  public static ContentPart FromText(string text) =>
      new ContentPart(text ?? throw new ArgumentNullException(nameof(text)), null);

  /// <summary>An image: an http(s) URL, or a data: URL
  /// ("data:image/png;base64,..."). Gemini and Ollama take only data: URLs
  /// (the call throws Unsupported otherwise).</summary>
  public static ContentPart FromImage(string url) =>
      new ContentPart(null, url ?? throw new ArgumentNullException(nameof(url)));

  public static implicit operator ContentPart(string text) => FromText(text);

  /// <summary>The text; null for an image.</summary>
  public string Text { get; }

  /// <summary>The image's URL; null for text.</summary>
  public string ImageUrl { get; }
}

/// <summary>A tool the model may call.</summary>
public sealed class Tool {
  /// <param name="parameters">Its arguments' JSON schema (an object's JSON
  /// text); null for none.</param>
  public Tool(string name, string description = null, string parameters = null) {
    Name = name ?? throw new ArgumentNullException(nameof(name));
    Description = description;
    Parameters = parameters;
  }

  public string Name { get; }
  public string Description { get; }
  public string Parameters { get; }
}

/// <summary>A call of a tool: in an answer (<see cref="Response.ToolCalls"/>),
/// or in an assistant message sent back with its result.</summary>
public sealed class ToolCall {
  /// <param name="arguments">The arguments' JSON text (an object).</param>
  public ToolCall(string id, string name, string arguments) : this(id, name, arguments, "") {}

  /// <param name="signature">Gemini's thoughtSignature on the call, as
  /// <see cref="Signature"/> gave it; null or "" for none.</param>
  public ToolCall(string id, string name, string arguments, string signature) {
    Id = id ?? throw new ArgumentNullException(nameof(id));
    Name = name ?? throw new ArgumentNullException(nameof(name));
    Arguments = arguments ?? throw new ArgumentNullException(nameof(arguments));
    Signature = signature ?? "";
  }

  /// <summary>The provider's id for the call; "call_N" (N its index from 0)
  /// where the provider gives none (Gemini, Ollama).</summary>
  public string Id { get; }
  public string Name { get; }

  /// <summary>The arguments' JSON text, as the provider sent them.</summary>
  public string Arguments { get; }

  /// <summary>Gemini's thoughtSignature on the call ("" for none), which Gemini
  /// 3 needs back with the call on the next turn.</summary>
  public string Signature { get; }
}

/// <summary>A block of reasoning as Anthropic or Gemini sent it
/// (docs/providers.md, "Multi-turn with thinking"). The provider checks it
/// when it comes back: keep every field as it is.</summary>
public sealed class Thinking {
  /// <param name="text">The thinking text; null or "" for a redacted block.</param>
  /// <param name="signature">The provider's opaque signature; a redacted block's data.</param>
  /// <param name="redacted">Anthropic's redacted_thinking.</param>
  public Thinking(string text, string signature, bool redacted = false) {
    Text = text ?? "";
    Signature = signature ?? "";
    Redacted = redacted;
  }

  /// <summary>The thinking text: "" for a redacted block, or for a signature
  /// Gemini put on a text part.</summary>
  public string Text { get; }

  /// <summary>The provider's opaque signature; a redacted block's data.</summary>
  public string Signature { get; }

  /// <summary>Anthropic's redacted_thinking.</summary>
  public bool Redacted { get; }
}

}
