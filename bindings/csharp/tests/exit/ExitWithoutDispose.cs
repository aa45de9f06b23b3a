// A program that makes an async call and exits without disposing its
// client: the call's end ran C# on the client's loop thread, which Mono
// would otherwise wait for at exit, forever. ClientTests runs it.
using System;
using Llmkit;

static class ExitWithoutDispose {
  static int Main() {
    var options = new Options();
    options["provider"] = "openai";
    options["base_url"] = "http://127.0.0.1:1/v1";  // nothing listens: the call fails at once
    options["api_key"] = "sk-unused";
    var client = new Client(options);
    var request = new ChatRequest { Model = "m", Messages = { Message.User("hi") } };
    try {
      client.ChatAsync(request, chunk => {}).Wait();
    } catch (AggregateException e) when (e.InnerException is LlmkitException) {
      Console.WriteLine(((LlmkitException)e.InnerException).Status);
    }
    return 0;
  }
}
