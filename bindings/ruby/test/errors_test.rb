require "test_helper"

class ErrorsTest < Minitest::Test
  # llmkit_status from llmkit.h, in value order.
  NAMES = %w[OK INVALID_ARGUMENT NOT_FOUND RATE_LIMITED TIMEOUT NETWORK PROVIDER_ERROR AUTH
             CANCELLED OUT_OF_MEMORY INTERNAL UNSUPPORTED BUDGET_EXCEEDED QUEUE_FULL UNAVAILABLE
             OVERLOADED].freeze

  def test_status_constants_follow_the_header
    NAMES.each_with_index do |name, code|
      assert_equal code, Llmkit::Status.const_get(name)
      assert_equal name, Llmkit.status_str(code)
    end
    assert_equal NAMES.sort, Llmkit::Status.constants.map(&:to_s).sort
  end

  def test_unknown_status_is_named_unknown
    assert_equal "UNKNOWN", Llmkit.status_str(NAMES.size)
  end

  def test_each_failing_status_has_an_error_class
    NAMES.each_with_index.drop(1).each do |name, code|
      error = Llmkit.const_get("#{name.split("_").map(&:capitalize).join}Error")
      assert_operator error, :<, Llmkit::Error
      assert_operator Llmkit::Error, :<, StandardError
      raised = error.new("why")
      assert_equal [code, name, "why"], [raised.status, raised.status_name, raised.message]
      assert_instance_of error, Llmkit::Error.for_status(code, "why")
    end
  end

  def test_a_status_newer_than_the_bindings_raises_a_plain_error
    error = Llmkit::Error.for_status(NAMES.size, "new")
    assert_instance_of Llmkit::Error, error
    assert_equal [NAMES.size, "UNKNOWN", "new"], [error.status, error.status_name, error.message]
  end

  def test_each_thread_gets_the_message_of_its_own_call
    threads = 4.times.map do |i|
      Thread.new do
        options = Llmkit::Options.new
        200.times.map do
          options.get("missing_#{i}")
        rescue Llmkit::NotFoundError => e
          e.message
        end.uniq
      end
    end
    threads.each_with_index do |thread, i|
      assert_equal ["option 'missing_#{i}' is not set"], thread.value
    end
  end
end
