using System;
using System.IO;
using System.Json;
using NUnit.Framework;

namespace Llmkit.Tests {

// Trace records of a client's calls into a JSON Lines file, against
// test/upstream/upstream.py.
[TestFixture]
public class TraceTests : UpstreamTest {
  const string Key = "sk-csharp-trace-never-stored";
  string dir;

  [SetUp]
  public void Begin() {
    dir = Path.Combine(Path.GetTempPath(), "llmkit-trace-" + Guid.NewGuid().ToString("N"));
    Directory.CreateDirectory(dir);
  }

  [TearDown]
  public void End() {
    Directory.Delete(dir, true);
  }

  Client NewClient(params string[] more) => UpstreamClient("openai", Key, more);

  [Test]
  public void EveryCall_IsOneRecord_OnceFlushed() {
    string path = Path.Combine(dir, "traces.jsonl");
    using (Client client = NewClient("trace", "jsonl:" + path, "application", "csharp-test"))
    using (Options call = ClientTests.Opts("caller", "team-cs")) {
      for (int i = 0; i < 3; i++) client.Chat(ClientTests.Hello(), call);
      client.Flush(TimeSpan.FromSeconds(10));
      TraceStats s = client.TraceStats();
      Assert.AreEqual(new[] { 3L, 0L, 0L }, new[] { s.Written, s.Dropped, s.Queued });
    }
    string text = File.ReadAllText(path);
    StringAssert.DoesNotContain(Key, text);
    string[] lines = text.Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries);
    Assert.AreEqual(3, lines.Length);
    var first = (JsonObject)JsonValue.Parse(lines[0]);
    Assert.AreEqual("m", (string)first["gen_ai.request.model"]);
    Assert.AreEqual("csharp-test", (string)first["llmkit.application"]);
    Assert.AreEqual("team-cs", (string)first["llmkit.caller"]);
    Assert.AreEqual("ok", (string)first["llmkit.status"]);
    Assert.Greater((long)first["gen_ai.usage.output_tokens"], 0);
  }

  [Test]
  public void Flush_WithoutTrace_ReturnsAtOnce_AndAfterDispose_Throws() {
    Client client = NewClient();
    client.Flush(TimeSpan.Zero);
    Assert.AreEqual(0L, client.TraceStats().Written);
    client.Dispose();
    Assert.Throws<ObjectDisposedException>(() => client.Flush(TimeSpan.Zero));
  }
}

}
