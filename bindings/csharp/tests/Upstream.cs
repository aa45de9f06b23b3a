using System;
using System.Diagnostics;
using System.IO;
using System.Json;
using System.Net;
using System.Threading.Tasks;

namespace Llmkit.Tests {

// test/upstream/upstream.py, the fake provider, as a child process on a free
// loopback port. Failing to start it is an error, never a skip.
sealed class Upstream : IDisposable {
  readonly Process process;

  public int Port { get; }

  public Upstream() {
    string script = Path.Combine(RepoRoot, "test", "upstream", "upstream.py");
    var start = new ProcessStartInfo("python3", "\"" + script + "\"") {
      UseShellExecute = false,
      RedirectStandardOutput = true,
      RedirectStandardError = false,  // its complaints go to the test log as they come
    };
    process = Process.Start(start);
    try {
      Task<string> line = process.StandardOutput.ReadLineAsync();
      if (!line.Wait(TimeSpan.FromSeconds(20))) throw new Exception("upstream.py printed no port within 20 s");
      if (line.Result == null || !line.Result.StartsWith("port ", StringComparison.Ordinal)) {
        throw new Exception($"upstream.py printed '{line.Result}', not 'port N' (exit: {Exited()})");
      }
      Port = int.Parse(line.Result.Substring(5));
    } catch {
      Dispose();
      throw;
    }
  }

  string Exited() => process.HasExited ? process.ExitCode.ToString() : "still running";

  public string Url(string path = "") => $"http://127.0.0.1:{Port}{path}";

  // Where each provider's client points: the route prefixes of upstream.py.
  public string BaseUrl(string provider) {
    switch (provider) {
      case "openai":
      case "openai-compatible":
        return Url("/v1");
      case "gemini":
        return Url("/v1beta");
      default:
        return Url();
    }
  }

  // The POSTs upstream.py received, in order: {method, path, query, headers, body}.
  public JsonArray Requests() {
    using (var web = Web()) return (JsonArray)JsonValue.Parse(web.DownloadString(Url("/_upstream/requests")));
  }

  // The JSON body of the only request logged since the last ClearRequests.
  public JsonObject OnlyRequestBody() {
    JsonArray log = Requests();
    if (log.Count != 1) throw new Exception($"{log.Count} requests logged, not 1");
    return (JsonObject)JsonValue.Parse((string)log[0]["body"]);
  }

  public void ClearRequests() {
    using (var web = Web()) web.UploadString(Url("/_upstream/requests"), "DELETE", "");
  }

  static WebClient Web() => new WebClient { Proxy = null };

  // The repository: the test assembly lies in bindings/csharp/build/.
  public static readonly string RepoRoot = FindRoot();

  static string FindRoot() {
    for (var dir = new DirectoryInfo(AppDomain.CurrentDomain.BaseDirectory); dir != null; dir = dir.Parent) {
      if (File.Exists(Path.Combine(dir.FullName, "test", "upstream", "upstream.py"))) return dir.FullName;
    }
    throw new Exception("no test/upstream/upstream.py above " + AppDomain.CurrentDomain.BaseDirectory);
  }

  // A client's "prices" for the openai fixture's model, gpt-4.1-2025-04-14
  // (that is gpt-4.1): $1 per million input tokens, $2 per million output
  // tokens. Its 19 and 10 tokens cost Cost dollars.
  public const string Prices = "{\"openai\": {\"models\": {\"gpt-4.1\": {\"input\": 1, \"output\": 2}}}}";
  public const double Cost = 39e-6;

  public static string Fixture(string name) => File.ReadAllText(Path.Combine(RepoRoot, "test", "fixtures", name));

  // A fixture's normalised answer (<provider>/<name>.expected.json).
  public static JsonObject Expected(string fixture) =>
      (JsonObject)JsonValue.Parse(Fixture(fixture + ".expected.json"));

  public void Dispose() {
    try {
      if (!process.HasExited) {
        process.Kill();
        process.WaitForExit(5000);
      }
    } catch (InvalidOperationException) {
      // it exited meanwhile
    }
    process.Dispose();
  }
}

}
