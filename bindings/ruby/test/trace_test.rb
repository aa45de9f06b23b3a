require "test_helper"
require "upstream"
require "json"
require "tmpdir"

# Trace records of a client's calls into a JSON Lines file, against
# test/upstream/upstream.py.
class TraceTest < Minitest::Test
  HELLO = { model: "m", messages: [{ role: :user, content: "Hello" }] }.freeze
  KEY = "sk-ruby-trace-never-stored".freeze

  def test_every_call_is_one_record_once_flushed
    Dir.mktmpdir do |dir|
      path = File.join(dir, "traces.jsonl")
      client = Llmkit::Client.new(provider: "openai", base_url: Upstream.base_url("openai"), api_key: KEY,
                                  "retry.attempts": 1, trace: "jsonl:#{path}", application: "ruby-test")
      3.times { client.chat(HELLO, options: { caller: "team-rb" }) }
      assert_same client, client.flush(10)
      stats = client.trace_stats
      assert_equal [3, 0, 0], [stats.written, stats.dropped, stats.queued]
      assert_predicate stats, :frozen?
      text = File.read(path)
      refute_includes text, KEY
      records = text.lines.map { JSON.parse(_1) }
      assert_equal 3, records.size
      assert_equal %w[m ruby-test team-rb ok],
                   records[0].values_at("gen_ai.request.model", "llmkit.application", "llmkit.caller",
                                        "llmkit.status")
      assert_operator records[0]["gen_ai.usage.output_tokens"], :>, 0
      client.close
    end
  end

  def test_flush_without_trace_and_after_close
    client = Llmkit::Client.new(provider: "openai", base_url: Upstream.base_url("openai"), api_key: KEY)
    assert_same client, client.flush(0)
    assert_equal [0, 0, 0, 0], client.trace_stats.to_a
    assert_raises(ArgumentError) { client.flush(-1) }
    client.close
    assert_raises(Llmkit::InvalidArgumentError) { client.flush }
  end
end
