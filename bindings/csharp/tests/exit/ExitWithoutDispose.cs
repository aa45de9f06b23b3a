// A program that makes an async call and exits without disposing its
// client: the call's end ran C# on the client's loop thread, which Mono
// would otherwise wait for at exit, forever. ClientTests runs it. With the
// argument "hooks", HooksTests does: a blocking call whose async hooks run
// C# on the hooks' own thread, still queued when Main returns, with
// neither the hooks nor the client disposed.
using System;
using System.Threading;
using Llmkit;

static class ExitWithoutDispose {
  static int Main(string[] args) {
    var options = new Options();
    options["provider"] = "openai";
    options["base_url"] = "http://127.0.0.1:1/v1";  // nothing listens: the call fails at once
    options["api_key"] = "sk-unused";
    var client = new Client(options);
    var request = new ChatRequest { Model = "m", Messages = { Message.User("hi") } };
    if (args.Length > 0 && args[0] == "hooks") {
      var hooks = new Hooks();
      Action<HookEvent> slow = e => {
        Thread.Sleep(200);
        Console.WriteLine("hook " + e.Status);
      };
      hooks.Add(HookKind.Error, slow, flags: HookFlags.Async);
      hooks.Add(HookKind.Finally, slow, flags: HookFlags.Async);
      client.Hooks = hooks;
      try {
        client.Chat(request);
      } catch (LlmkitException e) {
        Console.WriteLine(e.Status);
      }
      return 0;
    }
    try {
      client.ChatAsync(request, chunk => {}).Wait();
    } catch (AggregateException e) when (e.InnerException is LlmkitException) {
      Console.WriteLine(((LlmkitException)e.InnerException).Status);
    }
    return 0;
  }
}
