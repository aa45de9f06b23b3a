// One process of test/bindings/shared_limit_test.sh: checks one key of a
// shared-memory rate limit from C#.
using System;
using System.Threading;

static class Hammer {
  static readonly DateTime Epoch = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);
  static long NowMicros() => (DateTime.UtcNow - Epoch).Ticks / 10;

  static void Main(string[] args) {
    string name = args[0];
    long start = long.Parse(args[1]), ms = long.Parse(args[2]);
    var options = new Llmkit.Options();
    options.Set("backend", "shm");
    options.Set("shm.name", name);
    options.Set("requests", "1000");
    options.Set("window", "1");
    options.Set("burst_requests", "50");
    long admitted = 0, first, finish;
    using (var limiter = new Llmkit.RateLimiter(options)) {
      options.Dispose();
      long wait = start * 1000 - NowMicros();
      if (wait > 0) Thread.Sleep((int)(wait / 1000));
      first = NowMicros();
      finish = first + ms * 1000;
      while (NowMicros() < finish) {
        if (limiter.Check("shared").Allowed) admitted++;
      }
    }
    Console.WriteLine($"csharp {admitted} {first} {NowMicros()}");
  }
}
