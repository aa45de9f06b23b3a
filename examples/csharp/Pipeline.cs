// The whole call pipeline from C#, line for line the output of
// examples/c/pipeline.c: one hooks set in two scopes, a client routing among
// two deployments with a fallback rule, a response cache, a per-caller rate
// limit, a retry after a 429, a fallback after a 500, a stream's time to
// first token, and what each call cost. Run against
// test/upstream/upstream.py (examples/with_upstream.sh starts one); built
// and run by `make -C bindings/csharp test`.
// Usage: mono Pipeline.exe http://127.0.0.1:PORT [--timing]
using System;
using Llmkit;
using static System.FormattableString;

static class Pipeline {
  static bool timing;  // --timing: print the time to the first token (varies run to run)

  static int Main(string[] args) {
    if (args.Length < 1 || args.Length > 2 || (args.Length == 2 && args[1] != "--timing")) {
      Console.Error.WriteLine("usage: Pipeline.exe http://127.0.0.1:PORT [--timing]   (test/upstream/upstream.py)");
      return 2;
    }
    timing = args.Length == 2;

    // Hooks in two scopes, and one global; each prints what it sees.
    using (var hooks = new Hooks()) {
      string[] names = { "global/tag", "production/audit", "production/limited", "evaluation/grade" };
      ulong[] ids = {
        hooks.Add(HookKind.Before, e => e.SetMeta("team", "search")),
        hooks.Add(HookKind.After, e => Audit("production/audit", e), "production", "meta.team:search"),
        hooks.Add(HookKind.Error, e => Console.WriteLine($"    hook production/limited: {Hintless(e.Message)}"),
                  "production", "status:rate_limited"),
        hooks.Add(HookKind.After, e => Audit("evaluation/grade", e), "evaluation", "tag:graded"),
      };

      // A cache, and two calls a minute per caller: disposed after the clients.
      Cache cache;
      RateLimiter limiter;
      using (var o = new Options()) {
        cache = new Cache(o);
        o["requests"] = "2";
        limiter = new RateLimiter(o);
      }
      using (cache)
      using (limiter)
      using (Client prod = ClientIn(args[0], "production"), eval = ClientIn(args[0], "evaluation")) {
        prod.Hooks = eval.Hooks = hooks;
        prod.Cache = cache;

        Console.WriteLine("== production client: deployments primary (OpenAI) and backup (Anthropic)");
        Call(prod, "a call", "Say hello.", false);
        Call(prod, "the same call again", "Say hello.", false);
        Call(prod, "a 429 once, then a retry", "Say hello twice.", false,
             "header.x-upstream-fault", "status=429,retry_after_ms=50,times=1,id=demo-429");
        Call(prod, "a 500 on both tries of primary, then the fallback", "Say hello thrice.", false,
             "header.x-upstream-fault", "status=500,times=2,id=demo-500");
        Call(prod, "a stream", "Count to three.", true);
        prod.RateLimiter = limiter;  // for the calls from now on
        Call(prod, "alice, call 1 of 2 a minute", "Hi from alice.", false, "caller", "alice", "cache", "bypass");
        Call(prod, "alice, call 2", "Hi from alice.", false, "caller", "alice", "cache", "bypass");
        Call(prod, "alice, call 3", "Hi from alice.", false, "caller", "alice", "cache", "bypass");
        Call(prod, "bob, call 1", "Hi from bob.", false, "caller", "bob", "cache", "bypass");
        Console.WriteLine("== evaluation client: same hooks, its own scope");
        Call(eval, "a graded call", "Say hello.", false, "tags", "graded");
      }

      Console.WriteLine("== hook stats");
      for (int i = 0; i < ids.Length; i++) {
        HookStats s = hooks.Stats(ids[i]);
        Console.WriteLine($"{names[i],-19} {s.Calls} calls, {s.Errors} errors");
      }
    }
    return 0;
  }

  // A client in `scope`: two deployments on the upstream, "chat" falling back
  // to "backup" on server errors, rate limits and overload.
  static Client ClientIn(string baseUrl, string scope) {
    string deployments = $@"[
      {{""name"": ""primary"", ""provider"": ""openai"", ""base_url"": ""{baseUrl}/v1"",
        ""api_key"": ""sk-demo"", ""model"": ""gpt-4o-mini"", ""group"": ""chat""}},
      {{""name"": ""backup"", ""provider"": ""anthropic"", ""base_url"": ""{baseUrl}"",
        ""api_key"": ""sk-demo"", ""model"": ""claude-3-5-haiku-latest""}}]";
    using (Options o = Opts("deployments", deployments,
                            "fallbacks", @"[{""from"": ""chat"", ""to"": [""backup""],
                                             ""on"": [""server"", ""rate_limited"", ""overloaded""]}]",
                            "scopes", scope, "retry.attempts", "2", "retry.base_ms", "20")) {
      return new Client(o);  // it keeps a copy
    }
  }

  // One call for the group "chat" with `prompt` and call options as key/value pairs.
  static void Call(Client client, string what, string prompt, bool stream, params string[] keyValues) {
    Console.WriteLine(what);
    var request = new ChatRequest { Model = "chat", Messages = { Message.User(prompt) } };
    int pieces = 0;
    try {
      Response r;
      using (Options o = Opts(keyValues)) {
        r = stream ? client.Chat(request, chunk => pieces += chunk.Kind == ChunkKind.Text ? 1 : 0, o)
                   : client.Chat(request, o);
      }
      string by = r.Cached ? "from the cache" : r.Deployment, tries = r.Attempts == 1 ? "try" : "tries";
      string line = Invariant($"  ok: {by}, {r.Attempts} {tries}, ${r.CostUsd:F6}");
      if (stream) line += $", {pieces} pieces";
      if (stream && timing) line += Invariant($", first token after {r.FirstToken.Value.TotalMilliseconds:F2} ms");
      Console.WriteLine(line);
    } catch (LlmkitException e) {
      Console.WriteLine($"  {Library.StatusString(e.Status)}: {Hintless(e.Message)}");
    }
  }

  static void Audit(string label, HookEvent e) {
    Response r = e.Response;
    string by = r.Cached ? "the cache" : r.Deployment, note = r.Cached ? " (cached)" : "";
    Console.WriteLine(Invariant($"    hook {label}: answered by {by}, ${r.CostUsd:F6}{note}"));
  }

  // A message without its retry hint, which varies from run to run.
  static string Hintless(string message) {
    int hint = message.IndexOf(": retry after", StringComparison.Ordinal);
    return hint < 0 ? message : message.Substring(0, hint);
  }

  static Options Opts(params string[] keyValues) {
    var o = new Options();
    for (int i = 0; i < keyValues.Length; i += 2) o[keyValues[i]] = keyValues[i + 1];
    return o;
  }
}
