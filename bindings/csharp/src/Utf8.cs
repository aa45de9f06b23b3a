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

  // Text with an explicit length: no NUL is added, so NULs in it are text.
  public static byte[] Bytes(string s, string paramName) {
    if (s == null) throw new ArgumentNullException(paramName);
    return Strict.GetBytes(s);
  }

  public static int ByteCount(string s) => Strict.GetByteCount(s);

  public static int Write(string s, byte[] to, int at) => Strict.GetBytes(s, 0, s.Length, to, at);

  // Never throws: it also runs inside the error callback, where an exception
  // would have to unwind through C frames.
  public static string Decode(IntPtr p) => Marshal.PtrToStringUTF8(p);

  // The text before the first NUL of a buffer the library wrote into (a
  // cache key). Never throws, like Decode.
  public static string DecodeNul(byte[] buffer) {
    int n = Array.IndexOf(buffer, (byte)0);
    return Encoding.UTF8.GetString(buffer, 0, n < 0 ? buffer.Length : n);
  }

  // A copy of `len` bytes the library owns (a cached value, a JSON answer),
  // made before the next call invalidates them; null for NULL.
  public static byte[] Copy(IntPtr p, UIntPtr len) {
    if (p == IntPtr.Zero) return null;
    var bytes = new byte[checked((int)len.ToUInt64())];
    Marshal.Copy(p, bytes, 0, bytes.Length);
    return bytes;
  }

  // Bytes from the library as text; invalid UTF-8 becomes U+FFFD. Null stays null.
  public static string Text(byte[] bytes) => bytes == null ? null : Encoding.UTF8.GetString(bytes);
}

}
