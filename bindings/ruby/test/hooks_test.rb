require "test_helper"
require "upstream"
require "rbconfig"

# Llmkit::Hooks around calls to test/upstream/upstream.py: before hooks that
# change, answer or reject a call, after and error hooks, failures counted,
# scopes, tags and predicates, async hooks on their own thread, interrupts,
# and the set's life after #close.
class HooksTest < Minitest::Test
  HELLO = { model: "m", messages: [{ role: :user, content: "Hello" }] }.freeze

  def setup
    Upstream.clear_requests
    @hooks = Llmkit::Hooks.new
    @clients = []
  end

  def teardown
    @clients.each(&:close)
    @hooks.close
  end

  # An openai client on the upstream that tries each call once (a fault is
  # the answer); `options` (Symbol keys) add to it or override that.
  def client(**options)
    Llmkit::Client.new(provider: "openai", base_url: Upstream.base_url("openai"), api_key: "sk-test",
                       "retry.attempts": 1, **options).tap { @clients << _1 }
  end

  def hooked(**options) = client(**options).tap { _1.hooks = @hooks }

  def test_a_before_hook_changes_the_model_and_an_after_hook_reads_the_answer
    seen = []
    @hooks.add(:before, rule: "model:m and tag:prod") do |event|
      seen << [event.kind, event.provider, event.model, event.tags, event.meta("team"), event.meta("none")]
      assert_includes event.request, '"model":"m"'
      event.set(:model, "gpt-routed").set_meta("routed", "yes")
    end
    answer = nil
    @hooks.add(:after, rule: "meta.routed:yes") do |event|
      answer = event.response
      seen << [event.kind, event.model, event.status, event.message]
      assert_operator event.elapsed, :>, 0
      assert_raises(Llmkit::InvalidArgumentError) { event.set("model", "x") }
    end
    response = hooked.chat(HELLO, options: { tags: "prod,beta", "meta.team": "search" })
    assert_equal [[:before, "openai", "m", %w[prod beta], "search", nil],
                  [:after, "gpt-routed", Llmkit::Status::OK, ""]], seen
    assert_equal response.text, answer.text
    assert_predicate answer, :frozen?
    assert_equal "gpt-routed", JSON.parse(Upstream.requests.last["body"])["model"]
  end

  def test_an_error_hook_sees_the_rate_limit
    seen = nil
    @hooks.add(:error, rule: "status:rate_limited") do |event|
      seen = [event.status, event.response.retry_after, event.message]
    end
    client = hooked
    assert_raises(Llmkit::RateLimitedError) do
      client.chat(HELLO, options: { "header.x-upstream-fault": "status=429,retry_after=7" })
    end
    assert_equal Llmkit::Status::RATE_LIMITED, seen[0]
    assert_equal 7.0, seen[1]
    assert_includes seen[2], "injected status"
  end

  def test_a_failing_hook_is_counted_with_its_message_and_the_call_succeeds
    failing = @hooks.add(:after) { raise "the audit database is down" }
    typed = @hooks.add(:after) { raise Llmkit::UnavailableError, "no room" }
    fine = @hooks.add(:finally) { nil }
    client = hooked
    2.times { refute_empty client.chat(HELLO).text }
    stats = @hooks.stats(failing)
    assert_equal [2, 2, "the audit database is down"], [stats.calls, stats.errors, stats.last_error]
    assert_equal "no room", @hooks.stats(typed).last_error
    stats = @hooks.stats(fine)
    assert_equal [2, 0, ""], [stats.calls, stats.errors, stats.last_error]
    assert_operator stats.max_us, :<=, stats.total_us
    assert_predicate stats, :frozen?
    assert_raises(Llmkit::NotFoundError) { @hooks.stats(12_345) }
  end

  def test_a_before_hook_answers_or_rejects_and_no_request_is_sent
    @hooks.add(:before, rule: "tag:canned") { _1.answer("from the hook") }
    @hooks.add(:before, rule: "tag:blocked") { _1.reject(:budget_exceeded, "the team's budget is spent") }
    @hooks.add(:before, rule: "tag:numbered") { _1.reject(Llmkit::Status::AUTH, "no") }
    rejected = []
    @hooks.add(:error) { rejected << [_1.status, _1.message] }
    client = hooked
    assert_equal "from the hook", client.chat(HELLO, options: { tags: "canned" }).text
    error = assert_raises(Llmkit::BudgetExceededError) { client.chat(HELLO, options: { tags: "blocked" }) }
    assert_equal "the team's budget is spent", error.message
    assert_raises(Llmkit::AuthError) { client.chat(HELLO, options: { tags: "numbered" }) }
    assert_equal [[Llmkit::Status::BUDGET_EXCEEDED, "the team's budget is spent"], [Llmkit::Status::AUTH, "no"]],
                 rejected
    assert_empty Upstream.requests
  end

  def test_hooks_see_the_cost
    costs = []
    kept = nil
    record = lambda do |event|
      costs << event.cost_usd
      kept = event
    end
    @hooks.add(:before, &record) # no answer yet
    @hooks.add(:before, rule: "tag:canned") { _1.answer("from the hook") }
    @hooks.add(:finally, &record)
    client = hooked(prices: Upstream::PRICES)
    client.chat(HELLO)
    response = client.chat(HELLO, options: { tags: "canned" })
    assert_equal 4, costs.size
    assert_equal [nil, nil, 0.0], costs.values_at(0, 2, 3), "no answer before; the canned one cost nothing"
    assert_in_delta Upstream::COST, costs[1], 1e-12
    assert_equal 0.0, response.cost_usd
    assert_raises(Llmkit::InvalidArgumentError) { kept.cost_usd }
  end

  def test_scopes_tags_and_predicates_choose_the_hooks
    runs = Hash.new(0)
    @hooks.add_predicate(:long_prompt) { _1.request.size > 400 }
    @hooks.add_predicate("broken") { raise "no" }
    @hooks.add(:finally, scope: :evaluation) { runs[:scoped] += 1 }
    tagged = @hooks.add(:finally, rule: "anytag:billing,audit and not tag:test") { runs[:tagged] += 1 }
    @hooks.add(:finally, rule: "pred:long_prompt") { runs[:long] += 1 }
    broken = @hooks.add(:finally, rule: "pred:broken") { runs[:broken] += 1 }
    plain = hooked
    evaluation = hooked(scopes: "evaluation,production")
    plain.chat(HELLO)
    evaluation.chat(HELLO, options: { tags: "billing" })
    plain.chat(HELLO, options: { tags: "billing,test" })
    plain.chat({ model: "m", messages: [{ role: :user, content: "x" * 500 }] }, options: { tags: "audit" })
    assert_equal({ scoped: 1, tagged: 2, long: 1 }, runs)
    assert_equal [2, 2], @hooks.stats(tagged).to_a.values_at(0, 1)
    assert_equal [0, 4], [@hooks.stats(broken).calls, @hooks.stats(broken).rule_failures]
    assert_raises(Llmkit::InvalidArgumentError) { @hooks.add_predicate(:long_prompt) { true } }
  end

  def test_an_async_hook_runs_on_its_own_thread_until_flush
    hooks = Llmkit::Hooks.new(queue_size: 100)
    seen = Thread::Queue.new
    id = hooks.add(:after, async: true) do |event|
      changed = begin
        event.set_meta("k", "v")
      rescue Llmkit::InvalidArgumentError
        :refused
      end
      seen << [event.response.text, Thread.current.name, changed]
    end
    client = client()
    client.hooks = hooks
    texts = Array.new(3) { client.chat(HELLO).text }
    hooks.flush
    runs = Array.new(seen.size) { seen.pop }
    assert_equal texts.map { [_1, "llmkit hooks", :refused] }, runs
    assert_equal [3, 0], [hooks.stats(id).calls, hooks.stats(id).dropped]
  ensure
    client&.close
    hooks&.close
  end

  def test_an_interrupt_in_a_hook_ends_the_call
    thrower = @hooks.add(:before) { throw :stop, :thrown }
    client = hooked
    assert_equal :thrown, catch(:stop) { client.chat(HELLO) }
    assert_empty Upstream.requests, "the call ended before its request"
    assert_equal "the hook was interrupted: the call ends", @hooks.stats(thrower).last_error
    @hooks.remove(thrower)
    refute_empty client.chat(HELLO).text
  end

  def test_bad_arguments_raise
    error = assert_raises(Llmkit::InvalidArgumentError) { @hooks.add(:before, rule: "model:gpt-4o and") { nil } }
    assert_includes error.message, "column"
    assert_raises(ArgumentError) { @hooks.add(:around) { nil } }
    assert_raises(ArgumentError) { @hooks.add(:after) }
    assert_raises(Llmkit::InvalidArgumentError) { @hooks.add(:after, scope: "two words") { nil } }
    assert_raises(Llmkit::InvalidArgumentError) { @hooks.add(:after, rule: "pred:nope") { nil } }
    assert_raises(Llmkit::NotFoundError) { @hooks.remove(12_345) }
    assert_raises(Llmkit::InvalidArgumentError) { Llmkit::Hooks.new(queue_full: "spill") }
    assert_raises(TypeError) { Llmkit::Hooks.new(42) }
    assert_raises(TypeError) { client.hooks = 42 }
    assert_raises(Llmkit::InvalidArgumentError) { client(scopes: "a b") }
    refused = nil
    @hooks.add(:before) do |event|
      event.reject(:no_such_status)
    rescue ArgumentError => e
      refused = e
    end
    hooked.chat(HELLO)
    assert_match(/no status named/, refused.message)
  end

  def test_hooks_outlive_close_while_a_client_is_attached
    runs = 0
    kept = nil
    removed = @hooks.add(:after) { raise "removed" }
    first = hooked
    second = hooked
    @hooks.remove(removed)
    @hooks.add(:after) do |event|
      runs += 1
      kept = event
    end
    callables = Llmkit::Hooks.const_get(:CALLABLES)
    held = callables.size
    @hooks.close
    @hooks.close # harmless
    assert_predicate @hooks, :closed?
    assert_raises(Llmkit::InvalidArgumentError) { @hooks.add(:after) { nil } }
    assert_raises(Llmkit::InvalidArgumentError) { @hooks.flush }
    assert_raises(Llmkit::InvalidArgumentError) { client.hooks = @hooks }
    first.chat(HELLO)
    assert_equal 1, runs, "the clients keep the hooks"
    assert_equal :after, kept.kind
    assert_raises(Llmkit::InvalidArgumentError) { kept.model }
    first.hooks = nil
    assert_nil first.hooks
    first.chat(HELLO)
    second.chat(HELLO)
    assert_equal [2, held], [runs, callables.size]
    assert_same @hooks, second.hooks
    second.close
    assert_equal held - 2, callables.size, "let go with the last client"
  end

  def test_a_process_that_exits_without_closing_runs_what_is_queued
    script = <<~RUBY
      require "llmkit"
      hooks = Llmkit::Hooks.new
      hooks.add(:after, async: true) { sleep 0.2; $stdout.puts "audited \#{_1.response.text.size > 0}" }
      client = Llmkit::Client.new(provider: "openai", base_url: ARGV[0], api_key: "k")
      client.hooks = hooks
      client.chat(model: "m", messages: [{ role: :user, content: "Hi" }])
    RUBY
    lib = File.expand_path("../lib", __dir__)
    build = File.expand_path("../build", __dir__)
    output = IO.popen([RbConfig.ruby, "-I#{lib}", "-I#{build}", "-e", script, Upstream.base_url("openai")],
                      err: %i[child out], &:read)
    assert_equal ["audited true\n", true], [output, $?.success?]
  end
end
