require "test_helper"
require "rbconfig"

# Behaviour of Llmkit::Cache (in-memory backend) and Llmkit.replay. Waits
# that must end are ended by the test (a gate the leader's block waits on).
class CacheTest < Minitest::Test
  Stop = Class.new(StandardError)
  Boom = Class.new(StandardError)

  REQUEST = {
    model: "gpt-4o-mini",
    messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hello?" }],
    temperature: 0,
    max_tokens: 100
  }.freeze

  def setup
    @caches = []
  end

  def teardown
    @caches.each(&:close)
  end

  def cache(**options)
    Llmkit::Cache.new(options).tap { @caches << _1 }
  end

  def key_of(c, request = REQUEST, **options) = c.key(request, provider: "openai", **options)[0]

  def monotonic = Process.clock_gettime(Process::CLOCK_MONOTONIC)

  def elapsed
    start = monotonic
    yield
    monotonic - start
  end

  # A thread waiting in C (a lookup, or Queue#pop in a block) is out of the
  # GVL or parked, which Ruby shows as "sleep".
  def wait_until_blocked(thread)
    Thread.pass until thread.status == "sleep" || !thread.alive?
    assert_equal "sleep", thread.status, "the thread should be waiting"
  end

  def quiet_thread(&block)
    Thread.new do
      Thread.current.report_on_exception = false
      block.call
    end
  end

  # A leader holding `key` in its fetch block until the test pushes to the
  # returned gate; its block returns what was pushed (or raises it).
  def leading(c, key)
    gate = Queue.new
    started = Queue.new
    leader = quiet_thread do
      c.fetch(key) do
        started << true
        answer = gate.pop
        raise answer if answer.is_a?(Exception)
        answer
      end
    end
    started.pop # it leads: its block runs
    wait_until_blocked(leader)
    [leader, gate]
  end

  # Waits until `count` lookups have begun to wait on another's fill.
  def wait_for_waits(c, count)
    deadline = monotonic + 10
    Thread.pass until c.stat(:waits) >= count || monotonic > deadline
    assert_equal count, c.stat(:waits)
  end

  # ---- keys ----------------------------------------------------------------

  def test_key_ignores_json_key_order_and_number_spelling
    c = cache
    key, use = c.key(REQUEST, provider: "openai")
    assert_match(/\A\h{32}\z/, key)
    assert_equal key.downcase, key
    assert_equal :use, use
    respelled = '{"max_tokens":100.0,"temperature":0e0,' \
                '"messages":[{"content":"Be brief.","role":"system"},{"content":"Hello?","role":"user"}],' \
                '"model":"gpt-4o-mini"}'
    assert_equal [key, :use], c.key(respelled, provider: "openai")
    assert_equal key, key_of(c, JSON.generate(REQUEST))
    assert_equal key, key_of(c, REQUEST.merge(max_tokens: 1e2))
    assert_equal key, c.key(REQUEST, provider: "openai", scope: "")[0] # "" is no scope
  end

  def test_key_changes_with_scope_provider_and_content
    c = cache
    keys = [
      key_of(c),
      key_of(c, scope: "tenant-a"),
      key_of(c, scope: "tenant-b"),
      c.key(REQUEST, provider: "anthropic")[0],
      key_of(c, REQUEST.merge(max_tokens: 101)),
      key_of(c, REQUEST.merge(messages: [{ role: "user", content: "Hello!" }]))
    ]
    assert_equal keys.size, keys.uniq.size
    assert_equal keys[1], key_of(c, scope: "tenant-a")
  end

  def test_keys_are_the_same_in_another_cache
    assert_equal key_of(cache), key_of(cache(ttl: 5, shards: 2))
  end

  def test_the_cache_option_chooses_the_use_and_keeps_the_key
    c = cache
    key = key_of(c)
    assert_equal [key, :bypass], c.key(REQUEST, provider: "openai", cache: "bypass")
    assert_equal [key, :bypass], c.key(REQUEST, provider: "openai", cache: :bypass)
    assert_equal [key, :refresh], c.key(REQUEST, provider: "openai", cache: :refresh)
    assert_equal [key, :use], c.key(REQUEST, provider: "openai", cache: "use")
  end

  def test_temperature_skip_bypasses_sampled_requests
    sampled = REQUEST.merge(temperature: 0.7)
    skipping = cache(temperature: "skip")
    assert_equal :bypass, skipping.key(sampled, provider: "openai")[1]
    assert_equal :bypass, skipping.key(REQUEST.except(:temperature), provider: "openai")[1] # default 1
    assert_equal :use, skipping.key(REQUEST, provider: "openai")[1]
    assert_equal :refresh, skipping.key(REQUEST, provider: "openai", cache: :refresh)[1]
    # The default policy caches them.
    assert_equal :use, cache.key(sampled, provider: "openai")[1]
    assert_equal :use, cache(temperature: :cache).key(sampled, provider: "openai")[1]
  end

  def test_bad_requests_and_arguments_to_key
    c = cache
    {
      "{" => "request is not valid JSON",
      "[1, 2]" => "not a JSON object",
      "{\"a\":\"\xFF\"}" => "not valid UTF-8"
    }.each do |request, message|
      error = assert_raises(Llmkit::InvalidArgumentError, request) { c.key(request, provider: "openai") }
      assert_includes error.message, message
      assert_equal Llmkit::Status::INVALID_ARGUMENT, error.status
    end
    error = assert_raises(Llmkit::InvalidArgumentError) { c.key(REQUEST, provider: "openai", cache: "sometimes") }
    assert_includes error.message, "option 'cache' must be use, bypass or refresh"
    assert_raises(TypeError) { c.key(REQUEST, provider: nil) }
    assert_raises(TypeError) { c.key(REQUEST, provider: "openai", scope: 42) }
    assert_raises(ArgumentError) { c.key(REQUEST, provider: "openai", scope: "a\0b") }
    assert_raises(ArgumentError) { c.key(REQUEST) } # provider: is required
  end

  # ---- get, put, invalidate, clear --------------------------------------------

  def test_miss_then_put_then_hit_with_the_same_bytes
    c = cache
    key = key_of(c)
    assert_nil c.get(key)
    answer = '{"id":"chatcmpl-1","object":"chat.completion","choices":[{"message":{"content":"Hi — ¡hola!"}}]}'
    assert_same c, c.put(key, answer)
    got = c.get(key)
    assert_equal answer, got
    assert_equal Encoding::UTF_8, got.encoding
    refute_same answer, got
    assert_equal({ hits: 1, misses: 1, entries: 1 }, c.stats.slice(:hits, :misses, :entries))
  end

  def test_values_are_any_bytes
    c = cache
    key = key_of(c)
    binary = "\x00\xFF\xFEnot utf-8\x00".b
    c.put(key, binary)
    got = c.get(key)
    assert_equal binary, got.b
    assert_equal Encoding::UTF_8, got.encoding # tagged UTF-8, as documented
    refute_predicate got, :valid_encoding?
    c.put(key, "")
    assert_equal "", c.get(key)
  end

  def test_put_replaces
    c = cache
    key = key_of(c)
    c.put(key, "one").put(key, "two")
    assert_equal "two", c.get(key)
    assert_equal 1, c.stat(:entries)
  end

  def test_ttl_expiry
    c = cache
    short = key_of(c)
    long = key_of(c, scope: "long")
    c.put(short, "soon gone", ttl: 0.3)
    c.put(long, "stays", ttl: 3600)
    assert_equal "soon gone", c.get(short)
    deadline = monotonic + 10
    sleep 0.02 until c.get(short).nil? || monotonic > deadline
    assert_nil c.get(short), "the entry should have expired"
    assert_operator c.stat(:expirations), :>=, 1
    assert_equal "stays", c.get(long)
  end

  def test_the_ttl_option_is_the_default
    c = cache(ttl: 1)
    key = key_of(c)
    started = monotonic
    c.put(key, "v")
    assert_equal "v", c.get(key)
    deadline = monotonic + 10
    sleep 0.05 until c.get(key).nil? || monotonic > deadline
    assert_nil c.get(key)
    assert_operator monotonic - started, :>=, 0.9
  end

  def test_bad_ttls
    c = cache
    key = key_of(c)
    [0, -1, 0.0, Float::NAN, Float::INFINITY, "5", 1i].each do |ttl|
      assert_raises(ArgumentError, ttl.inspect) { c.put(key, "v", ttl: ttl) }
    end
    assert_nil c.get(key)
    c.put(key, "v", ttl: 0.0001) # rounded up to a millisecond, not 0 (the default)
    c.put(key, "v", ttl: Rational(1, 2))
  end

  def test_invalidate_and_clear
    c = cache
    a = key_of(c, scope: "a")
    b = key_of(c, scope: "b")
    c.put(a, "A").put(b, "B")
    assert_same c, c.invalidate(a)
    assert_nil c.get(a)
    assert_equal "B", c.get(b)
    c.invalidate(a) # nothing there: no error
    c.put(a, "A")
    assert_same c, c.clear
    assert_nil c.get(a)
    assert_nil c.get(b)
    assert_equal({ entries: 0, bytes: 0 }, c.stats.slice(:entries, :bytes))
  end

  def test_stats_count_hits_and_misses
    c = cache
    a = key_of(c, scope: "a")
    b = key_of(c, scope: "b")
    3.times { c.get(a) }
    c.put(a, "x")
    2.times { c.get(a) }
    c.get(b)
    assert_equal 2, c.stat(:hits)
    assert_equal 4, c.stat("misses")
    stats = c.stats
    assert_equal Llmkit::Cache::STATS, stats.keys
    assert(stats.values.all?(Integer))
    assert_equal({ hits: 2, misses: 4, entries: 1, waits: 0, backend_errors: 0 },
                 stats.slice(:hits, :misses, :entries, :waits, :backend_errors))
    assert_operator stats[:bytes], :>, 0
    error = assert_raises(Llmkit::NotFoundError) { c.stat(:nope) }
    assert_includes error.message, "no cache statistic 'nope'"
  end

  def test_bad_keys
    c = cache
    ["", "abc", "g" * 32, "0" * 31, "0" * 33].each do |key|
      assert_raises(Llmkit::InvalidArgumentError, key) { c.get(key) }
      assert_raises(Llmkit::InvalidArgumentError, key) { c.put(key, "v") }
      assert_raises(Llmkit::InvalidArgumentError, key) { c.invalidate(key) }
      assert_raises(Llmkit::InvalidArgumentError, key) { c.fetch(key) { flunk "must not run" } }
    end
    assert_raises(ArgumentError) { c.get("0" * 16 + "\0" + "0" * 15) }
    assert_raises(TypeError) { c.get(nil) }
    assert_raises(TypeError) { c.put(key_of(c), nil) }
    assert_raises(TypeError) { c.put(key_of(c), { a: 1 }) }
  end

  # ---- fetch --------------------------------------------------------------------

  def test_fetch_runs_the_block_on_a_miss_only
    c = cache
    key = key_of(c)
    calls = 0
    assert_equal "answer", c.fetch(key) { calls += 1; "answer" }
    assert_equal "answer", c.fetch(key) { calls += 1; "other" }
    assert_equal 1, calls
    assert_equal "answer", c.get(key)
    assert_equal({ hits: 2, misses: 1 }, c.stats.slice(:hits, :misses))
  end

  def test_fetch_stores_with_its_ttl
    c = cache
    key = key_of(c)
    c.fetch(key, ttl: 0.2) { "brief" }
    deadline = monotonic + 10
    sleep 0.02 until c.get(key).nil? || monotonic > deadline
    assert_nil c.get(key)
  end

  def test_fetch_from_several_threads_runs_the_block_exactly_once
    c = cache
    key = key_of(c)
    calls = 0
    leader, gate = leading(c, key)
    waiters = 6.times.map { Thread.new { c.fetch(key) { calls += 1; "waiter's" } } }
    # They wait in C, without the GVL: this thread runs meanwhile.
    wait_for_waits(c, 6)
    waiters.each { wait_until_blocked(_1) }
    gate << "leader's"
    assert_equal ["leader's"] * 7, [leader, *waiters].map(&:value)
    assert_equal 0, calls
  end

  def test_fetch_racing_threads_run_the_block_once
    c = cache
    key = key_of(c)
    calls = 0
    lock = Mutex.new
    start = Queue.new
    threads = 8.times.map do
      Thread.new do
        start.pop
        c.fetch(key) do
          lock.synchronize { calls += 1 }
          sleep 0.2
          "once"
        end
      end
    end
    8.times { start << :go }
    assert_equal ["once"] * 8, threads.map(&:value)
    assert_equal 1, calls
  end

  def test_a_raising_block_propagates_and_a_later_fetch_leads
    c = cache
    key = key_of(c)
    error = assert_raises(Boom) { c.fetch(key) { raise Boom, "upstream failed" } }
    assert_equal "upstream failed", error.message
    assert_nil c.get(key)
    # Abandoned: the next caller leads at once instead of waiting for it.
    took = elapsed { assert_equal "second", c.fetch(key, wait: 5) { "second" } }
    assert_operator took, :<, 2
    assert_equal "second", c.get(key)
  end

  def test_a_waiter_takes_over_when_the_leader_raises
    c = cache
    key = key_of(c)
    leader, gate = leading(c, key)
    waiter = Thread.new { c.fetch(key, wait: 30) { "waiter's" } }
    wait_until_blocked(waiter)
    took = elapsed do
      gate << Boom.new("no answer")
      assert_raises(Boom) { leader.join }
      assert_equal "waiter's", waiter.value
    end
    assert_operator took, :<, 2
    assert_equal "waiter's", c.get(key)
  end

  def test_a_waiter_takes_over_when_the_leader_is_killed
    c = cache
    key = key_of(c)
    leader, = leading(c, key)
    waiter = Thread.new { c.fetch(key, wait: 30) { "waiter's" } }
    wait_until_blocked(waiter)
    took = elapsed do
      leader.kill.join
      assert_equal "waiter's", waiter.value
    end
    assert_operator took, :<, 2
  end

  def test_a_block_returning_no_string_raises_and_abandons
    c = cache
    key = key_of(c)
    error = assert_raises(TypeError) { c.fetch(key) { 42 } }
    assert_includes error.message, "must return a String"
    took = elapsed { assert_equal "ok", c.fetch(key) { "ok" } }
    assert_operator took, :<, 2
  end

  def test_when_the_wait_runs_out_the_caller_runs_its_own_block
    c = cache
    key = key_of(c)
    begun = monotonic
    leader, gate = leading(c, key)
    # A flight older than the caller's wait is presumed lost: it fills at once.
    young = monotonic - begun < 0.1
    took = elapsed { assert_equal "impatient", c.fetch(key, wait: 0.1) { "impatient" } }
    assert_operator took, :>=, 0.09 if young
    assert_operator took, :<, 2
    assert_equal "impatient", c.get(key)
    gate << "late"
    assert_equal "late", leader.value
    assert_equal "late", c.get(key)
  end

  def test_fetch_with_use_bypass_or_refresh
    c = cache
    key = key_of(c)
    c.put(key, "old")
    assert_equal "fresh", c.fetch(key, use: :bypass) { "fresh" }
    assert_equal "old", c.get(key)
    assert_equal "new", c.fetch(key, use: :refresh) { "new" }
    assert_equal "new", c.get(key)
    assert_raises(ArgumentError) { c.fetch(key, use: :maybe) { "x" } }
    _, use = c.key(REQUEST, provider: "openai", cache: :bypass)
    assert_equal "direct", c.fetch(key, use: use) { "direct" }
  end

  def test_fetch_arguments
    c = cache
    key = key_of(c)
    assert_raises(ArgumentError) { c.fetch(key) }
    assert_raises(ArgumentError) { c.fetch(key, wait: -1) { "x" } }
    assert_raises(ArgumentError) { c.fetch(key, wait: Float::NAN) { "x" } }
    assert_raises(ArgumentError) { c.fetch(key, ttl: 0) { "x" } }
    assert_raises(TypeError) { c.fetch(key, cancel: true) { "x" } }
    assert_equal "x", c.fetch(key, wait: nil) { "x" }
    assert_equal "x", c.fetch(key, wait: Float::INFINITY) { "y" }
  end

  def test_thread_kill_ends_a_waiting_fetch
    c = cache
    key = key_of(c)
    leader, gate = leading(c, key)
    waiter = Thread.new { c.fetch(key, wait: nil) { "never" } }
    wait_until_blocked(waiter)
    took = elapsed { waiter.kill.join }
    assert_operator took, :<, 2
    refute_predicate waiter, :alive?
    gate << "answer"
    assert_equal "answer", leader.value
  end

  def test_thread_raise_interrupts_a_waiting_fetch
    c = cache
    key = key_of(c)
    leader, gate = leading(c, key)
    waiter = quiet_thread { c.fetch(key, wait: 3600) { "never" } }
    wait_until_blocked(waiter)
    took = elapsed do
      waiter.raise(Stop, "stop waiting")
      error = assert_raises(Stop) { waiter.join }
      assert_equal "stop waiting", error.message
    end
    assert_operator took, :<, 2
    gate << "answer"
    assert_equal "answer", leader.value
  end

  def test_a_wakeup_that_raises_nothing_keeps_waiting
    c = cache
    key = key_of(c)
    leader, gate = leading(c, key)
    waiter = Thread.new { c.fetch(key, wait: 30) { "waiter's" } }
    wait_for_waits(c, 1)
    wait_until_blocked(waiter)
    waiter.wakeup
    # It looks up again and waits again instead of running its block.
    wait_for_waits(c, 2)
    wait_until_blocked(waiter)
    gate << "leader's"
    assert_equal "leader's", waiter.value
    assert_equal "leader's", leader.value
  end

  def test_cancel_ends_a_waiting_fetch
    c = cache
    key = key_of(c)
    leader, gate = leading(c, key)
    cancel = Llmkit::Cancel.new
    waiter = quiet_thread { c.fetch(key, wait: 3600, cancel: cancel) { "never" } }
    wait_until_blocked(waiter)
    took = elapsed do
      cancel.cancel!
      assert_raises(Llmkit::CancelledError) { waiter.join }
    end
    assert_operator took, :<, 2
    # A triggered cancel ends the next wait at once; a hit needs no wait.
    assert_raises(Llmkit::CancelledError) { c.fetch(key, cancel: cancel) { "never" } }
    gate << "answer"
    leader.join
    assert_equal "answer", c.fetch(key, cancel: cancel) { "never" }
  end

  def test_ctrl_c_interrupts_a_waiting_fetch_on_the_only_thread
    script = <<~RUBY
      require "llmkit"
      cache = Llmkit::Cache.new
      key = "0" * 32
      lead = [false]
      Llmkit::Native.cache_lookup(cache.__send__(:handle), key, 0, Llmkit::Native.cancel_new, lead)
      raise "should lead" unless lead[0]
      begin
        puts "waiting"
        $stdout.flush
        cache.fetch(key, wait: nil) { "never" }
      rescue Interrupt
        puts "interrupted"
      end
    RUBY
    paths = %w[../lib ../build].flat_map { ["-I", File.expand_path(_1, __dir__)] }
    IO.popen([RbConfig.ruby, *paths, "-e", script], err: File::NULL) do |child|
      assert_equal "waiting\n", child.gets
      sleep 0.2 # time to get into the wait; interrupted either way
      took = elapsed do
        Process.kill("INT", child.pid)
        # Fails rather than hangs the suite if the signal is lost.
        ready = IO.select([child], nil, nil, 10)
        Process.kill("KILL", child.pid) unless ready
        assert ready, "Ctrl-C should end the wait"
        assert_equal "interrupted\n", child.gets
      end
      assert_operator took, :<, 2
    end
    assert_predicate $?, :success?
  end

  # ---- embeddings -----------------------------------------------------------------

  # A fake provider: the embedding of a text is [its length, its first
  # byte]; items come back in reverse order with their "index", as a
  # provider may send them.
  def fake_embeddings(requests)
    lambda do |json|
      request = JSON.parse(json)
      requests << request
      data = request["input"].each_with_index.map do |text, index|
        { object: "embedding", index: index, embedding: [text.size, text.ord] }
      end
      { object: "list", data: data.reverse, model: request["model"],
        usage: { prompt_tokens: data.size, total_tokens: data.size } }
    end
  end

  def embedding_of(text) = [text.size, text.ord]

  def test_embeddings_send_only_the_inputs_the_cache_lacks
    c = cache
    requests = []
    upstream = fake_embeddings(requests)
    first = c.embeddings({ model: "text-embedding-3-small", input: %w[alpha beta gamma], dimensions: 2 },
                         provider: "openai") { upstream.call(_1) }
    assert_instance_of String, first
    assert_equal 1, requests.size
    assert_equal %w[alpha beta gamma], requests[0]["input"]
    answer = JSON.parse(first)
    assert_equal [0, 1, 2], answer["data"].map { _1["index"] }
    assert_equal %w[alpha beta gamma].map { embedding_of(_1) }, answer["data"].map { _1["embedding"] }
    assert_equal 3, answer["usage"]["prompt_tokens"]

    # Two known (out of their first order) and one new: only the new goes up.
    second = JSON.parse(c.embeddings({ model: "text-embedding-3-small", input: %w[gamma delta alpha], dimensions: 2 },
                                     provider: "openai") { upstream.call(_1) })
    assert_equal 2, requests.size
    assert_equal({ "model" => "text-embedding-3-small", "input" => ["delta"], "dimensions" => 2 }, requests[1])
    assert_equal [0, 1, 2], second["data"].map { _1["index"] }
    assert_equal %w[gamma delta alpha].map { embedding_of(_1) }, second["data"].map { _1["embedding"] }
    assert_equal 1, second["usage"]["prompt_tokens"]

    # All known: no upstream call.
    third = JSON.parse(c.embeddings({ model: "text-embedding-3-small", input: "beta", dimensions: 2 },
                                    provider: "openai") { flunk "nothing to ask" })
    assert_equal [embedding_of("beta")], third["data"].map { _1["embedding"] }
    assert_equal 2, requests.size
  end

  def test_embeddings_keys_follow_scope_model_and_parameters
    c = cache
    requests = []
    upstream = fake_embeddings(requests)
    base = { model: "m1", input: %w[a b] }
    c.embeddings(base, provider: "openai") { upstream.call(_1) }
    c.embeddings(base, provider: "openai", scope: "other") { upstream.call(_1) }
    c.embeddings(base.merge(model: "m2"), provider: "openai") { upstream.call(_1) }
    c.embeddings(base.merge(dimensions: 8), provider: "openai") { upstream.call(_1) }
    c.embeddings(JSON.generate(base), provider: "openai") { upstream.call(_1) } # all cached
    assert_equal [%w[a b]] * 4, requests.map { _1["input"] }
  end

  def test_embeddings_with_bad_answers_or_requests
    c = cache
    request = { model: "m", input: %w[x y] }
    {
      '{"data":[{"embedding":[1]}]}' => "1 embeddings for 2 inputs",
      '{"error":{"message":"quota"}}' => "the provider answered with an error",
      "not json" => "not valid JSON"
    }.each do |answer, message|
      error = assert_raises(Llmkit::ProviderErrorError, answer) { c.embeddings(request, provider: "openai") { answer } }
      assert_includes error.message, message
    end
    assert_raises(Boom) { c.embeddings(request, provider: "openai") { raise Boom } }
    assert_equal 0, c.stat(:entries) # nothing stored from a failed batch
    assert_raises(Llmkit::InvalidArgumentError) { c.embeddings({ model: "m" }, provider: "openai") { "{}" } }
    assert_raises(Llmkit::InvalidArgumentError) { c.embeddings("{", provider: "openai") { "{}" } }
    assert_raises(ArgumentError) { c.embeddings(request, provider: "openai") }
    assert_raises(TypeError) { c.embeddings(request, provider: nil) { "{}" } }
  end

  # ---- replay -------------------------------------------------------------------

  CONTENT = "Hello — ¡hola! 👋 Ünïcödé text, repeated. " * 6

  def completion(**message)
    {
      id: "chatcmpl-42", object: "chat.completion", created: 1_700_000_000, model: "gpt-4o-mini",
      choices: [{ index: 0, message: { role: "assistant", content: CONTENT, **message }, finish_reason: "stop" }],
      usage: { prompt_tokens: 12, completion_tokens: 60, total_tokens: 72 }
    }
  end

  def test_replay_content_deltas_add_up_to_the_content
    chunks = Llmkit.replay(JSON.generate(completion), piece_bytes: 7)
    assert_kind_of Enumerator, chunks
    parsed = chunks.map { JSON.parse(_1) }
    assert(parsed.all? { _1["object"] == "chat.completion.chunk" && _1["id"] == "chatcmpl-42" })
    assert_equal "assistant", parsed.first["choices"][0]["delta"]["role"]
    deltas = parsed.flat_map { _1["choices"] }.filter_map { _1["delta"]["content"] }
    assert_equal CONTENT, deltas.join
    pieces = deltas.reject(&:empty?)
    assert_operator pieces.size, :>, CONTENT.bytesize / 7 - 1
    assert(pieces.all? { _1.valid_encoding? && (_1.bytesize <= 7 || _1.size == 1) })
    assert_equal "stop", parsed.filter_map { _1["choices"][0]&.dig("finish_reason") }.last
    assert_equal 72, parsed.last["usage"]["total_tokens"]
  end

  def test_replay_default_pieces_block_form_and_reenumeration
    chunks = Llmkit.replay(completion)
    first = chunks.to_a
    assert_equal first, chunks.to_a # each enumeration replays afresh
    assert(first.all? { _1.encoding == Encoding::UTF_8 })
    yielded = []
    assert_nil Llmkit.replay(completion) { yielded << _1 }
    assert_equal first, yielded
    contents = first.filter_map { JSON.parse(_1)["choices"][0]&.dig("delta", "content") }
    assert_equal CONTENT, contents.join
    assert(contents.all? { _1.bytesize <= 64 })
  end

  def test_replay_tool_call_arguments
    arguments = '{"city":"Paris","unit":"celsius"}'
    tool_call = { id: "call_1", type: "function", function: { name: "get_weather", arguments: arguments } }
    chunks = Llmkit.replay(completion(content: nil, tool_calls: [tool_call]), piece_bytes: 5).map { JSON.parse(_1) }
    calls = chunks.flat_map { _1["choices"] }.filter_map { _1["delta"]["tool_calls"] }.flatten
    assert_equal "get_weather", calls.first["function"]["name"]
    assert_equal arguments, calls.map { _1["function"]["arguments"] }.join
  end

  def test_replay_bad_input_raises_at_once
    ["not json", "{", '{"object":"list"}', "[]"].each do |bad|
      assert_raises(Llmkit::InvalidArgumentError, bad) { Llmkit.replay(bad) }
    end
    [0, -1, 1.5, nil].each do |piece_bytes|
      assert_raises(ArgumentError, piece_bytes.inspect) { Llmkit.replay(completion, piece_bytes: piece_bytes) }
    end
  end

  # ---- options, lifetime -----------------------------------------------------------

  def test_bad_options_raise_with_llmkits_message
    {
      { bogus: 1 } => "unknown option 'bogus'",
      { temperature: "sometimes" } => "option 'temperature' must be cache or skip",
      { max_entries: -1 } => "option 'max_entries'",
      { backend: :nope } => "nope"
    }.each do |options, message|
      error = assert_raises(Llmkit::InvalidArgumentError, options.inspect) { Llmkit::Cache.new(options) }
      assert_includes error.message, message
    end
    assert_raises(TypeError) { Llmkit::Cache.new([[:ttl, 1]]) }
  end

  def test_options_object_or_string_keys
    options = Llmkit::Options.new.set("temperature", "skip")
    c = Llmkit::Cache.new(options).tap { @caches << _1 }
    options.close # copied
    assert_equal :bypass, c.key(REQUEST.merge(temperature: 1), provider: "openai")[1]
    assert_equal :bypass, cache("temperature" => "skip").key(REQUEST.merge(temperature: 1), provider: "openai")[1]
    assert_equal 0, Llmkit::Cache.new.tap { @caches << _1 }.stat(:entries)
  end

  def test_a_value_too_large_for_a_shard_is_not_kept
    c = cache(max_bytes: 4096, shards: 1)
    key = key_of(c)
    c.put(key, "x" * 8192)
    assert_nil c.get(key)
    # A fetch still returns it.
    assert_equal "y" * 8192, c.fetch(key) { "y" * 8192 }
  end

  def test_close_is_idempotent_and_later_use_raises
    c = cache
    key = key_of(c)
    assert_nil c.close
    c.close
    assert_predicate c, :closed?
    [-> { c.key(REQUEST, provider: "openai") }, -> { c.get(key) }, -> { c.put(key, "v") },
     -> { c.invalidate(key) }, -> { c.clear }, -> { c.stat(:hits) }, -> { c.stats },
     -> { c.fetch(key) { "v" } }, -> { c.embeddings({ input: "a" }, provider: "openai") { "{}" } }].each do |call|
      error = assert_raises(Llmkit::InvalidArgumentError) { call.call }
      assert_equal "cache is closed", error.message
    end
  end

  def test_close_wakes_a_waiting_fetch_and_lets_the_leader_finish
    c = cache
    key = key_of(c)
    leader, gate = leading(c, key)
    waiter = quiet_thread { c.fetch(key, wait: nil) { "never" } }
    wait_until_blocked(waiter)
    took = elapsed do
      c.close
      error = assert_raises(Llmkit::InvalidArgumentError) { waiter.join }
      assert_equal "cache is closed", error.message
    end
    assert_operator took, :<, 2
    # The leader's block still runs to its end, inside the closed cache.
    gate << "answer"
    assert_equal "answer", leader.value
    assert_raises(Llmkit::InvalidArgumentError) { c.get(key) }
  end

  def test_gc_frees_dropped_caches
    100.times do |i|
      dropped = Llmkit::Cache.new(max_entries: 10)
      dropped.put(key_of(dropped), "v")
      dropped.close if i.even?
    end
    GC.start
    assert_equal 0, cache.stat(:entries)
  end
end
