require "test_helper"

class OptionsTest < Minitest::Test
  def setup
    @options = Llmkit::Options.new
  end

  def teardown
    @options.close
  end

  def test_set_then_get
    assert_same @options, @options.set("model", "gpt-4o-mini")
    assert_equal "gpt-4o-mini", @options.get("model")
    @options["cache.max_bytes"] = "1024"
    assert_equal "1024", @options["cache.max_bytes"]
  end

  def test_set_replaces_the_value
    @options.set("model", "a").set("model", "b")
    assert_equal "b", @options.get("model")
    assert_equal 1, @options.size
  end

  def test_unset_removes_the_key
    @options.set("a", "1").set("b", "2")
    assert_equal 2, @options.count
    assert_same @options, @options.unset("a")
    assert_equal 1, @options.size
    assert_nil @options["a"]
  end

  def test_missing_key_raises_not_found_from_get_and_unset
    [-> { @options.get("missing") }, -> { @options.unset("missing") }].each do |call|
      error = assert_raises(Llmkit::NotFoundError) { call.call }
      assert_equal "option 'missing' is not set", error.message
      assert_equal Llmkit::Status::NOT_FOUND, error.status
      assert_equal "NOT_FOUND", error.status_name
    end
  end

  def test_index_returns_nil_for_a_missing_key
    assert_nil @options["missing"]
  end

  def test_copies_are_independent
    @options.set("model", "a")
    %i[dup clone copy].each do |method|
      copy = @options.public_send(method)
      copy.set("model", "b").set("extra", "x")
      @options.set("only_original", "y")
      assert_equal ["a", 2], [@options["model"], @options.size]
      assert_equal ["b", 2], [copy["model"], copy.size]
      copy.close
      @options.unset("only_original")
    end
  end

  def test_malformed_key_is_an_invalid_argument
    error = assert_raises(Llmkit::InvalidArgumentError) { @options.set("Bad Key", "v") }
    assert_equal Llmkit::Status::INVALID_ARGUMENT, error.status
    assert_includes error.message, "Bad Key"
  end

  def test_invalid_utf8_reaches_llmkit_untouched
    ["ab\xFFc".b, "ab\xFFc", "ab\xE9c".force_encoding("ISO-8859-1")].each do |value|
      error = assert_raises(Llmkit::InvalidArgumentError) { @options.set("k", value) }
      assert_includes error.message, "byte offset 2"
    end
    assert_equal 0, @options.size
  end

  def test_error_messages_are_valid_utf8_even_quoting_bad_bytes
    error = assert_raises(Llmkit::InvalidArgumentError) { @options.set("k\xFF", "v") }
    assert_predicate error.message, :valid_encoding?
    assert_includes error.message, "'k\\xFF'"
  end

  def test_strings_round_trip_as_utf8
    @options.set("name", "caf\xC3\xA9".b)
    assert_equal "café", @options.get("name")
    assert_equal Encoding::UTF_8, @options.get("name").encoding
  end

  def test_embedded_nul_is_refused_not_truncated
    assert_raises(ArgumentError) { @options.set("k\0ey", "v") }
    assert_raises(ArgumentError) { @options.set("k", "v\0alue") }
    assert_equal 0, @options.size
  end

  def test_non_strings_are_refused
    assert_raises(TypeError) { @options.set("k", 1) }
    assert_raises(TypeError) { @options.get(nil) }
  end

  def test_close_is_idempotent_and_later_use_raises
    @options.close
    @options.close
    assert_predicate @options, :closed?
    [-> { @options.get("a") }, -> { @options["a"] = "b" }, -> { @options.size }, -> { @options.dup }].each do |call|
      error = assert_raises(Llmkit::InvalidArgumentError) { call.call }
      assert_equal "options are closed", error.message
    end
  end

  def test_a_freed_native_handle_raises_instead_of_dangling
    handle = Llmkit::Native.options_new
    Llmkit::Native.options_free(handle)
    # SWIG raises its ObjectPreviouslyDeleted, a RuntimeError.
    assert_raises(RuntimeError) { Llmkit::Native.options_count(handle) }
  end

  def test_gc_frees_dropped_options_and_skips_closed_ones
    100.times { |i| Llmkit::Options.new.set("k", "v").tap { _1.close if i.even? } }
    GC.start
    assert_equal "v", Llmkit::Options.new.set("k", "v").get("k")
  end
end
