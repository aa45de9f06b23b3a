using System.Runtime.CompilerServices;

// The tests compare the loaded library with the header the wrapper was built from.
[assembly: InternalsVisibleTo("Llmkit.Tests")]

namespace Llmkit {

/// <summary>Facts about the loaded native library.</summary>
public static class Library {
  /// <summary>The loaded library's version, "MAJOR.MINOR.PATCH".</summary>
  public static string Version => Native.llmkit_version();

  /// <summary>The loaded library's version as MAJOR * 10000 + MINOR * 100 + PATCH.</summary>
  public static int VersionNumber => Native.llmkit_version_number();

  /// <summary>The constant name of a status, e.g. "NOT_FOUND"; "UNKNOWN" for a
  /// value this version of the library does not know.</summary>
  public static string StatusString(Status status) => Native.llmkit_status_str(status);
}

}
