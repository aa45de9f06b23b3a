# The whole call pipeline from Ruby, line for line the output of
# examples/c/pipeline.c: one hooks set in two scopes, a client routing among
# two deployments with a fallback rule, a response cache, a per-caller rate
# limit, a retry after a 429, a fallback after a 500, a stream's time to
# first token, and what each call cost. Run against test/upstream/upstream.py
# (examples/with_upstream.sh starts one).
#
# Usage: ruby pipeline.rb http://127.0.0.1:PORT [--timing]
require "json"
require "llmkit"

unless ARGV.size.between?(1, 2) && ARGV.drop(1).all?("--timing")
  warn "usage: pipeline.rb http://127.0.0.1:PORT [--timing]   (test/upstream/upstream.py)"
  exit 2
end
BASE = ARGV[0]
TIMING = ARGV.size == 2 # print the time to the first token (varies run to run)

# A message without its retry hint, which varies from run to run.
def hintless(message) = message.sub(/: retry after.*/m, "")

# A client in `scope`: two deployments on the upstream, "chat" falling back
# to "backup" on server errors, rate limits and overload. Closed after the block.
def client_in(scope, &)
  deployments = [
    { name: "primary", provider: "openai", base_url: "#{BASE}/v1", api_key: "sk-demo", model: "gpt-4o-mini",
      group: "chat" },
    { name: "backup", provider: "anthropic", base_url: BASE, api_key: "sk-demo", model: "claude-3-5-haiku-latest" }
  ]
  fallbacks = [{ from: "chat", to: ["backup"], on: %w[server rate_limited overloaded] }]
  Llmkit::Client.open({ deployments: JSON.generate(deployments), fallbacks: JSON.generate(fallbacks), scopes: scope,
                        "retry.attempts": 2, "retry.base_ms": 20 }, &)
end

# One call for the group "chat" with `prompt` and the call's `options`.
def call(client, what, prompt, stream: false, **options)
  puts what
  request = { model: "chat", messages: [{ role: :user, content: prompt }] }
  pieces = 0
  r = stream ? client.chat(request, options:) { pieces += 1 if _1.text? } : client.chat(request, options:)
  line = format("  ok: %s, %d %s, $%.6f", r.cached? ? "from the cache" : r.deployment, r.attempts,
                r.attempts == 1 ? "try" : "tries", r.cost_usd)
  line << ", #{pieces} pieces" if stream
  line << format(", first token after %.2f ms", r.first_token * 1000) if stream && TIMING
  puts line
rescue Llmkit::Error => e
  puts "  #{e.status_name}: #{hintless(e.message)}"
end

# Hooks in two scopes, and one global; each prints what it sees.
hooks = Llmkit::Hooks.new
audit = lambda do |label, event|
  r = event.response
  by, note = r.cached? ? ["the cache", " (cached)"] : [r.deployment, ""]
  printf("    hook %s: answered by %s, $%.6f%s\n", label, by, r.cost_usd, note)
end
ids = {
  "global/tag" => hooks.add(:before) { _1.set_meta("team", "search") },
  "production/audit" => hooks.add(:after, scope: "production", rule: "meta.team:search") do
    audit["production/audit", _1]
  end,
  "production/limited" => hooks.add(:error, scope: "production", rule: "status:rate_limited") do
    puts "    hook production/limited: #{hintless(_1.message)}"
  end,
  "evaluation/grade" => hooks.add(:after, scope: "evaluation", rule: "tag:graded") { audit["evaluation/grade", _1] }
}

# A cache, and two calls a minute per caller: closed after the clients.
cache = Llmkit::Cache.new
limiter = Llmkit::RateLimiter.new(requests: 2)
begin
  client_in("production") do |prod|
    client_in("evaluation") do |evaluation|
      prod.hooks = evaluation.hooks = hooks
      prod.cache = cache

      puts "== production client: deployments primary (OpenAI) and backup (Anthropic)"
      call(prod, "a call", "Say hello.")
      call(prod, "the same call again", "Say hello.")
      call(prod, "a 429 once, then a retry", "Say hello twice.",
           "header.x-upstream-fault": "status=429,retry_after_ms=50,times=1,id=demo-429")
      call(prod, "a 500 on both tries of primary, then the fallback", "Say hello thrice.",
           "header.x-upstream-fault": "status=500,times=2,id=demo-500")
      call(prod, "a stream", "Count to three.", stream: true)
      prod.ratelimiter = limiter # for the calls from now on
      call(prod, "alice, call 1 of 2 a minute", "Hi from alice.", caller: "alice", cache: "bypass")
      call(prod, "alice, call 2", "Hi from alice.", caller: "alice", cache: "bypass")
      call(prod, "alice, call 3", "Hi from alice.", caller: "alice", cache: "bypass")
      call(prod, "bob, call 1", "Hi from bob.", caller: "bob", cache: "bypass")
      puts "== evaluation client: same hooks, its own scope"
      call(evaluation, "a graded call", "Say hello.", tags: "graded")
    end
  end

  puts "== hook stats"
  ids.each do |label, id|
    stats = hooks.stats(id)
    printf("%-19s %d calls, %d errors\n", label, stats.calls, stats.errors)
  end
ensure
  hooks.close
  limiter.close
  cache.close
end
