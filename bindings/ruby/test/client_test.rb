require "test_helper"
require "upstream"

# Llmkit::Client against test/upstream/upstream.py, the fake provider: each
# wire format whole and streamed, a stream stopped from its block, Ruby's
# interrupts and Llmkit::Cancel, the provider's errors with their response,
# embeddings in batches, requests with every field, recorded answers,
# reasoning blocks sent back on the next turn.
class ClientTest < Minitest::Test
  Stop = Class.new(StandardError)

  KEY = "sk-test-ruby-never-print-me".freeze
  HELLO = { model: "m", messages: [{ role: :user, content: "Hello" }] }.freeze

  # The upstream's default fixtures: [whole, streamed].
  FIXTURES = {
    "openai" => %w[openai/chat_completion_text openai/stream_text_usage],
    "anthropic" => %w[anthropic/message_text anthropic/stream_text],
    "gemini" => %w[gemini/generate_text gemini/stream_text],
    "ollama" => %w[ollama/chat_structured_text ollama/stream_thinking_text]
  }.freeze

  def setup
    Upstream.clear_requests # starts it: a test fails when it cannot
    @clients = []
  end

  def teardown
    @clients.each(&:close)
  end

  # A client of `provider` on the upstream. It tries each call once, so that
  # a test injecting a fault sees the faulty answer at once; `options`
  # (Symbol keys) add to it or override that.
  def client(provider = "openai", **options)
    Llmkit::Client.new(provider: provider, base_url: Upstream.base_url(provider), api_key: KEY,
                       "retry.attempts": 1, **options).tap { @clients << _1 }
  end

  def monotonic = Process.clock_gettime(Process::CLOCK_MONOTONIC)

  def elapsed
    start = monotonic
    yield
    monotonic - start
  end

  def fault(spec) = { "header.x-upstream-fault": spec }

  # A thread in C (a call without the GVL) or blocked in Ruby shows "sleep".
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

  # The JSON body of the only request the upstream received.
  def sent_body
    requests = Upstream.requests
    assert_equal 1, requests.size
    JSON.parse(requests[0]["body"])
  end

  # ---- whole and streamed answers --------------------------------------------

  def test_each_provider_answers_a_whole_call
    FIXTURES.each do |provider, (whole, _)|
      response = client(provider).chat(HELLO)
      expected = Upstream.expected(whole)
      assert_equal expected["text"], response.text, provider
      assert_equal expected, response.to_h, provider
      assert_equal [provider, 200, Llmkit::Status::OK], [response.provider, response.http_status, response.status]
      assert_predicate response, :ok?
      assert_equal expected["finish_reason"].to_sym, response.finish_reason
      assert_equal expected["usage"]["input_tokens"], response.usage.input_tokens
      assert_equal expected["usage"]["output_tokens"], response.usage.output_tokens
      assert_operator response.latency, :>, 0
      assert_nil response.first_token # not streamed
      assert_nil response.raw
      assert_predicate response, :frozen?
      assert_equal Encoding::UTF_8, response.text.encoding
    end
  end

  def test_each_provider_streams_chunks_that_add_up_to_the_answer
    FIXTURES.each do |provider, (_, streamed)|
      chunks = []
      response = client(provider).chat(HELLO) { chunks << _1 }
      text = chunks.select(&:text?).map(&:text).join
      assert_equal Upstream.expected(streamed)["text"], text, provider
      assert_equal response.text, text
      assert_equal response.reasoning, chunks.select(&:reasoning?).map(&:text).join
      assert_operator chunks.size, :>, 1
      assert_equal chunks.size, response.chunks
      assert chunks.all?(&:frozen?)
      assert_operator response.first_token, :<=, response.latency
      assert_operator response.max_gap, :>=, 0
    end
  end

  def test_stream_option_without_a_block_times_the_answer
    response = client.chat(HELLO, options: { stream: true })
    assert_equal Upstream.expected("openai/stream_text_usage")["text"], response.text
    refute_nil response.first_token
    assert_operator response.chunks, :>, 1
    assert_equal true, sent_body["stream"]
  end

  def test_raw_option_keeps_the_body
    response = client.chat(HELLO, options: { raw: true })
    assert_equal Upstream.fixture("openai/chat_completion_text.json"), response.raw
  end

  def test_a_streamed_tool_call_arrives_in_pieces
    chunks = []
    options = { "header.x-upstream-fixture": "anthropic/stream_tool_use", **fault("chunk=7") }
    response = client("anthropic").chat(HELLO, options: options) { chunks << _1 }
    calls = chunks.select(&:tool_call?)
    refute_empty calls
    assert_equal 1, response.tool_calls.size
    call = response.tool_calls[0]
    assert_equal call.arguments, calls.map(&:text).join
    assert_equal [call.name], calls.filter_map(&:tool_name)
    assert_equal [call.id], calls.filter_map(&:tool_id)
    assert_equal [0], calls.map(&:tool_index).uniq
    assert_equal :tool_calls, response.finish_reason
  end

  def test_tool_calls_of_a_whole_answer
    options = { "header.x-upstream-fixture": "anthropic/tool_use" }
    response = client("anthropic").chat(HELLO, options: options)
    expected = Upstream.expected("anthropic/tool_use")
    assert_equal expected, response.to_h
    assert_equal :tool_calls, response.finish_reason
    assert_equal "tool_use", response.finish_reason_raw
    call = response.tool_calls.fetch(0)
    assert_equal expected["tool_calls"][0].transform_keys(&:to_sym), call.to_h
    assert_equal({ "city" => "Mexico City", "country" => "Mexico" }, call.parsed_arguments)
    # The call goes back into the next request as it came.
    follow_up = HELLO.merge(messages: [*HELLO[:messages], { role: :assistant, tool_calls: [call.to_h] },
                                       { role: :tool, tool_call_id: call.id, content: "ok" }])
    assert_predicate client("anthropic").chat(follow_up), :ok?
  end

  # ---- stopping a stream from its block --------------------------------------

  def test_raising_in_the_block_stops_the_stream_and_leaves_chat
    seen = 0
    took = elapsed do
      error = assert_raises(Stop) do
        client.chat(HELLO, options: fault("drip=200")) do
          seen += 1
          raise Stop, "enough" if seen == 2
        end
      end
      assert_equal "enough", error.message
      assert_match(/client_test\.rb/, error.backtrace.first)
    end
    assert_equal 2, seen
    assert_operator took, :<, 1.5 # the whole stream takes 2.4 s
  end

  def test_break_and_throw_leave_the_stream_with_their_value
    seen = 0
    result = client.chat(HELLO, options: fault("drip=100")) do
      seen += 1
      break :early if seen == 2
    end
    assert_equal [:early, 2], [result, seen]
    thrown = catch(:done) { client.chat(HELLO) { throw :done, 42 } }
    assert_equal 42, thrown
    # The client is fine afterwards.
    assert_predicate client.chat(HELLO) { nil }, :ok?
  end

  def test_an_exception_in_the_block_of_a_thread_stays_in_that_thread
    threads = 4.times.map do |i|
      quiet_thread { client.chat(HELLO) { raise Stop, "thread #{i}" } }
    end
    threads.each_with_index do |thread, i|
      assert_equal "thread #{i}", assert_raises(Stop) { thread.join }.message
    end
  end

  # ---- cancellation and Ruby's interrupts ------------------------------------

  def test_a_cancel_ends_a_waiting_call
    cancel = Llmkit::Cancel.new
    c = client
    caller = quiet_thread { c.chat(HELLO, cancel: cancel, options: fault("delay=5000")) }
    took = elapsed do
      wait_until_blocked(caller)
      cancel.cancel!
      error = assert_raises(Llmkit::CancelledError) { caller.join }
      assert_nil error.response
    end
    assert_operator took, :<, 3
    # A triggered Cancel stays triggered.
    assert_raises(Llmkit::CancelledError) { c.chat(HELLO, cancel: cancel) }
    assert_raises(TypeError) { c.chat(HELLO, cancel: true) }
  end

  def test_thread_raise_ends_a_waiting_call_with_its_exception
    c = client
    caller = quiet_thread { c.chat(HELLO, options: fault("delay=5000")) }
    took = elapsed do
      wait_until_blocked(caller)
      caller.raise(Stop, "interrupted")
      assert_equal "interrupted", assert_raises(Stop) { caller.join }.message
    end
    assert_operator took, :<, 3
  end

  def test_thread_raise_reaches_a_stream_between_chunks_and_in_its_block
    c = client
    # Between two pieces: the call waits in C.
    seen = Queue.new
    caller = quiet_thread { c.chat(HELLO, options: fault("drip=1000")) { seen << _1 } }
    seen.pop
    wait_until_blocked(caller)
    took = elapsed do
      caller.raise(Stop, "between")
      assert_equal "between", assert_raises(Stop) { caller.join }.message
    end
    assert_operator took, :<, 1
    assert_operator seen.size, :<=, 1 # a second piece at most, of 8

    # In the block, blocked in Ruby: delivered there.
    gate = Queue.new
    calls = Queue.new
    caller = quiet_thread do
      c.chat(HELLO) do
        calls << true
        gate.pop
      end
    end
    calls.pop
    wait_until_blocked(caller)
    caller.raise(Stop, "in the block")
    assert_equal "in the block", assert_raises(Stop) { caller.join }.message
    assert_empty calls # the block ran once

    # In the block, busy in Ruby: delivered there too.
    caller = quiet_thread do
      c.chat(HELLO) do
        calls << true
        loop { Thread.pass }
      end
    end
    calls.pop
    caller.raise(Stop, "busy")
    assert_equal "busy", assert_raises(Stop) { caller.join }.message
    assert_empty calls
  end

  def test_thread_kill_ends_a_call
    c = client
    caller = Thread.new { c.chat(HELLO, options: fault("delay=5000")) }
    took = elapsed do
      wait_until_blocked(caller)
      caller.kill.join
    end
    assert_operator took, :<, 3
    refute_predicate caller, :alive?
    assert_predicate c.chat(HELLO), :ok?
  end

  def test_other_threads_run_while_a_call_waits
    ticks = 0
    ticker = Thread.new do
      loop do
        ticks += 1
        sleep 0.001
      end
    end
    Thread.pass until ticks.positive?
    client.chat(HELLO, options: fault("delay=300"))
    ticker.kill.join
    assert_operator ticks, :>=, 10 # the GVL was free meanwhile
  end

  def test_closing_a_client_ends_its_calls
    c = client
    caller = quiet_thread { c.chat(HELLO, options: fault("delay=5000")) }
    took = elapsed do
      wait_until_blocked(caller)
      c.close
      error = assert_raises(Llmkit::InvalidArgumentError) { caller.join }
      assert_equal "client is closed", error.message
    end
    assert_operator took, :<, 3
    assert_predicate c, :closed?
    assert_nil c.close
    error = assert_raises(Llmkit::InvalidArgumentError) { c.chat(HELLO) }
    assert_equal "client is closed", error.message
    assert_raises(Llmkit::InvalidArgumentError) { c.embed(["a"]) }
  end

  def test_open_closes_the_client_after_the_block
    opened = nil
    text = Llmkit::Client.open(provider: "ollama", base_url: Upstream.base_url("ollama")) do |c|
      opened = c
      c.chat(HELLO).text
    end
    assert_equal Upstream.expected("ollama/chat_structured_text")["text"], text
    assert_predicate opened, :closed?
  end

  # ---- the provider's errors ---------------------------------------------------

  def test_a_429_raises_rate_limited_with_the_retry_after
    error = assert_raises(Llmkit::RateLimitedError) do
      client.chat(HELLO, options: fault("status=429,retry_after=2"))
    end
    assert_equal Llmkit::Status::RATE_LIMITED, error.status
    assert_includes error.message, "429"
    response = error.response
    assert_equal 2.0, response.retry_after
    assert_equal 429, response.http_status
    assert_equal Llmkit::Status::RATE_LIMITED, response.status
    assert_predicate response, :error?
    assert_equal :error, response.finish_reason
    refute_nil response.error_message
  end

  def test_an_anthropic_529_raises_overloaded
    error = assert_raises(Llmkit::OverloadedError) do
      client("anthropic").chat(HELLO, options: fault("status=529"))
    end
    assert_equal Llmkit::Status::OVERLOADED, error.status
    assert_equal 529, error.response.http_status
    assert_nil error.response.retry_after
    assert_equal "OVERLOADED", error.response.to_h.dig("error", "status")
    # Streamed too.
    assert_raises(Llmkit::OverloadedError) do
      client("anthropic").chat(HELLO, options: fault("status=529")) { flunk "no chunk" }
    end
  end

  # ---- retries, circuit breakers, cost -------------------------------------------

  def test_a_retry_cures_a_transient_failure
    response = client("retry.attempts": 3, "retry.base_ms": 5)
               .chat(HELLO, options: fault("status=503,times=1,id=ruby-retry"))
    assert_predicate response, :ok?
    assert_equal 2, response.attempts
    assert_equal 2, Upstream.requests.size
  end

  def test_an_open_circuit_fails_calls_at_once_without_a_request
    c = client("breaker.min_calls": 2, "breaker.failure_rate": 1, "breaker.open_ms": 60_000)
    assert_raises(Llmkit::NotFoundError) { c.breaker_stats("m") }
    assert_raises(Llmkit::ProviderErrorError) { c.chat(HELLO, options: fault("status=500")) }
    stats = c.breaker_stats("m")
    assert_equal [:closed, 1, 1], [stats.state, stats.calls, stats.failures]
    assert_predicate stats, :frozen?
    assert_raises(Llmkit::ProviderErrorError) { c.chat(HELLO, options: fault("status=500")) }
    stats = c.breaker_stats("m")
    assert_equal [:open, 1, 0], [stats.state, stats.opened, stats.rejected]
    assert_includes 0.001..60.0, stats.retry_in
    Upstream.clear_requests
    error = nil
    took = elapsed { error = assert_raises(Llmkit::UnavailableError) { c.chat(HELLO) } }
    assert_operator took, :<, 1
    assert_nil error.response
    assert_empty Upstream.requests
    assert_equal 1, c.breaker_stats("m").rejected
  end

  def test_a_response_has_its_cost_and_attempts
    response = client(prices: Upstream::PRICES).chat(HELLO)
    assert_in_delta Upstream::COST, response.cost_usd, 1e-12
    assert_equal 1, response.attempts
    assert_nil client("ollama").chat(HELLO).cost_usd, "ollama has no price unless given one"
  end

  def test_a_truncated_stream_is_a_network_error
    chunks = []
    error = assert_raises(Llmkit::NetworkError) do
      client.chat(HELLO, options: fault("truncate")) { chunks << _1 }
    end
    assert_includes error.message, "stream truncated"
    refute_empty chunks
  end

  def test_a_failing_call_never_shows_the_key
    texts = %w[status=401 status=500 malformed truncate].map do |spec|
      client.chat(HELLO, options: { raw: true, **fault(spec) })
      flunk "#{spec} should fail"
    rescue Llmkit::Error => e
      [e.message, e.inspect, e.response.inspect].join(" ")
    end
    refute(texts.any? { _1.include?("never-print") })
  end

  # ---- embeddings ---------------------------------------------------------------

  def test_embeddings_of_3000_inputs_come_back_in_order
    texts = Array.new(3000) { "input number #{_1}" }
    embeddings = client.embed(texts, model: "e")
    assert_equal 3000, embeddings.size
    texts.each_with_index do |text, i|
      vector = embeddings[i]
      # The upstream's vector of a text: [its length in bytes, the sum of its bytes, ...].
      assert_equal [text.bytesize.to_f, text.bytes.sum.to_f], vector.take(2), i
    end
    assert_equal 3 * 3000, embeddings.input_tokens # words
    assert_equal 2, Upstream.requests.size # OpenAI takes 2048 inputs per batch
    assert_equal embeddings.vectors, embeddings.to_a
    assert embeddings.vectors.all?(&:frozen?)
  end

  def test_embeddings_options_model_and_errors
    embeddings = client(model: "client-model").embed(["héllo", "", "a\0b"], options: { dimensions: 5 })
    assert_equal [5] * 3, embeddings.map(&:size)
    assert_equal ["héllo".bytesize.to_f, 0.0, 3.0], embeddings.map(&:first)
    assert_equal "client-model", sent_body["model"]
    assert_equal 0, client.embed([], model: "e").size
    assert_raises(Llmkit::InvalidArgumentError) { client.embed(["a"]) } # no model
    error = assert_raises(Llmkit::RateLimitedError) { client.embed(["a"], model: "e", options: fault("status=429")) }
    assert_nil error.response
    assert_raises(TypeError) { client.embed("a") }
    assert_raises(TypeError) { client.embed([nil]) }
  end

  # ---- requests -------------------------------------------------------------------

  def test_a_request_with_every_field_reaches_openai
    request = Llmkit::Request.new(
      model: "gpt-test",
      system: "Be brief.",
      messages: [
        { role: :user, content: ["Look:", { image: "https://example.com/cat.png" },
                                 { image: "data:image/png;base64,iVBORw0KGgo=" }, { text: "Well?" }] },
        { role: :assistant, content: "Calling.",
          tool_calls: [{ id: "call_1", name: "weather", arguments: { city: "Paris" } }] },
        { role: :tool, tool_call_id: "call_1", content: { celsius: 18 } },
        { "role" => "user", "content" => "Thanks", "cache" => true }
      ],
      tools: [{ name: "weather", description: "Weather in a city",
                parameters: { type: "object", properties: { city: { type: "string" } } } },
              { name: "noop" }],
      tool_choice: "weather",
      response_format: { type: "object", properties: { answer: { type: "string" } } },
      temperature: 0.25, top_p: 0.5, max_tokens: 77, seed: 42,
      stop: %w[END STOP],
      extra: { user: "u-1", logprobs: true }
    )
    2.times { client.chat(request) } # built once, sent twice
    bodies = Upstream.requests.map { JSON.parse(_1["body"]) }
    assert_equal bodies[0], bodies[1]
    body = bodies[0]
    assert_equal "gpt-test", body["model"]
    system, user, assistant, tool, thanks = body["messages"]
    assert_equal({ "role" => "system", "content" => "Be brief." }, system)
    assert_equal %w[text image_url image_url text], user["content"].map { _1["type"] }
    assert_equal "https://example.com/cat.png", user["content"][1]["image_url"]["url"]
    assert_equal "data:image/png;base64,iVBORw0KGgo=", user["content"][2]["image_url"]["url"]
    call = assistant["tool_calls"][0]
    assert_equal ["call_1", "weather", { "city" => "Paris" }],
                 [call["id"], call["function"]["name"], JSON.parse(call["function"]["arguments"])]
    assert_equal ["tool", "call_1"], [tool["role"], tool["tool_call_id"]]
    assert_includes JSON.generate(tool["content"]), "celsius"
    assert_equal "user", thanks["role"]
    assert_equal %w[weather noop], body["tools"].map { _1["function"]["name"] }
    assert_equal "Weather in a city", body["tools"][0]["function"]["description"]
    assert_equal "string", body["tools"][0]["function"]["parameters"]["properties"]["city"]["type"]
    assert_equal "weather", body["tool_choice"]["function"]["name"]
    assert_equal "json_schema", body["response_format"]["type"]
    assert_equal "object", body["response_format"]["json_schema"]["schema"]["type"]
    assert_equal [0.25, 0.5, 77, 42, %w[END STOP]],
                 body.values_at("temperature", "top_p", "max_completion_tokens", "seed", "stop")
    assert_equal ["u-1", true], body.values_at("user", "logprobs")
    request.close
    assert_predicate request, :closed?
    assert_raises(Llmkit::InvalidArgumentError) { client.chat(request) }
  end

  def test_thinking_and_cache_breakpoints_reach_anthropic
    client("anthropic").chat(
      model: "claude-test",
      system: { text: "A long, cached system prompt.", cache: true },
      messages: [{ role: :user, content: "First", cache: true }, { role: :assistant, content: "Ok" },
                 { role: :user, content: "Second" }],
      thinking_budget: 1024, max_tokens: 2048, stop: "END", temperature: 1
    )
    body = sent_body
    assert_equal [{ "type" => "ephemeral" }], body["system"].map { _1["cache_control"] }
    assert_equal [{ "type" => "ephemeral" }, nil, nil],
                 body["messages"].map { _1["content"].last["cache_control"] }
    assert_equal({ "type" => "enabled", "budget_tokens" => 1024 }, body["thinking"])
    assert_equal [2048, ["END"], 1], body.values_at("max_tokens", "stop_sequences", "temperature")
  end

  def test_json_response_format_and_symbols
    client.chat(HELLO.merge(response_format: :json, tool_choice: :auto))
    assert_equal({ "type" => "json_object" }, sent_body["response_format"])
  end

  def test_bad_arguments_raise_invalid_argument
    {
      { provider: "openia" } => "unknown provider",
      { provider: "ollama", "timout.total": 5 } => "timout.total",
      { provider: "openai-compatible" } => "base_url"
    }.each do |options, message|
      error = assert_raises(Llmkit::InvalidArgumentError, options.inspect) { Llmkit::Client.new(options) }
      assert_includes error.message, message
    end
    assert_raises(TypeError) { Llmkit::Client.new("openai") }

    c = client
    {
      HELLO.merge(modle: "x") => "modle",
      HELLO.merge(temperature: "hot") => "temperature",
      HELLO.merge(extra: [1]) => "extra",
      HELLO.merge(messages: [{ role: :system, content: "x" }]) => "role",
      HELLO.merge(messages: [{ role: :user, content: "\xC3\x28" }]) => "UTF-8",
      HELLO.merge(messages: [{ role: :user, content: [{ image: "ftp://x" }] }]) => "image URL",
      HELLO.merge(messages: [{ role: :user, tool_calls: [{ id: "i", name: "f" }] }]) => "assistant",
      HELLO.merge(messages: [{ content: "who?" }]) => "role",
      HELLO.merge(messages: [{ role: :assistant, tool_call: [] }]) => ":tool_call",
      HELLO.merge(messages: [{ role: :tool, content: "no id" }]) => "tool_call_id",
      HELLO.merge(tools: [{ name: "f", parameters: "[]" }]) => "parameters",
      { messages: HELLO[:messages] } => "model"
    }.each do |request, message|
      error = assert_raises(Llmkit::InvalidArgumentError, request.inspect) { c.chat(request) }
      assert_includes error.message, message
      assert_nil error.response
    end
    error = assert_raises(Llmkit::InvalidArgumentError) { c.chat(HELLO, options: { strem: true }) }
    assert_includes error.message, "strem"
    assert_raises(TypeError) { c.chat(HELLO.merge(messages: "Hello")) }
    assert_raises(TypeError) { c.chat(HELLO.merge(messages: ["Hello"])) }
    assert_raises(TypeError) { c.chat(HELLO.merge(messages: [{ role: :user, content: 1 }])) }
    assert_raises(TypeError) { c.chat("Hello") }
    assert_raises(TypeError) { c.chat(HELLO, options: "raw") }
    assert_raises(ArgumentError) { c.chat(HELLO, model: "m") }
    error = assert_raises(Llmkit::UnsupportedError) { c.chat(HELLO.merge(thinking_budget: 100)) }
    assert_includes error.message, "reasoning_effort"
    assert_empty Upstream.requests # nothing was sent
  end

  # ---- recorded answers ------------------------------------------------------------

  def test_recorded_answers_parse_without_a_network
    response = Llmkit::Response.parse("openai", Upstream.fixture("openai/chat_completion_text.json"))
    assert_equal Upstream.expected("openai/chat_completion_text"), response.to_h
    assert_equal 0, response.http_status
    streamed = Llmkit::Response.parse("openai", Upstream.fixture("openai/stream_text_usage.sse"), stream: true)
    assert_equal Upstream.expected("openai/stream_text_usage"), streamed.to_h

    error = assert_raises(Llmkit::OverloadedError) do
      Llmkit::Response.parse("anthropic", Upstream.fixture("anthropic/error_529_overloaded.json"))
    end
    assert_equal Upstream.expected("anthropic/error_529_overloaded"), error.response.to_h
    assert_equal "Overloaded", error.response.error_message

    error = assert_raises(Llmkit::InvalidArgumentError) do
      Llmkit::Response.parse("openai", Upstream.fixture("openai/error_400_context_length_exceeded.json"))
    end
    assert_equal "context_length_exceeded", error.response.error_detail

    assert_nil assert_raises(Llmkit::ProviderErrorError) { Llmkit::Response.parse("anthropic", "{") }.response
    assert_raises(Llmkit::NetworkError) { Llmkit::Response.parse("openai", "data: {\"choices\":[]}\n\n", stream: true) }
    assert_raises(Llmkit::InvalidArgumentError) { Llmkit::Response.parse("openia", "{}") }

    vectors = Llmkit::Embeddings.parse("openai", Upstream.fixture("openai/embeddings_3.json"))
    assert_equal 3, vectors.size
    assert_raises(Llmkit::ProviderErrorError) { Llmkit::Embeddings.parse("openai", "[") }
    error_body = '{"error": {"message": "bad input", "type": "invalid_request_error"}}'
    assert_raises(Llmkit::InvalidArgumentError) { Llmkit::Embeddings.parse("openai", error_body) }
  end

  # ---- thinking across turns: read, sent back, rebuilt -----------------------

  def test_a_response_has_its_thinking_and_signatures_as_recorded
    response = Llmkit::Response.parse("anthropic", Upstream.fixture("anthropic/thinking.json"))
    expected = Upstream.expected("anthropic/thinking")["thinking"]
    assert_equal expected.map { { text: _1["text"], signature: _1["signature"], redacted: false } },
                 response.thinking.map(&:to_h)
    assert_predicate response.thinking, :frozen?
    refute_predicate response.thinking[0], :redacted?

    call = Llmkit::Response.parse("gemini", Upstream.fixture("gemini/function_call.json")).tool_calls[0]
    assert_equal Upstream.expected("gemini/function_call")["tool_calls"][0]["signature"], call.signature
    assert_equal call.signature, call.to_h[:signature]
  end

  def test_add_response_sends_the_thinking_back_before_the_tool_use
    anthropic = client("anthropic")
    request = Llmkit::Request.new(model: "claude-test", thinking_budget: 1024, tools: [{ name: "get_user_country" }],
                                  messages: [{ role: :user, content: "The largest city in the user country?" }])
    response = anthropic.chat(request, options: { "header.x-upstream-fixture": "anthropic/tool_use_with_thinking" })
    request.add_response(response)
           .add_message(role: :tool, tool_call_id: response.tool_calls[0].id, content: "Mexico")
    assert_predicate anthropic.chat(request), :ok?

    recorded = JSON.parse(Upstream.fixture("anthropic/tool_use_with_thinking.json"))["content"]
    sent = JSON.parse(Upstream.requests.fetch(1)["body"])["messages"]
    assert_equal recorded, sent[1]["content"]
    assert_equal "tool_result", sent[2]["content"][0]["type"]

    error = assert_raises(Llmkit::RateLimitedError) do
      Llmkit::Response.parse("anthropic", Upstream.fixture("anthropic/error_429_rate_limit.json"))
    end
    assert_raises(Llmkit::InvalidArgumentError) { request.add_response(error.response) }
    assert_raises(TypeError) { request.add_response(response.to_h) }
  end

  def test_thinking_of_a_stored_turn_goes_back_on_its_parts
    turn = { role: :assistant, content: "Let me check.",
             thinking: [{ text: "I need the country.", signature: "th-sig" }, { signature: "text-sig" },
                        { signature: "anthropic-data", redacted: true }],
             tool_calls: [{ id: "call_0", name: "get_country", arguments: {}, signature: "call-sig" }] }
    client("gemini").chat(model: "gemini-3-pro-preview",
                          messages: [{ role: :user, content: "Capital of the user country?" }, turn,
                                     { role: :tool, tool_call_id: "call_0", content: "Mexico" }])
    parts = JSON.parse(Upstream.requests.fetch(0)["body"])["contents"][1]["parts"]
    assert_equal [{ "text" => "I need the country.", "thought" => true, "thoughtSignature" => "th-sig" },
                  { "text" => "Let me check.", "thoughtSignature" => "text-sig" },
                  { "functionCall" => { "name" => "get_country", "args" => {} }, "thoughtSignature" => "call-sig" }],
                 parts

    assert_raises(Llmkit::InvalidArgumentError) do
      Llmkit::Request.new(model: "m", messages: [{ role: :user, content: "hi", thinking: [{ text: "no" }] }])
    end
  end

  def test_gc_frees_dropped_clients_and_requests
    20.times do |i|
      dropped = Llmkit::Client.new(provider: "ollama")
      Llmkit::Request.new(HELLO)
      dropped.close if i.even?
    end
    GC.start
    assert_predicate client.chat(HELLO), :ok?
  end
end
