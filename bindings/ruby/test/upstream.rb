require "json"
require "net/http"

# test/upstream/upstream.py, the fake provider, started on first use for the
# whole run (python3 from PATH) and stopped after it. A test that needs it
# and cannot start it fails: it never skips.
module Upstream
  SCRIPT = File.expand_path("../../../test/upstream/upstream.py", __dir__)
  FIXTURES = File.expand_path("../../../test/fixtures", __dir__)

  # A client's "prices" for the openai fixture's model, gpt-4.1-2025-04-14
  # (that is gpt-4.1): $1 per million input tokens, $2 per million output
  # tokens. Its 19 and 10 tokens cost COST dollars.
  PRICES = '{"openai": {"models": {"gpt-4.1": {"input": 1, "output": 2}}}}'.freeze
  COST = 39e-6

  class << self
    def port
      @port ||= start
    end

    def url(path = "") = "http://127.0.0.1:#{port}#{path}"

    # The base URL of `provider`'s routes.
    def base_url(provider)
      case provider
      when "openai", "openai-compatible" then url("/v1")
      when "gemini" then url("/v1beta")
      else url
      end
    end

    # The POSTs it received, in order: {"method", "path", "query", "headers", "body"}.
    def requests = JSON.parse(Net::HTTP.get(URI(url("/_upstream/requests"))))

    def clear_requests
      Net::HTTP.start("127.0.0.1", port) { _1.delete("/_upstream/requests") }
    end

    # test/fixtures/<name>.expected.json, parsed.
    def expected(name) = JSON.parse(fixture("#{name}.expected.json"))

    def fixture(name) = File.read(File.join(FIXTURES, name), encoding: "UTF-8")

    private

    # Reads "port N", the first line the server prints.
    def start
      raise @failure if @failure

      begin
        server = IO.popen(["python3", SCRIPT], "r")
        line = server.gets if IO.select([server], nil, nil, 10)
        raise "it printed #{line.inspect}, not \"port N\"" unless line =~ /\Aport (\d+)\n\z/

        port = Integer(Regexp.last_match(1))
      rescue StandardError => e
        stop(server) if server
        @failure = RuntimeError.new("cannot start #{SCRIPT}: #{e.message}")
        raise @failure
      end
      Minitest.after_run { stop(server) }
      port
    end

    def stop(server)
      Process.kill("TERM", server.pid)
    rescue Errno::ESRCH
      nil
    ensure
      server.close
    end
  end
end
