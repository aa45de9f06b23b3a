using System;
using Microsoft.Win32.SafeHandles;

namespace Llmkit {

/// <summary>Key/value settings for llmkit objects. Keys are lower-case ASCII
/// words joined by '.', '_' or '-'; values are strings the consumer parses.
/// Not safe for concurrent writers.</summary>
public sealed class Options : IDisposable {
  readonly OptionsHandle handle;

  public Options() {
    Native.llmkit_options_new(out handle);
  }

  Options(OptionsHandle handle) {
    this.handle = handle;
  }

  // For the constructors of objects configured by options (RateLimiter).
  internal OptionsHandle Handle => handle;

  /// <summary>Sets <paramref name="key"/>, replacing any previous value.</summary>
  /// <exception cref="LlmkitException">InvalidArgument for a malformed key.</exception>
  public void Set(string key, string value) => Native.llmkit_options_set(handle, key, value);

  /// <exception cref="LlmkitException">NotFound when <paramref name="key"/> is not set.</exception>
  public string Get(string key) {
    string value;
    Native.llmkit_options_get(handle, key, out value);
    return value;
  }

  /// <summary>Like <see cref="Get"/>, but false instead of NotFound.</summary>
  public bool TryGet(string key, out string value) {
    try {
      value = Get(key);
      return true;
    } catch (LlmkitException e) when (e.Status == Status.NotFound) {
      value = null;
      return false;
    }
  }

  /// <summary>Reads like <see cref="Get"/> (throwing NotFound), writes like <see cref="Set"/>.</summary>
  public string this[string key] {
    get => Get(key);
    set => Set(key, value);
  }

  /// <exception cref="LlmkitException">NotFound when <paramref name="key"/> is not set.</exception>
  public void Unset(string key) => Native.llmkit_options_unset(handle, key);

  public int Count {
    get {
      UIntPtr count;
      Native.llmkit_options_count(handle, out count);
      return checked((int)count.ToUInt64());
    }
  }

  /// <summary>An independent copy: changing one leaves the other as it was.</summary>
  public Options Copy() {
    OptionsHandle copy;
    Native.llmkit_options_copy(handle, out copy);
    return new Options(copy);
  }

  /// <summary>Frees the native options now rather than at finalization. Any
  /// later use throws ObjectDisposedException.</summary>
  public void Dispose() => handle.Dispose();
}

// Owns one llmkit_options. As a SafeHandle it is freed exactly once, by Dispose
// or the finalizer, never while a call is still using it, and P/Invoke refuses
// it once closed instead of passing C a dangling pointer.
internal sealed class OptionsHandle : SafeHandleZeroOrMinusOneIsInvalid {
  public OptionsHandle() : base(true) {}

  protected override bool ReleaseHandle() {
    NativePINVOKE.csharp_llmkit_options_free(handle);
    return true;
  }
}

}
