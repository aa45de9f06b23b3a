require "test_helper"

# Expected ids and sizes are those of OpenAI's tiktoken for the same input.
class TokenizerTest < Minitest::Test
  HELLO = [15339, 1917].freeze # "hello world" in cl100k_base
  ENDOFTEXT = 100_257 # "<|endoftext|>" in cl100k_base

  def setup
    @tokenizer = Llmkit::Tokenizer.new("cl100k_base")
  end

  def teardown
    @tokenizer.close
  end

  def test_n_vocab_of_each_encoding
    { "cl100k_base" => 100_277, "o200k_base" => 200_019, "p50k_base" => 50_281, "r50k_base" => 50_257 }
      .each do |name, n_vocab|
        tokenizer = Llmkit::Tokenizer.new(name)
        assert_equal [name, n_vocab], [tokenizer.name, tokenizer.n_vocab]
        tokenizer.close
      end
  end

  def test_unknown_encoding_is_not_found
    assert_raises(Llmkit::NotFoundError) { Llmkit::Tokenizer.new("cl99k_base") }
  end

  def test_encode_count_and_decode_hello_world
    assert_equal HELLO, @tokenizer.encode("hello world")
    assert_equal 2, @tokenizer.count("hello world")
    decoded = @tokenizer.decode(HELLO)
    assert_equal "hello world", decoded
    assert_equal Encoding::UTF_8, decoded.encoding
  end

  def test_empty_text_and_ids
    assert_equal [], @tokenizer.encode("")
    assert_equal 0, @tokenizer.count("")
    assert_equal "", @tokenizer.decode([])
  end

  def test_non_ascii_round_trips
    text = "café 中文 👩‍💻"
    ids = @tokenizer.encode(text)
    assert_equal ids.size, @tokenizer.count(text)
    assert_equal text, @tokenizer.decode(ids)
  end

  def test_decoding_part_of_a_character_gives_invalid_utf8
    ids = @tokenizer.encode("👩")
    assert_operator ids.size, :>, 1 # cl100k_base splits this emoji's 4 bytes
    partial = @tokenizer.decode(ids.take(1))
    assert_equal Encoding::UTF_8, partial.encoding
    refute_predicate partial, :valid_encoding?
    assert_equal "👩".b, ids.map { @tokenizer.decode([_1]) }.join.b
  end

  def test_special_modes
    text = "a<|endoftext|>b"
    allowed = @tokenizer.encode(text, special: :allow)
    assert_equal 3, allowed.size
    assert_equal ENDOFTEXT, allowed[1]
    assert_equal text, @tokenizer.decode(allowed)

    error = assert_raises(Llmkit::InvalidArgumentError) { @tokenizer.encode(text) }
    assert_includes error.message, "<|endoftext|>"
    assert_raises(Llmkit::InvalidArgumentError) { @tokenizer.count(text, special: :disallow) }

    as_text = @tokenizer.encode(text, special: :text)
    assert_operator as_text.size, :>, 3
    refute_includes as_text, ENDOFTEXT
    assert_equal as_text.size, @tokenizer.count(text, special: :text)
  end

  def test_unknown_special_mode_is_an_argument_error
    assert_raises(ArgumentError) { @tokenizer.encode("a", special: :all) }
  end

  def test_invalid_utf8_reaches_llmkit_untouched
    ["ab\xFFc".b, "ab\xFFc", "ab\xE9c".force_encoding("ISO-8859-1")].each do |text|
      %i[encode count].each do |method|
        error = assert_raises(Llmkit::InvalidArgumentError) { @tokenizer.public_send(method, text) }
        assert_includes error.message, "byte offset 2"
      end
    end
  end

  def test_embedded_nul_is_text
    assert_equal "a\0b", @tokenizer.decode(@tokenizer.encode("a\0b"))
  end

  def test_unknown_or_out_of_range_ids
    error = assert_raises(Llmkit::InvalidArgumentError) { @tokenizer.decode([15339, 300_000]) }
    assert_includes error.message, "300000"
    assert_raises(RangeError) { @tokenizer.decode([-1]) }
    assert_raises(RangeError) { @tokenizer.decode([2**32]) }
  end

  def test_non_strings_are_refused
    assert_raises(TypeError) { @tokenizer.encode(nil) }
    assert_raises(TypeError) { @tokenizer.count(1) }
    assert_raises(TypeError) { @tokenizer.count_batch(["a", nil]) }
  end

  def test_count_batch_equals_each_count
    texts = ["hello world", "", "café 中文 👩‍💻", "a<|endoftext|>b" * 50, "x" * 10_000]
    counts = @tokenizer.count_batch(texts, special: :allow)
    assert_equal texts.map { @tokenizer.count(_1, special: :allow) }, counts
    assert_equal [], @tokenizer.count_batch([])
  end

  def test_count_batch_names_the_failing_text
    error = assert_raises(Llmkit::InvalidArgumentError) do
      @tokenizer.count_batch(["fine", "also fine", "bad \xFF".b, "bad <|endoftext|>"])
    end
    assert_includes error.message, "text 2"
    assert_includes error.message, "byte offset 4"
  end

  def test_for_model_and_encoding_for_model
    assert_equal "o200k_base", Llmkit.encoding_for_model("gpt-4o")
    assert_equal "cl100k_base", Llmkit.encoding_for_model("gpt-4")
    assert_equal "o200k_base", Llmkit::Tokenizer.for_model("gpt-4o").name
    error = assert_raises(Llmkit::NotFoundError) { Llmkit.encoding_for_model("claude-3") }
    assert_equal Llmkit::Status::NOT_FOUND, error.status
    assert_raises(Llmkit::NotFoundError) { Llmkit::Tokenizer.for_model("claude-3") }
  end

  def test_count_tokens_uses_the_models_encoding
    text = "Token counting, café 中文 👩‍💻 <|endoftext|>"
    o200k = Llmkit::Tokenizer.new("o200k_base")
    # Special-token spellings count as text.
    assert_equal o200k.count(text, special: :text), Llmkit.count_tokens("gpt-4o", text)
    assert_equal @tokenizer.count(text, special: :text), Llmkit.count_tokens("gpt-4", text)
    assert_raises(Llmkit::NotFoundError) { Llmkit.count_tokens("claude-3", text) }
    o200k.close
  end

  def test_estimate_tokens
    text = "An estimate for models without a public tokenizer."
    o200k_count = Llmkit::Tokenizer.new("o200k_base").count(text)

    estimate = Llmkit.estimate_tokens("claude-sonnet-4", text)
    assert_equal o200k_count, estimate.count
    refute_predicate estimate, :exact?

    exact = Llmkit.estimate_tokens("gpt-4o", text)
    assert_equal [o200k_count, true], [exact.count, exact.exact?]
    assert_raises(Llmkit::NotFoundError) { Llmkit.estimate_tokens("no-such-model", text) }
  end

  def test_count_chat_tokens_follows_openais_rules
    o200k = Llmkit::Tokenizer.new("o200k_base")
    assert_equal [1, 2], [o200k.count("user"), o200k.count("hello world")]
    messages = [{ role: "user", content: "hello world" }]
    # 3 per message, its role and content, 3 priming the reply.
    expected = 3 + o200k.count("user") + o200k.count("hello world") + 3
    assert_equal 9, expected
    assert_equal expected, Llmkit.count_chat_tokens("gpt-4o", messages)
    assert_equal expected, Llmkit.count_chat_tokens("gpt-4o", JSON.generate(messages))

    tools = [{ type: "function",
               function: { name: "get_weather", description: "Weather in a city",
                           parameters: { type: "object", properties: { city: { type: "string" } } } } }]
    assert_operator Llmkit.count_chat_tokens("gpt-4o", messages, tools), :>, expected
    o200k.close
  end

  def test_malformed_chat_json_is_an_invalid_argument
    assert_raises(Llmkit::InvalidArgumentError) { Llmkit.count_chat_tokens("gpt-4o", "[{") }
  end

  def test_closed_tokenizer_raises
    @tokenizer.close
    @tokenizer.close
    assert_predicate @tokenizer, :closed?
    [-> { @tokenizer.encode("a") }, -> { @tokenizer.count("a") }, -> { @tokenizer.decode([1]) },
     -> { @tokenizer.count_batch(["a"]) }, -> { @tokenizer.name }, -> { @tokenizer.n_vocab }].each do |call|
      error = assert_raises(Llmkit::InvalidArgumentError) { call.call }
      assert_equal "tokenizer is closed", error.message
    end
  end

  def test_a_freed_native_handle_raises_instead_of_dangling
    handle = Llmkit::Native.tokenizer_new("cl100k_base")
    Llmkit::Native.tokenizer_free(handle)
    assert_raises(RuntimeError) { Llmkit::Native.tokenizer_count(handle, "a", 0) }
  end

  def test_concurrent_encode_from_many_threads
    texts = 8.times.map { |i| "thread #{i}: café 中文 👩‍💻 " * 200 }
    expected = texts.map { @tokenizer.encode(_1) }
    threads = texts.map do |text|
      Thread.new { 20.times.map { @tokenizer.encode(text) }.uniq }
    end
    threads.zip(expected).each { |thread, ids| assert_equal [ids], thread.value }
  end

  def test_each_thread_gets_the_error_of_its_own_call
    threads = 4.times.map do |i|
      Thread.new do
        50.times.map do
          @tokenizer.encode("#{"x" * i}\xFF")
        rescue Llmkit::InvalidArgumentError => e
          e.message[/byte offset \d+/]
        end.uniq
      end
    end
    threads.each_with_index { |thread, i| assert_equal ["byte offset #{i}"], thread.value }
  end

  def test_other_threads_run_while_a_long_call_is_in_c
    text = "hello world, " * 1_000_000 # about 40 ms of work
    ticks = 0
    ticker = Thread.new do
      loop do
        ticks += 1
        sleep 0.0001
      end
    end
    Thread.pass until ticks.positive?
    before = ticks
    @tokenizer.count(text)
    during = ticks - before
    ticker.kill.join
    # Were the GVL held, the ticker could tick once at most: when the call
    # returns, its sleep hands the GVL straight back.
    assert_operator during, :>=, 10
  end

  def test_a_text_changed_by_another_thread_mid_call_is_safe
    text = "hello world " * 100_000
    counts = [@tokenizer.count(text), @tokenizer.count("#{text}more ")]
    writer = Thread.new do
      50.times do
        text << "more "
        text.slice!(-5, 5)
      end
    end
    5.times { assert_includes counts, @tokenizer.count(text) }
    writer.join
  end
end
