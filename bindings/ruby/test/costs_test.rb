require "test_helper"
require "upstream"
require "tmpdir"

# Llmkit.costs over a SQLite file the sqlite3 tool fills, and a client's
# budget against test/upstream/upstream.py at a known price.
class CostsTest < Minitest::Test
  # A traces table for the sqlite3 tool to fill a test database from.
  TRACES = File.join(Upstream::FIXTURES, "costs", "traces.sql")
  # The upstream's answer (10 output tokens) at $0.1 an output token: $1 a call.
  PRICES = '{"openai": {"models": {"gpt-4.1": {"input": 0, "output": 100000}}}}'.freeze
  HELLO = { model: "m", messages: [{ role: :user, content: "Hello" }] }.freeze

  def test_costs_sums_a_traces_table_by_what_it_is_asked
    Dir.mktmpdir do |dir|
      db = File.join(dir, "traces.db")
      assert system("sqlite3", db, in: TRACES)
      costs = Llmkit.costs(db, by: "caller", since: "2025-01-01", until: "2025-01-02")
      assert_equal(%w[bob alice], costs[:rows].map { _1[:caller] })
      assert_equal [2, 1, 2.0], costs[:rows][0].values_at(:requests, :errors, :cost_usd)
      assert_equal [3, 2.5], costs[:total].values_at(:requests, :cost_usd)
      hourly = Llmkit.costs("sqlite:#{db}", by: "", per: :hour, model: "gpt-4o")
      assert_equal(["2025-01-01T00:00:00Z", "2025-01-01T02:00:00Z"], hourly[:rows].map { _1[:time] })
      error = assert_raises(Llmkit::InvalidArgumentError) { Llmkit.costs(db, per: :week) }
      assert_match(/"per"/, error.message)
      assert_raises(Llmkit::NotFoundError) { Llmkit.costs(File.join(dir, "none.db")) }
    end
  end

  def test_a_spent_budget_raises_budget_exceeded_without_calling_the_provider
    Upstream.clear_requests
    client = Llmkit::Client.new(provider: "openai", base_url: Upstream.base_url("openai"), api_key: "sk-test",
                                "retry.attempts": 1, prices: PRICES,
                                budgets: '[{"caller": "*", "usd": 1, "per": "day"}]')
    client.chat(HELLO, options: { caller: "alice" })
    error = assert_raises(Llmkit::BudgetExceededError) { client.chat(HELLO, options: { caller: "alice" }) }
    assert_match(/'alice' has spent \$1\.000000/, error.message)
    assert_equal 1, Upstream.requests.size
    assert_in_delta 1.0, client.budget_spent(:caller, "alice", per: :day)
    assert_raises(Llmkit::NotFoundError) { client.budget_spent(:application, "shop") }
  ensure
    client&.close
  end
end
