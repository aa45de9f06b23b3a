using System;
using System.Collections.Generic;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Llmkit {

/// <summary>One group of <see cref="Costs.Query"/>: the groups it was asked
/// for, then what its calls added up to. Cached and cache-write tokens are
/// parts of <see cref="InputTokens"/>, reasoning tokens of
/// <see cref="OutputTokens"/>; <see cref="Unpriced"/> counts calls that
/// used tokens, were no cache hit and cost nothing: their model had no price
/// (or a price of 0), no cost guessed.</summary>
public sealed class CostRow {
  /// <summary>The row's groups by name ("model" => "gpt-4o"), and "time"
  /// (ISO-8601 UTC) with "per"; empty for the total.</summary>
  public IReadOnlyDictionary<string, string> Groups { get; internal set; }
  public long Requests { get; internal set; }
  public long Errors { get; internal set; }
  public long CacheHits { get; internal set; }
  public long Unpriced { get; internal set; }
  public long InputTokens { get; internal set; }
  public long OutputTokens { get; internal set; }
  public long CachedInputTokens { get; internal set; }
  public long CacheWriteTokens { get; internal set; }
  public long ReasoningTokens { get; internal set; }
  public double CostUsd { get; internal set; }
}

/// <summary>What <see cref="Costs.Query"/> found.</summary>
public sealed class CostReport {
  /// <summary>Costliest first; in time order with "per".</summary>
  public IReadOnlyList<CostRow> Rows { get; internal set; }
  /// <summary>Every call in range and filters, not only the rows "top" kept.</summary>
  public CostRow Total { get; internal set; }
  /// <summary>The library's JSON text of the whole result.</summary>
  public string Json { get; internal set; }
}

/// <summary>Cost, tokens and requests summed from the traces table
/// (docs/costs.md).</summary>
public static class Costs {
  static readonly string[] GroupNames = { "application", "model", "provider", "caller", "deployment", "time" };

  /// <summary>Sums the traces table of <paramref name="db"/> (a SQLite file's
  /// path or a postgresql:// URL) as <paramref name="query"/> (may be null)
  /// asks: "by" (application, model, provider, caller, deployment,
  /// comma-separated; default "model"), "per" (hour, day), "since" and
  /// "until" ("24h", "7d", Unix seconds, "2025-01-31T12:00:00Z"), "top",
  /// and the filters "application", "model", "caller".</summary>
  /// <exception cref="LlmkitException">InvalidArgument for a bad key or
  /// value; NotFound for a SQLite file that does not exist; Unavailable when
  /// the database cannot be reached.</exception>
  public static CostReport Query(string db, Options query = null) {
    if (db == null) throw new ArgumentNullException(nameof(db));
    CostsHandle costs;
    using (Options none = query == null ? new Options() : null) {
      Native.llmkit_costs_query(db, (query ?? none).Handle, out costs);
    }
    using (costs) {
      byte[] json;
      Native.llmkit_costs_json(costs, out json);
      int n = (int)Native.llmkit_costs_count(costs);
      var names = new List<string>();
      foreach (string name in GroupNames) {
        if (n == 0) break;
        try {
          string ignored;
          Native.llmkit_costs_get(costs, UIntPtr.Zero, name, out ignored);
          names.Add(name);
        } catch (LlmkitException e) when (e.Status == Status.NotFound) {
          // not grouped by it
        }
      }
      var rows = new CostRow[n];
      for (int i = 0; i < n; i++) rows[i] = Row(costs, (UIntPtr)i, names);
      // C's LLMKIT_COSTS_TOTAL: the row index (size_t)-1.
      CostRow total = Row(costs, UIntPtr.Size == 8 ? (UIntPtr)ulong.MaxValue : (UIntPtr)uint.MaxValue,
                          new List<string>());
      return new CostReport { Rows = rows, Total = total, Json = Encoding.UTF8.GetString(json) };
    }
  }

  static CostRow Row(CostsHandle costs, UIntPtr row, List<string> names) {
    var groups = new Dictionary<string, string>();
    foreach (string name in names) {
      string value;
      Native.llmkit_costs_get(costs, row, name, out value);
      groups[name] = value;
    }
    Func<string, double> number = field => {
      double v;
      Native.llmkit_costs_number(costs, row, field, out v);
      return v;
    };
    return new CostRow {
      Groups = groups,
      Requests = (long)number("requests"),
      Errors = (long)number("errors"),
      CacheHits = (long)number("cache_hits"),
      Unpriced = (long)number("unpriced"),
      InputTokens = (long)number("input_tokens"),
      OutputTokens = (long)number("output_tokens"),
      CachedInputTokens = (long)number("cached_input_tokens"),
      CacheWriteTokens = (long)number("cache_write_tokens"),
      ReasoningTokens = (long)number("reasoning_tokens"),
      CostUsd = number("cost_usd"),
    };
  }
}

internal sealed class CostsHandle : SafeHandleZeroOrMinusOneIsInvalid {
  public CostsHandle() : base(true) {}

  protected override bool ReleaseHandle() {
    NativePINVOKE.csharp_llmkit_costs_free(handle);
    return true;
  }
}

}
