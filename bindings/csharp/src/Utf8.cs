using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Llmkit {

// llmkit strings are NUL-terminated UTF-8. P/Invoke's own string marshalling
// is ANSI on some platforms and turns lone surrogates into U+FFFD; encoding
// strictly here means the library gets exactly the caller's text or the call
// fails with an ArgumentException.
internal static class Utf8 {
  static readonly Encoding Strict = new UTF8Encoding(false, true);

  public static byte[] Encode(string s) {
    if (s == null) return null;  // NULL: the library reports INVALID_ARGUMENT
    var bytes = new byte[Strict.GetByteCount(s) + 1];
    Strict.GetBytes(s, 0, s.Length, bytes, 0);
    return bytes;
  }

  // Never throws: it also runs inside the error callback, where an exception
  // would have to unwind through C frames.
  public static string Decode(IntPtr p) => Marshal.PtrToStringUTF8(p);
}

}
