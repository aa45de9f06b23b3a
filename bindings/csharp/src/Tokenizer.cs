using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Llmkit {

/// <summary>An OpenAI BPE encoding ("cl100k_base", "o200k_base", "p50k_base",
/// "r50k_base") with tiktoken's ids. The rank data is loaded once per process;
/// a Tokenizer is a cheap handle to it, safe to share between threads.</summary>
public sealed class Tokenizer : IDisposable {
  readonly TokenizerHandle handle;

  /// <exception cref="LlmkitException">NotFound for an unknown encoding.</exception>
  public Tokenizer(string encoding) {
    Native.llmkit_tokenizer_new(encoding, out handle);
  }

  /// <summary>The tokenizer of an OpenAI model, e.g. "gpt-4o".</summary>
  /// <exception cref="LlmkitException">NotFound for a model without a public tokenizer.</exception>
  public static Tokenizer ForModel(string model) => new Tokenizer(Tokens.EncodingForModel(model));

  /// <summary>The encoding's name, e.g. "o200k_base".</summary>
  public string Name => Native.llmkit_tokenizer_name(handle);

  /// <summary>One more than the largest id, special tokens included (tiktoken's n_vocab).</summary>
  public int NVocab {
    get {
      UIntPtr n;
      Native.llmkit_tokenizer_n_vocab(handle, out n);
      return checked((int)n.ToUInt64());
    }
  }

  /// <exception cref="LlmkitException">InvalidArgument for text that spells a
  /// special token under <see cref="SpecialMode.Disallow"/>.</exception>
  public uint[] Encode(string text, SpecialMode mode = SpecialMode.Disallow) =>
      Encode(Utf8.Bytes(text, nameof(text)), mode);

  /// <summary>Encodes UTF-8 bytes as they are.</summary>
  /// <exception cref="LlmkitException">InvalidArgument for invalid UTF-8, with its byte offset.</exception>
  public uint[] Encode(ReadOnlySpan<byte> utf8, SpecialMode mode = SpecialMode.Disallow) {
    // Every token covers at least one byte, so one call always has room.
    var ids = new uint[utf8.Length];
    UIntPtr n;
    Native.llmkit_tokenizer_encode(handle, utf8, (UIntPtr)utf8.Length, mode, ids, (UIntPtr)ids.Length, out n);
    Array.Resize(ref ids, checked((int)n.ToUInt64()));
    return ids;
  }

  /// <summary>The length <see cref="Encode(string, SpecialMode)"/> would return, without the ids.</summary>
  public long Count(string text, SpecialMode mode = SpecialMode.Disallow) =>
      Count(Utf8.Bytes(text, nameof(text)), mode);

  public long Count(ReadOnlySpan<byte> utf8, SpecialMode mode = SpecialMode.Disallow) {
    UIntPtr count;
    Native.llmkit_tokenizer_count(handle, utf8, (UIntPtr)utf8.Length, mode, out count);
    return checked((long)count.ToUInt64());
  }

  /// <summary>Counts many texts at once on the library's worker threads.</summary>
  /// <exception cref="LlmkitException">The error of the first failing text,
  /// whose message starts with "text INDEX: ".</exception>
  public long[] CountBatch(IReadOnlyList<string> texts, SpecialMode mode = SpecialMode.Disallow) {
    if (texts == null) throw new ArgumentNullException(nameof(texts));
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
    var counts = new UIntPtr[n];
    GCHandle pin = GCHandle.Alloc(buffer, GCHandleType.Pinned);
    try {
      IntPtr at = pin.AddrOfPinnedObject();
      int offset = 0;
      for (int i = 0; i < n; i++) {
        starts[i] = at + offset;
        offset += Utf8.Write(texts[i], buffer, offset);
      }
      Native.llmkit_tokenizer_count_batch(handle, starts, lens, (UIntPtr)n, mode, counts);
    } finally {
      pin.Free();
    }
    return Array.ConvertAll(counts, c => checked((long)c.ToUInt64()));
  }

  /// <summary>The bytes the ids stand for. They may end inside a UTF-8
  /// sequence when the ids do.</summary>
  /// <exception cref="LlmkitException">InvalidArgument for an id not in the encoding.</exception>
  public byte[] Decode(ReadOnlySpan<uint> ids) {
    UIntPtr len;
    Native.llmkit_tokenizer_decode(handle, ids, (UIntPtr)ids.Length, Span<byte>.Empty, UIntPtr.Zero, out len);
    var bytes = new byte[checked((int)len.ToUInt64())];
    Native.llmkit_tokenizer_decode(handle, ids, (UIntPtr)ids.Length, bytes, (UIntPtr)bytes.Length, out len);
    return bytes;
  }

  /// <summary><see cref="Decode"/> as text; like tiktoken's decode(), bytes that
  /// are not valid UTF-8 become U+FFFD.</summary>
  public string DecodeString(ReadOnlySpan<uint> ids) => System.Text.Encoding.UTF8.GetString(Decode(ids));

  /// <summary>Frees the handle now rather than at finalization. Any later use
  /// throws ObjectDisposedException.</summary>
  public void Dispose() => handle.Dispose();
}

// Owns one llmkit_tokenizer, as OptionsHandle owns an llmkit_options.
internal sealed class TokenizerHandle : SafeHandleZeroOrMinusOneIsInvalid {
  public TokenizerHandle() : base(true) {}

  protected override bool ReleaseHandle() {
    NativePINVOKE.csharp_llmkit_tokenizer_free(handle);
    return true;
  }
}

}
