require "test_helper"
require "upstream"

# A client's calls through an Llmkit::Cache and an Llmkit::RateLimiter,
# against test/upstream/upstream.py.
class ClientStagesTest < Minitest::Test
  HELLO = { model: "m", messages: [{ role: :user, content: "Hello" }] }.freeze

  def setup
    Upstream.clear_requests
    @client = Llmkit::Client.new(provider: "openai", base_url: Upstream.base_url("openai"), api_key: "sk-test",
                                 "retry.attempts": 1, "cache.scope": "tenant-a")
    @cache = Llmkit::Cache.new
    @limiter = Llmkit::RateLimiter.new(requests: 1, window: 3600)
  end

  # The client first: the cache and the limiter outlive it.
  def teardown
    @client.close
    @cache.close
    @limiter.close
  end

  def test_a_repeated_call_is_answered_by_the_cache_for_nothing
    hooks = Llmkit::Hooks.new
    seen = []
    hooks.add(:after) { |event| seen << event.cached? }
    @client.hooks = hooks
    @client.cache = @cache
    assert_same @cache, @client.cache
    first = @client.chat(HELLO)
    second = @client.chat(HELLO)
    refute_predicate first, :cached?
    assert_predicate second, :cached?
    assert_equal [0.0, 1, first.text], [second.cost_usd, second.attempts, first.text]
    assert_equal [false, true], seen
    assert_equal 1, Upstream.requests.size
    refute_predicate @client.chat(HELLO, options: { cache: "bypass" }), :cached?
    @client.cache = nil
    refute_predicate @client.chat(HELLO), :cached?
    assert_equal 3, Upstream.requests.size
  ensure
    @client.hooks = nil
    hooks&.close
  end

  def test_a_cached_answer_streams_through_the_block
    @client.cache = @cache
    text = @client.chat(HELLO).text
    pieces = +""
    response = @client.chat(HELLO) { |chunk| pieces << chunk.text }
    assert_predicate response, :cached?
    assert_equal text, pieces
  end

  def test_the_client_keeps_its_cache_from_the_collector
    @client.cache = Llmkit::Cache.new
    GC.start
    2.times { @client.chat(HELLO) }
    assert_equal 1, Upstream.requests.size
  end

  def test_the_ratelimiter_refuses_a_caller_past_its_limit
    @client.ratelimiter = @limiter
    assert_same @limiter, @client.ratelimiter
    @client.chat(HELLO, options: { caller: "team-a" })
    error = assert_raises(Llmkit::RateLimitedError) { @client.chat(HELLO, options: { caller: "team-a" }) }
    assert_includes error.message, "'team-a'"
    @client.chat(HELLO, options: { caller: "team-b" })
    assert_equal 2, Upstream.requests.size
  end

  def test_only_caches_and_limiters_are_taken
    assert_raises(TypeError) { @client.cache = "cache" }
    assert_raises(TypeError) { @client.ratelimiter = @cache }
    closed = Llmkit::Cache.new
    closed.close
    assert_raises(Llmkit::InvalidArgumentError) { @client.cache = closed }
  end
end
