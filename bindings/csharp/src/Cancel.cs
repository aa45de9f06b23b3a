using System;
using System.Threading;
using Microsoft.Win32.SafeHandles;

namespace Llmkit {

// An llmkit_cancel wired to a CancellationToken for one blocking native call:
// cancelling the token triggers the signal, and the call returns
// Status.Cancelled at once. C# callers only ever see the token.
//
//   using (var cancel = new Cancel(token)) {
//     try {
//       Native.llmkit_..._blocking(..., cancel.Handle);
//     } catch (LlmkitException e) when (e.Status == Status.Cancelled) {
//       throw cancel.Cancelled(e);
//     }
//   }
//
// Dispose only after the call has returned. The SafeHandle would keep the
// signal alive through a call in any case.
internal sealed class Cancel : IDisposable {
  // Passed for a token that can never be cancelled: C gets NULL.
  static readonly CancelHandle None = new CancelHandle();

  readonly CancellationToken token;
  readonly CancelHandle handle;
  CancellationTokenRegistration registration;

  /// <exception cref="OperationCanceledException">The token is already cancelled.</exception>
  public Cancel(CancellationToken token) {
    token.ThrowIfCancellationRequested();
    this.token = token;
    if (!token.CanBeCanceled) {
      handle = None;
      return;
    }
    Native.llmkit_cancel_new(out handle);
    try {
      // Runs Trigger on the cancelling thread, or here at once if the token
      // was cancelled since the check above.
      registration = token.Register(Trigger);
    } catch {
      handle.Dispose();  // a disposed CancellationTokenSource
      throw;
    }
  }

  public CancelHandle Handle => handle;

  void Trigger() => Native.llmkit_cancel_trigger(handle);

  // The .NET form of a call that ended with Status.Cancelled: only this
  // token triggers the signal, so the token is the one that cancelled it.
  public OperationCanceledException Cancelled(LlmkitException e) =>
      new OperationCanceledException(e.Message, e, token);

  public void Dispose() {
    // The registration goes first: once disposed, Trigger can no longer run,
    // and Dispose waits for one already running on the cancelling thread, so
    // Trigger never meets a freed signal.
    registration.Dispose();
    if (handle != None) handle.Dispose();
  }
}

// Owns one llmkit_cancel, as OptionsHandle owns an llmkit_options. The
// unowned instance with a zero handle (Cancel.None) passes NULL.
internal sealed class CancelHandle : SafeHandleZeroOrMinusOneIsInvalid {
  public CancelHandle() : base(true) {}

  protected override bool ReleaseHandle() {
    NativePINVOKE.csharp_llmkit_cancel_free(handle);
    return true;
  }
}

}
