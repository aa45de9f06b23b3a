// The README's C example in C#: version, options and the error model.
// Built and run by `make -C bindings/csharp test`.
using System;
using Llmkit;

static class Example {
  static void Main() {
    Console.WriteLine($"llmkit {Library.Version}");
    using (var opts = new Options()) {
      opts["model"] = "gpt-4o-mini";
      Console.WriteLine($"model = {opts["model"]}");
      try {
        opts.Get("temperature");
      } catch (LlmkitException e) {
        Console.WriteLine($"error {Library.StatusString(e.Status)}: {e.Message}");
      }
    }
  }
}
