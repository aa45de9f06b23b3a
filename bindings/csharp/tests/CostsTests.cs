using System;
using System.Diagnostics;
using System.IO;
using NUnit.Framework;

namespace Llmkit.Tests {

// Costs.Query over a SQLite file the sqlite3 tool fills, and a client's
// budget against test/upstream/upstream.py at a known price.
[TestFixture]
public class CostsTests {

  [Test]
  public void Query_SumsATracesTable() {
    string db = Path.Combine(Path.GetTempPath(), "llmkit-costs-" + Guid.NewGuid() + ".db");
    try {
      var psi = new ProcessStartInfo("sqlite3", db) { RedirectStandardInput = true, UseShellExecute = false };
      using (Process p = Process.Start(psi)) {
        p.StandardInput.Write(Upstream.Fixture("costs/traces.sql"));
        p.StandardInput.Close();
        p.WaitForExit();
        Assert.AreEqual(0, p.ExitCode);
      }
      CostReport report;
      using (Options q = ClientTests.Opts("by", "model", "since", "2025-01-01")) report = Costs.Query(db, q);
      Assert.AreEqual(2, report.Rows.Count);
      Assert.AreEqual("claude", report.Rows[0].Groups["model"]);
      Assert.AreEqual(2.0, report.Rows[0].CostUsd);
      Assert.AreEqual(2, report.Rows[1].Requests);
      Assert.AreEqual(1, report.Rows[1].Errors);
      Assert.AreEqual(3, report.Total.Requests);
      Assert.AreEqual(2.5, report.Total.CostUsd);
      StringAssert.StartsWith("{\"rows\":[{\"model\":\"claude\"", report.Json);
      using (Options bad = ClientTests.Opts("per", "week")) {
        var thrown = Assert.Throws<LlmkitException>(() => Costs.Query(db, bad));
        Assert.AreEqual(Status.InvalidArgument, thrown.Status);
      }
      Assert.AreEqual(Status.NotFound,
                      Assert.Throws<LlmkitException>(() => Costs.Query(db + ".none")).Status);
    } finally {
      File.Delete(db);
    }
  }

  [Test]
  public void ASpentBudget_ThrowsBudgetExceeded_WithoutCallingTheProvider() {
    using (var upstream = new Upstream())
    using (Options o = ClientTests.ClientOpts(
               "provider", "openai", "base_url", upstream.BaseUrl("openai"), "api_key", "sk-test",
               "prices", "{\"openai\": {\"models\": {\"gpt-4.1\": {\"input\": 0, \"output\": 100000}}}}",
               "budgets", "[{\"caller\": \"*\", \"usd\": 1, \"per\": \"day\"}]"))
    using (var client = new Client(o))
    using (Options call = ClientTests.Opts("caller", "alice")) {
      client.Chat(ClientTests.Hello(), call);  // $1: the upstream's 10 output tokens at $0.1
      var thrown = Assert.Throws<LlmkitException>(() => client.Chat(ClientTests.Hello(), call));
      Assert.AreEqual(Status.BudgetExceeded, thrown.Status);
      StringAssert.Contains("'alice'", thrown.Message);
      Assert.AreEqual(1, upstream.Requests().Count);
      Assert.AreEqual(1.0, client.BudgetSpent("caller", "alice", "day"), 1e-9);
      Assert.AreEqual(Status.NotFound,
                      Assert.Throws<LlmkitException>(() => client.BudgetSpent("application", "shop")).Status);
    }
  }
}

}
