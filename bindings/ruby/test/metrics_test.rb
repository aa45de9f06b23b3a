require "test_helper"
require "upstream"
require "tmpdir"

# A client's metrics, stats and health, against test/upstream/upstream.py.
class MetricsTest < Minitest::Test
  HELLO = { model: "m", messages: [{ role: :user, content: "Hello" }] }.freeze
  SERIES = 'gen_ai_operation_name="chat",gen_ai_request_model="m",gen_ai_provider_name="openai",deployment="m"'.freeze

  def client(**options)
    Llmkit::Client.new(provider: "openai", base_url: Upstream.base_url("openai"), api_key: "sk-rb",
                       "retry.attempts": 1, **options)
  end

  def fault(spec) = { "header.x-upstream-fault": spec }

  # The value of the sample printed as `key`, or nil.
  def sample(text, key)
    line = text.lines.find { _1.start_with?("#{key} ") }
    line && Float(line.split.last)
  end

  def test_metrics_count_calls_by_status
    c = client
    3.times { c.chat(HELLO) }
    assert_raises(Llmkit::RateLimitedError) { c.chat(HELLO, options: fault("status=429")) }
    text = c.metrics
    assert_equal 3, sample(text, %(llmkit_requests_total{#{SERIES},status="ok"}))
    assert_equal 1, sample(text, %(llmkit_requests_total{#{SERIES},status="RATE_LIMITED"}))
    assert_equal 4, sample(text, "llmkit_gen_ai_client_operation_duration_seconds_count{#{SERIES}}")
    stats = c.stats
    assert_equal [4, 1], stats[:calls].values_at(:requests, :errors)
    assert_equal({ ok: 3, RATE_LIMITED: 1 }, stats[:series][0][:requests])
    assert_equal "ok", stats[:health][:state]
    c.close
    assert_raises(Llmkit::InvalidArgumentError) { c.metrics }
  end

  def test_an_open_breaker_makes_the_client_unhealthy
    c = client("breaker.min_calls": 1, "breaker.open_ms": 600_000)
    assert_equal [:ok, []], c.health.to_a
    assert_raises(Llmkit::ProviderErrorError) { c.chat(HELLO, options: fault("status=500")) }
    health = c.health
    assert_equal :unhealthy, health.state
    assert_equal "the circuit breaker of 'm' is open", health.reasons[1]
    assert_predicate health, :frozen?
    c.close
  end

  def test_a_slow_hook_is_recommended_against
    c = client
    hooks = Llmkit::Hooks.new
    hooks.add(:after) { sleep 0.015 }
    c.hooks = hooks
    2.times { c.chat(HELLO) }
    codes = c.stats[:recommendations].map { _1[:code] }
    assert_includes codes, "slow_hook"
    c.close
    hooks.close
  end

  def test_traces_metrics_read_the_table
    Dir.mktmpdir do |dir|
      db = File.join(dir, "traces.db")
      c = client(trace: db)
      2.times { c.chat(HELLO) }
      c.flush(10)
      assert_equal 2, sample(Llmkit.traces_metrics(db), %(llmkit_requests_total{#{SERIES},status="ok"}))
      assert_raises(Llmkit::NotFoundError) { Llmkit.traces_metrics(File.join(dir, "none.db")) }
      c.close
    end
  end
end
