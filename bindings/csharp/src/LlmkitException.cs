using System;

namespace Llmkit {

/// <summary>Thrown for every llmkit call that returns a status other than
/// <see cref="Llmkit.Status.Ok"/>.</summary>
public class LlmkitException : Exception {
  /// <summary>The status the call returned.</summary>
  public Status Status { get; }

  /// <param name="message">The library's message for the failing call
  /// (llmkit_last_error()), read on the thread that made it.</param>
  public LlmkitException(Status status, string message) : base(message) {
    Status = status;
  }
}

}
