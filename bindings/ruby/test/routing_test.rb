require "test_helper"
require "upstream"

# A client routing among deployments (docs/routing.md), against
# test/upstream/upstream.py.
class RoutingTest < Minitest::Test
  CHAT = { model: "chat", messages: [{ role: :user, content: "Hello" }] }.freeze

  def setup
    Upstream.clear_requests
  end

  def teardown
    @client&.close
  end

  # Two deployments on the upstream: "primary" (OpenAI) serving the group
  # "chat", sending the fault header `primary_fault`, and "backup"
  # (Anthropic), which "chat" falls back to on server errors. Two tries per
  # group, a millisecond apart.
  def routed_client(primary_fault: "")
    deployments = [
      { name: "primary", provider: "openai", base_url: Upstream.base_url("openai"), api_key: "sk-test",
        model: "gpt-4o-mini", group: "chat", "header.x-upstream-fault": primary_fault },
      { name: "backup", provider: "anthropic", base_url: Upstream.base_url("anthropic"), api_key: "sk-test",
        model: "claude-3-5-haiku-latest" }
    ]
    @client = Llmkit::Client.new(deployments: JSON.generate(deployments),
                                 fallbacks: JSON.generate([{ from: "chat", to: ["backup"], on: ["server"] }]),
                                 "retry.attempts": 2, "retry.base_ms": 1)
  end

  def test_the_response_names_the_deployment_that_answered
    response = routed_client.chat(CHAT)
    assert_equal ["primary", "openai", 1], [response.deployment, response.provider, response.attempts]
  end

  def test_server_errors_fall_back_to_another_deployment
    response = routed_client(primary_fault: "status=500").chat(CHAT)
    assert_equal ["backup", "anthropic", 3], [response.deployment, response.provider, response.attempts]
    assert_equal %w[/v1/chat/completions /v1/chat/completions /v1/messages], Upstream.requests.map { _1["path"] }
    # The breakers are the deployments'.
    assert_equal [2, 2], @client.breaker_stats("primary").then { [_1.calls, _1.failures] }
    assert_equal [1, 0], @client.breaker_stats("backup").then { [_1.calls, _1.failures] }
  end

  def test_a_group_no_deployment_serves_raises_not_found
    assert_raises(Llmkit::NotFoundError) { routed_client.chat(CHAT.merge(model: "nowhere")) }
    assert_empty Upstream.requests
  end
end
