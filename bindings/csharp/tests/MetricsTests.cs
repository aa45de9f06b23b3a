using System;
using System.IO;
using System.Json;
using System.Linq;
using NUnit.Framework;

namespace Llmkit.Tests {

// A client's metrics, stats and health, against test/upstream/upstream.py.
[TestFixture]
public class MetricsTests : UpstreamTest {
  const string Series =
      "gen_ai_operation_name=\"chat\",gen_ai_request_model=\"m\",gen_ai_provider_name=\"openai\",deployment=\"m\"";

  Client NewClient(params string[] more) => UpstreamClient("openai", "sk-cs", more);

  // The value of the sample printed as `key`; NaN when there is none.
  static double Sample(string text, string key) {
    string line = text.Split('\n').FirstOrDefault(l => l.StartsWith(key + " ", StringComparison.Ordinal));
    return line == null ? double.NaN : double.Parse(line.Substring(key.Length + 1), System.Globalization.CultureInfo.InvariantCulture);
  }

  [Test]
  public void Metrics_CountCallsByStatus() {
    using (Client client = NewClient())
    using (Options fault = ClientTests.Opts("header.x-upstream-fault", "status=429")) {
      for (int i = 0; i < 3; i++) client.Chat(ClientTests.Hello());
      var e = Assert.Throws<LlmkitException>(() => client.Chat(ClientTests.Hello(), fault));
      Assert.AreEqual(Status.RateLimited, e.Status);
      string text = client.Metrics();
      Assert.AreEqual(3, Sample(text, "llmkit_requests_total{" + Series + ",status=\"ok\"}"), text);
      Assert.AreEqual(1, Sample(text, "llmkit_requests_total{" + Series + ",status=\"RATE_LIMITED\"}"));
      Assert.AreEqual(4, Sample(text, "llmkit_gen_ai_client_operation_duration_seconds_count{" + Series + "}"));
      var stats = (JsonObject)JsonValue.Parse(client.StatsJson());
      Assert.AreEqual(4, (long)stats["calls"]["requests"]);
      Assert.AreEqual(1, (long)stats["calls"]["errors"]);
      Assert.AreEqual("ok", (string)stats["health"]["state"]);
    }
  }

  [Test]
  public void Health_IsUnhealthy_WhenEveryBreakerIsOpen() {
    using (Client client = NewClient("breaker.min_calls", "1", "breaker.open_ms", "600000"))
    using (Options fault = ClientTests.Opts("header.x-upstream-fault", "status=500")) {
      HealthReport ok = client.Health();
      Assert.AreEqual(HealthState.Healthy, ok.State);
      Assert.AreEqual(0, ok.Reasons.Count);
      Assert.Throws<LlmkitException>(() => client.Chat(ClientTests.Hello(), fault));
      HealthReport down = client.Health();
      Assert.AreEqual(HealthState.Unhealthy, down.State);
      Assert.AreEqual("the circuit breaker of 'm' is open", down.Reasons[1]);
    }
  }

  [Test]
  public void TracesMetrics_ReadTheTable() {
    string dir = Path.Combine(Path.GetTempPath(), "llmkit-metrics-" + Guid.NewGuid().ToString("N"));
    Directory.CreateDirectory(dir);
    try {
      string db = Path.Combine(dir, "traces.db");
      using (Client client = NewClient("trace", db)) {
        for (int i = 0; i < 2; i++) client.Chat(ClientTests.Hello());
        client.Flush(TimeSpan.FromSeconds(10));
      }
      Assert.AreEqual(2, Sample(Traces.Metrics(db), "llmkit_requests_total{" + Series + ",status=\"ok\"}"));
      var e = Assert.Throws<LlmkitException>(() => Traces.Metrics(Path.Combine(dir, "none.db")));
      Assert.AreEqual(Status.NotFound, e.Status);
    } finally {
      Directory.Delete(dir, true);
    }
  }
}

}
