using System;

namespace Llmkit {

/// <summary>Thrown for every llmkit call that returns a status other than
/// <see cref="Llmkit.Status.Ok"/>.</summary>
public class LlmkitException : Exception {
  /// <summary>The status the call returned.</summary>
  public Status Status { get; }

  /// <summary>The provider's answer when a provider call failed with one: an
  /// error answer's details (<see cref="Llmkit.Response.HttpStatus"/>,
  /// <see cref="Llmkit.Response.RetryAfter"/>, <see cref="Llmkit.Response.ErrorDetail"/>
  /// such as "context_length_exceeded"); null when no answer arrived (a
  /// network error, a timeout, a bad argument) and for every other call.</summary>
  public Response Response { get; }

  /// <param name="message">The library's message for the failing call
  /// (llmkit_last_error()), read on the thread that made it.</param>
  public LlmkitException(Status status, string message) : base(message) {
    Status = status;
  }

  /// <param name="response">The provider's answer, if one arrived.</param>
  public LlmkitException(Status status, string message, Response response) : base(message) {
    Status = status;
    Response = response;
  }

  // This exception with the answer the failing call left, if any.
  internal LlmkitException With(Response response) =>
      response == null ? this : new LlmkitException(Status, Message, response);
}

}
