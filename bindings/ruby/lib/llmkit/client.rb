# Provider calls: Llmkit::Client, Request, Response, Chunk and Embeddings.
# Required by lib/llmkit.rb, after the classes it builds on (Options, Cancel,
# errors, Waiting).
module Llmkit
  # A chat request, built from a Hash (Symbol or String keys):
  #
  #   Llmkit::Request.new(
  #     model: "gpt-4o-mini",
  #     system: "Be brief.",            # or { text: "...", cache: true }
  #     messages: [
  #       { role: :user, content: "What is on this picture?" },
  #       { role: :user, content: ["Or this one?", { image: "https://..." }], cache: true },
  #       { role: :assistant, tool_calls: [{ id: "call_1", name: "weather", arguments: { city: "Paris" } }],
  #         thinking: [{ text: "...", signature: "..." }] },
  #       { role: :tool, tool_call_id: "call_1", content: "18 C, sunny" }
  #     ],
  #     tools: [{ name: "weather", description: "Weather in a city", parameters: { type: "object" } }],
  #     tool_choice: "auto", response_format: "json",   # or a JSON schema, a Hash
  #     temperature: 0.2, top_p: 0.9, max_tokens: 200, seed: 7, thinking_budget: 1024,
  #     stop: ["\n\n"], extra: { reasoning_effort: "low" }
  #   )
  #
  # Messages are Hashes: :role (user, assistant, or tool for a tool's
  # result), :content (a String, or an Array of parts: Strings, { text: },
  # { image: URL } with an http(s) or data: URL), :tool_calls (assistant;
  # each { id:, name:, arguments:, signature: }), :thinking (assistant: the
  # reasoning blocks of Response#thinking, { text:, signature:, redacted: }
  # each), :tool_call_id (tool), and cache: true to mark a prompt-cache
  # breakpoint after the message. #add_response and #add_message append to a
  # built request. JSON values (arguments, parameters, response_format's
  # schema, extra, a tool result) may be Hashes or JSON Strings. Building
  # checks every field at once: a bad value or an unknown top-level field
  # raises InvalidArgumentError naming it; a value of the wrong class,
  # TypeError. Client#chat takes the Hash itself too; a Request is built
  # once and sent any number of times, from any number of threads.
  class Request
    include InUse

    # Set, one by one, with llmkit_request_set; the others are built below.
    BUILT = %w[system messages tools stop].freeze
    JSON_FIELDS = %w[response_format extra].freeze
    private_constant :BUILT, :JSON_FIELDS

    def initialize(fields = {})
      fields = Hash.try_convert(fields) or raise TypeError, "a request must be a Hash, not #{fields.class}"
      @handle = Native.request_new
      # Calls sending it, for #close to leave it to them; the last one out
      # frees a closed request.
      @calls = 0
      @closing = nil
      built = false
      begin
        build(fields.transform_keys(&:to_s))
        built = true
      ensure
        # Whatever ended the build, the half-built request is freed.
        close unless built
      end
    end

    # Frees the request; calls sending it from other threads finish first.
    # Any later use raises InvalidArgumentError.
    def close
      native = @handle or return
      @handle = nil
      @closing = native
      free_if_idle
      nil
    end

    def closed? = @handle.nil?

    # Appends a message (a Hash, as in :messages), e.g. a tool's result after
    # #add_response. Returns self. Raises InvalidArgumentError while a call
    # sends the request (it reads the request without the GVL); after any
    # other error the request may hold part of the message: build it anew.
    def add_message(message)
      handle
      raise InvalidArgumentError, "the request is being sent: add to it after the call" if @calls.positive?

      build_message(message, "message")
      self
    end

    # Appends `response`'s turn as an assistant message (Response#to_message:
    # its text, reasoning blocks and tool calls with their signatures, as they
    # came), so that tool results can follow and the conversation go on.
    # Anthropic with thinking on, and Gemini 3, refuse a tool-use turn sent
    # back without them. Raises InvalidArgumentError for an error answer, one
    # that did not finish (a cut stream) or one with nothing to add. Returns
    # self.
    def add_response(response)
      raise TypeError, "a response must be an Llmkit::Response, not #{response.class}" unless response.is_a?(Response)

      add_message(response.to_message)
    end

    private

    def handle
      @handle or raise InvalidArgumentError, "request is closed"
    end

    def free_if_idle
      return unless @closing && @calls.zero?
      closing, @closing = @closing, nil
      Native.request_free(closing)
    end

    def build(fields)
      fields.each do |key, value|
        next if BUILT.include?(key) || value.nil?
        Native.request_set(@handle, key, JSON_FIELDS.include?(key) ? json_text(value) : value.to_s)
      end
      add_system(fields["system"])
      list(fields["messages"], "messages").each_with_index { |message, i| build_message(message, "messages[#{i}]") }
      list(fields["tools"], "tools").each_with_index { |tool, i| add_tool(tool, "tools[#{i}]") }
      stop = fields["stop"]
      (stop.is_a?(String) ? [stop] : list(stop, "stop")).each { Native.request_add_stop(@handle, _1) }
    end

    def add_system(system)
      return if system.nil?
      return Native.request_set(@handle, "system", system) unless system.is_a?(Hash)

      system = fields_of(system, "system", %i[text cache])
      Native.request_set(@handle, "system", system[:text])
      Native.request_cache_breakpoint(@handle) if system[:cache]
    end

    def build_message(message, where)
      message = fields_of(message, where, %i[role content tool_calls tool_call_id thinking cache])
      role = message.fetch(:role) { raise InvalidArgumentError, "#{where} has no :role" }.to_s
      if role == "tool"
        id = message.fetch(:tool_call_id) { raise InvalidArgumentError, "#{where}: a tool result needs :tool_call_id" }
        Native.request_add_tool_result(@handle, id, json_text(message[:content] || ""))
      else
        parts = content_parts(message[:content], where)
        first = parts.first&.first == :text ? parts.shift[1] : ""
        Native.request_add_message(@handle, role, first)
        parts.each do |kind, value|
          kind == :text ? Native.request_add_text(@handle, value) : Native.request_add_image(@handle, value)
        end
        list(message[:thinking], "#{where}.thinking").each_with_index do |block, i|
          block = fields_of(block, "#{where}.thinking[#{i}]", %i[text signature redacted])
          Native.request_add_thinking(@handle, block[:text] || "", block[:signature] || "", block[:redacted] ? 1 : 0)
        end
        list(message[:tool_calls], "#{where}.tool_calls").each_with_index do |call, i|
          call = fields_of(call, "#{where}.tool_calls[#{i}]", %i[id name arguments signature])
          Native.request_add_tool_call(@handle, call[:id], call[:name], json_text(call[:arguments] || {}))
          Native.request_set_tool_call_signature(@handle, call[:signature]) unless call[:signature].to_s.empty?
        end
      end
      Native.request_cache_breakpoint(@handle) if message[:cache]
    end

    # [[:text, String] or [:image, URL], ...]
    def content_parts(content, where)
      return [[:text, content]] if content.is_a?(String)

      list(content, "#{where}.content").each_with_index.map do |part, i|
        next [:text, part] if part.is_a?(String)

        part = fields_of(part, "#{where}.content[#{i}]", %i[text image])
        unless part.size == 1
          raise InvalidArgumentError, "#{where}.content[#{i}] must hold one of :text or :image"
        end
        part.first
      end
    end

    def add_tool(tool, where)
      tool = fields_of(tool, where, %i[name description parameters])
      parameters = tool[:parameters] && json_text(tool[:parameters])
      Native.request_add_tool(@handle, tool[:name], tool[:description], parameters)
    end

    # JSON text of a Hash or Array; a String (or Symbol) as it is.
    def json_text(value)
      value.is_a?(String) || value.is_a?(Symbol) ? value.to_s : JSON.generate(value)
    end

    # An Array (nil: empty).
    def list(value, where)
      return [] if value.nil?

      Array.try_convert(value) or raise TypeError, "#{where} must be an Array, not #{value.class}"
    end

    # A Hash's members by Symbol; one not in `known` is an error, as a typo
    # that would drop a field silently.
    def fields_of(value, where, known)
      hash = Hash.try_convert(value) or raise TypeError, "#{where} must be a Hash, not #{value.class}"
      hash = hash.transform_keys(&:to_sym)
      unknown = hash.keys - known
      unless unknown.empty?
        raise InvalidArgumentError, "#{where}: unknown field #{unknown.first.inspect} (#{known.join(", ")})"
      end
      hash
    end
  end

  # A piece of a streamed answer, as it arrives: kind :text, :reasoning or
  # :tool_call (a piece of a tool call's arguments), its text, and for a
  # tool call its position in the answer (tool_index) and, on its first
  # piece only, its id and name (nil otherwise).
  Chunk = Struct.new(:kind, :text, :tool_index, :tool_id, :tool_name) do
    def text? = kind == :text
    def reasoning? = kind == :reasoning
    def tool_call? = kind == :tool_call
  end

  # A provider's answer, normalised (docs/providers.md): a success, or, as
  # the #response of the Error a call raises, the provider's error with its
  # details. Frozen; times are seconds.
  class Response
    # Token counts: cached_input_tokens and cache_write_tokens are parts of
    # input_tokens, reasoning_tokens a part of output_tokens.
    Usage = Struct.new(:input_tokens, :output_tokens, :cached_input_tokens, :cache_write_tokens,
                       :reasoning_tokens)

    # A tool call the model made: `arguments` is its JSON text, `signature`
    # Gemini's thoughtSignature ("" for none). #to_h fits a request's
    # :tool_calls (with :signature only when there is one, as in #json).
    ToolCall = Struct.new(:id, :name, :arguments, :signature) do
      def parsed_arguments = JSON.parse(arguments)
      def to_h = signature.to_s.empty? ? super.except(:signature) : super
    end

    # A block of reasoning as Anthropic or Gemini sent it: its text ("" for
    # a redacted block, or a signature Gemini put on a text part), its
    # opaque signature (a redacted block's data), and whether it is
    # Anthropic's redacted_thinking. The provider checks it when it comes
    # back: keep it as it is. #to_h fits a message's :thinking.
    Thinking = Struct.new(:text, :signature, :redacted) do
      def redacted? = redacted
    end

    # text, reasoning: the answer's text and thinking ("" when none);
    # thinking: Anthropic's and Gemini's reasoning blocks (Thinking), in
    # order, for the next turn (Request#add_response).
    # finish_reason: :stop, :length, :tool_calls, :content_filter, :refusal,
    # :error or :none (not finished: a cut stream); finish_reason_raw the
    # provider's own value. model, id: as the provider named them; provider:
    # that of the deployment that answered. deployment: the deployment that
    # answered (or gave the last failure): its name in the client's
    # "deployments" (docs/routing.md), or the model of its own provider.
    attr_reader :text, :reasoning, :thinking, :finish_reason, :finish_reason_raw, :usage, :tool_calls,
                :model, :id, :provider, :deployment
    # status: an Llmkit::Status code; http_status: 0 without HTTP (a parsed
    # answer). error_message, error_detail ("context_length_exceeded",
    # "overloaded"): nil on success. retry_after: the provider's hint in
    # seconds, nil when it gave none.
    attr_reader :status, :http_status, :error_message, :error_detail, :retry_after
    # latency: from sending to the end of the answer. first_token: to the
    # first streamed piece (nil unstreamed). max_gap: the longest pause
    # between two pieces. chunks: pieces streamed. tokens_per_second:
    # output tokens after the first. attempts: the tries the call took,
    # retries included (1 for an answer from the cache or a hook).
    attr_reader :latency, :first_token, :max_gap, :chunks, :tokens_per_second, :attempts
    # cost_usd: the answer's cost in US dollars from the client's price
    # table (docs/cost.md): 0.0 for an answer no provider was paid for (a
    # before hook's), nil when the model has no price.
    attr_reader :cost_usd

    # Whether the answer came from the client's cache (Client#cache=).
    def cached? = @cached
    # raw: the body as received, with the call option raw: true (nil
    # otherwise). json: the normalised answer as one JSON object (to_h
    # parses it).
    attr_reader :raw, :json

    NUMBERS = %w[status http_status input_tokens output_tokens cached_input_tokens cache_write_tokens
                 reasoning_tokens retry_after_ms latency_ms first_token_ms max_gap_ms chunks
                 output_tokens_per_second tool_calls thinking attempts cost_usd cached].freeze
    private_constant :NUMBERS

    # Parses a recorded answer of `provider` ("openai", "anthropic",
    # "gemini", "ollama"...): a whole body, or with stream: true a whole SSE
    # or NDJSON stream, as a call would. An error body raises the Error for
    # its status (classified by the body alone) with its #response; a body
    # that is no answer raises ProviderErrorError (a cut stream
    # NetworkError).
    def self.parse(provider, body, stream: false)
      from_call(*Native.response_parse(provider, body, stream ? 1 : 0))
    end

    def ok? = status == Status::OK
    def error? = !ok?
    def to_s = text
    def to_h = JSON.parse(json)

    # The assistant message this answer is, a Hash for a request's
    # :messages: its text, thinking and tool calls with their signatures.
    # Raises InvalidArgumentError for an error answer, one that did not
    # finish (a cut stream) or one with nothing to add.
    def to_message
      raise InvalidArgumentError, "an error answer is no turn to add (#{error_message})" if error?
      raise InvalidArgumentError, "the answer did not finish (a cut stream): no turn to add" if finish_reason == :none
      if text.empty? && thinking.empty? && tool_calls.empty?
        raise InvalidArgumentError, "the answer has no text, thinking or tool call to add"
      end

      { role: :assistant, content: text, thinking: thinking.map(&:to_h), tool_calls: tool_calls.map(&:to_h) }
    end

    # The Response of a native call's [status, message, handle], or the
    # Error it raises.
    def self.from_call(status, message, handle)
      response = handle && read(handle)
      raise Error.for_status(status, message, response) unless status == Status::OK
      response
    end

    # Reads every field of a native response, which it then frees.
    def self.read(handle)
      copy(handle)
    ensure
      Native.response_free(handle)
    end

    # Reads every field of a native response that it leaves to its owner
    # (a hook's event).
    def self.copy(handle)
      n = NUMBERS.to_h { [_1, Native.response_number(handle, _1)] }
      tool_calls = Array.new(n["tool_calls"].to_i) do
        ToolCall.new(*Native.response_tool_call(handle, _1), Native.response_tool_call_signature(handle, _1)).freeze
      end
      thinking = Array.new(n["thinking"].to_i) { Thinking.new(*Native.response_thinking(handle, _1)).freeze }
      get = ->(field) { Native.response_get(handle, field) }
      seconds = ->(ms) { ms.negative? ? nil : ms / 1000.0 }
      new(
        text: get["text"], reasoning: get["reasoning"],
        finish_reason: Native.finish_reason_str(Native.response_finish_reason(handle)).to_sym,
        finish_reason_raw: get["finish_reason_raw"],
        usage: Usage.new(*%w[input_tokens output_tokens cached_input_tokens cache_write_tokens
                             reasoning_tokens].map { n[_1].to_i }).freeze,
        tool_calls: tool_calls.freeze, thinking: thinking.freeze, model: get["model"], id: get["id"],
        provider: get["provider"], deployment: get["deployment"],
        status: n["status"].to_i, http_status: n["http_status"].to_i,
        error_message: presence(get["error.message"]), error_detail: presence(get["error.detail"]),
        retry_after: seconds[n["retry_after_ms"]], latency: seconds[n["latency_ms"]],
        first_token: seconds[n["first_token_ms"]], max_gap: seconds[n["max_gap_ms"]],
        chunks: n["chunks"].to_i, tokens_per_second: n["output_tokens_per_second"],
        attempts: n["attempts"].to_i, cost_usd: cost(n["cost_usd"]), cached: n["cached"] == 1,
        raw: presence(get["raw"]), json: Native.response_json(handle)
      )
    end

    def self.presence(text) = text.empty? ? nil : text.freeze

    # A cost in USD; nil for the library's -1, no price.
    def self.cost(usd) = usd.negative? ? nil : usd

    private_class_method :new, :from_call, :read, :copy, :presence, :cost

    def initialize(**fields)
      fields.each { |name, value| instance_variable_set(:"@#{name}", value) }
      freeze
    end
  end

  # Embedding vectors, one Array of Floats per input, in input order, and
  # the input tokens the provider counted (0 when it reported none).
  class Embeddings
    include Enumerable

    attr_reader :vectors, :input_tokens

    # Parses a recorded embeddings answer of `provider` (OpenAI's and
    # compatible servers', Gemini's batchEmbedContents, Ollama's /api/embed).
    # An error body raises its status; a body that is no embeddings answer,
    # ProviderErrorError.
    def self.parse(provider, body) = read(Native.vectors_parse(provider, body))

    # Reads a native answer, which it then frees.
    def self.read(handle)
      vectors = Array.new(Native.vectors_count(handle)) { Native.vectors_get(handle, _1).freeze }
      new(vectors.freeze, Native.vectors_input_tokens(handle))
    ensure
      Native.vectors_free(handle)
    end
    private_class_method :read

    def initialize(vectors, input_tokens)
      @vectors = vectors
      @input_tokens = input_tokens
      freeze
    end

    def each(&) = vectors.each(&)
    def [](index) = vectors[index]
    def size = vectors.size
    alias length size
    alias to_a vectors
  end

  # A client of one provider: OpenAI (or any OpenAI-compatible server),
  # Anthropic, Gemini or Ollama, or of several deployments of them
  # ("deployments"), with its own HTTP connections on a background thread.
  # One client may be used from many threads at once.
  #
  #   client = Llmkit::Client.new(provider: "anthropic", model: "claude-sonnet-4-5")
  #   response = client.chat(messages: [{ role: :user, content: "Hello" }], max_tokens: 100)
  #   response.text; response.usage.output_tokens
  #   client.chat(request) { |chunk| print chunk.text if chunk.text? }   # streamed
  #   client.embed(["a", "b"], model: "text-embedding-3-small").vectors
  class Client
    include InUse

    # `options`: an Llmkit::Options, or a Hash whose keys (Symbols or
    # Strings) and values become Strings with #to_s, with llmkit.h's keys:
    #
    #   Client.new(provider: "openai", model: "gpt-4o-mini", "timeout.total": 30_000,
    #              "header.http-referer": "https://example.com")
    #
    # "provider" (openai, openai-compatible, anthropic, gemini, ollama),
    # "base_url", "api_key" (default: the provider's environment variable),
    # "model", "timeout.connect" / "first_byte" / "total" / "idle" in
    # milliseconds, "header.NAME", "scopes" (the hooks' scopes it is in,
    # "a,b"), "retry.attempts" (tries per call in all, default 3; 1: no
    # retry), "retry.base_ms", "retry.max_ms", "breaker" (default true: a
    # circuit breaker per deployment, #breaker_stats) and "breaker.*", "prices"
    # (Response#cost_usd), "cache.scope" (the tenant of its cache keys,
    # #cache=), "deployments" and "fallbacks" (JSON text or a file: route
    # among several deployments, docs/routing.md; Response#deployment names
    # the one that answered), "trace" (a SQLite path, "jsonl:PATH" or a
    # postgresql:// URL: a record of every call, written in the background;
    # #flush, #trace_stats, docs/traces.md) with "trace.queue",
    # "trace.on_full", "trace.content", "trace.close_timeout_ms" and
    # "application", and the rest of llmkit.h. An unknown
    # option or a bad value raises InvalidArgumentError naming it; a
    # provider that needs a key and has none, AuthError. The options are
    # copied.
    def initialize(options)
      @handle = Waiting.with_native_options(options) { Native.client_new(_1) }
      # The signals of the calls in flight, for #close to end them.
      @waiting = {}.compare_by_identity
      # Calls inside the client, for #close to leave it to them; the last
      # one out frees a closed client.
      @calls = 0
      @closing = nil
    end

    # Client.new(options), closed when the block returns (or raises); the
    # block's value. Without a block, the client.
    def self.open(options)
      client = new(options)
      return client unless block_given?

      begin
        yield client
      ensure
        client.close
      end
    end

    # Sends a request and returns the Response: `request` (a Request, or a
    # Hash to build one), or the request's fields as keywords:
    #
    #   client.chat(model: "gpt-4o-mini", messages: [{ role: :user, content: "Hi" }])
    #   client.chat(request, options: { raw: true, "timeout.total": 30_000 })
    #
    # With a block, the answer is streamed and each Chunk yielded as it
    # arrives, on this thread; raising in the block (or break, throw) stops
    # the call, and the exception (or jump) leaves #chat itself.
    #
    # `options` are the call's own (llmkit.h's call options): raw: true
    # keeps the body (Response#raw); stream: true streams without a block
    # (for the timings); deadline_ms: the whole call, retries and their
    # waits included; "timeout.total" and the other timeouts in ms;
    # "header.NAME"; for the hooks (Client#hooks=), tags: "a,b" and
    # "meta.KEY"; cache: "use", "bypass" or "refresh" (#cache=); caller and
    # "ratelimit.wait_ms" (#ratelimiter=). `cancel` (an Llmkit::Cancel) ends the call with
    # CancelledError from any thread, as Ruby's own Thread#raise,
    # Thread#kill or Ctrl-C end it with their own effect (the call runs
    # without the GVL); an interrupt that raises nothing ends it with
    # CancelledError too: a call is never sent again behind the caller's
    # back.
    #
    # A call failing as another try may cure (rate limited, overloaded, the
    # network, a timeout, a 5xx) is tried again after a backoff, up to the
    # client's "retry.attempts" (Response#attempts). A failing call raises
    # the Error of its status: RateLimitedError, OverloadedError, AuthError,
    # InvalidArgumentError (a bad request, or a context too long:
    # error_detail "context_length_exceeded"), NotFoundError (a model no
    # deployment serves too), ProviderErrorError, TimeoutError, NetworkError
    # (a stream cut short too), CancelledError, UnavailableError (the
    # deployment's circuit is open: #breaker_stats); when the provider
    # answered, the error's #response holds its details (retry_after,
    # http_status).
    #
    # The block takes asynchronous exceptions (Thread#raise, Thread#kill,
    # Timeout) at once, under Thread.handle_interrupt(Object => :immediate):
    # a mask of the caller's does not reach into it.
    def chat(request = nil, cancel: nil, options: {}, **fields, &on_chunk)
      unless request.nil? || fields.empty?
        raise ArgumentError, "chat takes a request or its fields as keywords, not both"
      end
      callback = on_chunk && lambda do |kind, text, index, id, name|
        tool = kind == Native::CHUNK_TOOL_CALL
        chunk = Chunk.new(CHUNK_KINDS.fetch(kind), text, tool ? index : nil, id.empty? ? nil : id,
                          name.empty? ? nil : name).freeze
        # The stream runs with asynchronous exceptions deferred (see below);
        # the block itself takes them at once, under the native rb_protect.
        Thread.handle_interrupt(Object => :immediate) { on_chunk.call(chunk) }
      end
      with_request(request || fields) do |native_request|
        with_call_options(options) do |call_options|
          outcome = call(cancel) do |client, signal|
            # None may be raised as the stream's pieces and the hooks give
            # the GVL back (llmkit_ruby.swg): deferred to blocking points,
            # where the native layer takes them, or to the blocks.
            Thread.handle_interrupt(Object => :on_blocking) do
              Native.client_chat(client, native_request, call_options, signal, callback)
            end
          end
          Response.__send__(:from_call, *outcome)
        end
      end
    end

    # Embeds each String of `texts` with `model` (nil: the client's
    # "model"): an Embeddings of one vector per text, in their order. The
    # texts go in batches the provider accepts, several at once
    # ("embeddings.concurrency"); when any fails, the call raises its
    # status. `options`: "dimensions", the timeouts, "header.NAME".
    # `cancel` and Ruby's interrupts end it as they end #chat.
    def embed(texts, model: nil, cancel: nil, options: {})
      texts = Array.try_convert(texts) or raise TypeError, "texts must be an Array of Strings, not #{texts.class}"
      with_call_options(options) do |call_options|
        status, message, handle = call(cancel) do |client, signal|
          Native.client_embed(client, model, texts, call_options, signal)
        end
        raise Error.for_status(status, message) unless status == Status::OK

        Embeddings.__send__(:read, handle)
      end
    end

    # Frees the client. Calls in flight in other threads end at once and
    # raise InvalidArgumentError ("client is closed"); it is freed when the
    # last has left it. Any later call raises InvalidArgumentError.
    def close
      native = @handle or return
      @handle = nil
      @closing = native
      # Calls register before they read @handle (see #call), so each is
      # either seen here or sees the client closed; a triggered signal stays
      # triggered, so one not yet in C returns at once.
      @waiting.keys.each { Native.cancel_trigger(_1) }
      free_if_idle
      nil
    end

    def closed? = @handle.nil?

    # Attaches `hooks` (an Llmkit::Hooks) for the calls that start from now
    # on; nil detaches them. Calls already running keep the hooks they began
    # with. Closed hooks raise InvalidArgumentError.
    def hooks=(hooks)
      raise TypeError, "hooks must be an Llmkit::Hooks or nil, not #{hooks.class}" unless hooks.nil? || hooks.is_a?(Hooks)

      client = handle
      @hooks_link ||= Hooks.__send__(:link, self, client)
      @hooks_link.attach(hooks) { Native.client_set_hooks(client, _1) }
    end

    # The Llmkit::Hooks attached, or nil.
    def hooks = @hooks_link&.hooks

    # Puts `cache` (an Llmkit::Cache) in front of the calls that start from
    # now on; nil takes it away. A call is keyed by its request as made
    # (after the before hooks), its model and the client's "cache.scope",
    # not by the provider that answers. A hit ends the call with the stored
    # answer (Response#cached?, cost_usd 0.0, attempts 1), spends no rate
    # limit, and streams through the call's block first (docs/cache.md).
    # The client keeps `cache` referenced while it is set; do not close it
    # while a client uses it: close the clients first.
    def cache=(cache)
      raise TypeError, "cache must be an Llmkit::Cache or nil, not #{cache.class}" unless cache.nil? || cache.is_a?(Cache)

      Native.client_set_cache(handle, cache&.__send__(:handle))
      @cache = cache
    end

    # The Llmkit::Cache set, or nil.
    attr_reader :cache

    # Limits the calls that start from now on per caller with `limiter` (an
    # Llmkit::RateLimiter); nil takes it away. The key is the call option
    # caller ("" without one); each call is one request, a concurrency slot
    # and its estimated tokens, settled to the provider's usage when it
    # ends. A refused call raises RateLimitedError naming the caller without
    # reaching the provider; the call option "ratelimit.wait_ms" waits that
    # long for room instead (docs/ratelimit.md). Kept referenced as #cache=
    # keeps its cache; do not close it while a client uses it.
    def ratelimiter=(limiter)
      unless limiter.nil? || limiter.is_a?(RateLimiter)
        raise TypeError, "ratelimiter must be an Llmkit::RateLimiter or nil, not #{limiter.class}"
      end

      Native.client_set_ratelimiter(handle, limiter&.__send__(:handle))
      @ratelimiter = limiter
    end

    # The Llmkit::RateLimiter set, or nil.
    attr_reader :ratelimiter

    # A deployment's circuit breaker (docs/providers.md, "Circuit breakers"):
    # state :closed (calls go), :open (they fail at once with
    # UnavailableError) or :half_open (probes go); opened (times it
    # opened), rejected (calls failed at once), calls and failures (in the
    # window now), retry_in (open: seconds until the next probe).
    BreakerStats = Struct.new(:state, :opened, :rejected, :calls, :failures, :retry_in)

    # The frozen BreakerStats of `deployment`'s circuit breaker: a name in
    # the client's "deployments", or a model of its own provider
    # ("breaker.*" options). Raises NotFoundError before the first call to
    # it, or with breaker: false.
    def breaker_stats(deployment)
      native do |client|
        stat = ->(name) { Native.client_breaker_stat(client, deployment.to_s, name) }
        state = stat["state"] # first: NotFoundError for a model not called yet
        BreakerStats.new(BREAKER_STATES.fetch(state, state), *%w[opened rejected calls failures].map(&stat),
                         stat["retry_in_ms"] / 1000.0).freeze
      end
    end

    # What the budget of `kind` (:application or :caller) for `key` has
    # spent this UTC `per` (:day or :month), in dollars, as the client's
    # "budget.store" holds it. Raises NotFoundError when no rule of the
    # client's "budgets" covers it, UnavailableError when a shared store
    # cannot be reached. A call whose budget is spent raises
    # BudgetExceededError without reaching the provider.
    def budget_spent(kind, key, per: :day)
      native { Native.client_budget_spent(_1, kind.to_s, key.to_s, per.to_s) }
    end

    # Waits until the trace records of every call that ended before it are
    # written ("trace"; docs/traces.md), at most `timeout` seconds (nil: no
    # limit), without the GVL. Returns self, at once for a client without
    # "trace"; raises TimeoutError while records are still queued (with the
    # database's last error when it is failing: they are written once it is
    # back). #close writes them too.
    def flush(timeout = 10)
      ms = Waiting.milliseconds_left(Waiting.deadline_after(timeout, "timeout"))
      native { Native.client_flush(_1, ms) }
      self
    end

    # The trace writer's figures (docs/traces.md): written (records in the
    # database), dropped (lost to a full queue, "trace.on_full" "drop"),
    # failed_writes (batches the database refused, each tried again later),
    # queued (not yet written). All 0 for a client without "trace".
    TraceStats = Struct.new(:written, :dropped, :failed_writes, :queued)

    # The frozen TraceStats of the client.
    def trace_stats
      native do |client|
        TraceStats.new(*TraceStats.members.map { Native.client_trace_stat(client, _1.to_s) }).freeze
      end
    end

    # The client's metrics in Prometheus text exposition format 0.0.4
    # (docs/metrics.md names every family).
    def metrics
      native { Native.client_metrics(_1) }
    end

    # A snapshot of the client (docs/metrics.md): a Hash with symbol keys,
    # :health, :calls, :series, :breakers, :hooks, the parts it has, and
    # :recommendations ([{code:, message:}]).
    def stats
      JSON.parse(native { Native.client_stats_json(_1) }, symbolize_names: true)
    end

    # How the client is doing: state (:ok, :degraded or :unhealthy) and
    # reasons (sentences; none when :ok).
    Health = Struct.new(:state, :reasons)

    # The frozen Health of the client.
    def health
      native do |client|
        state, reasons = Native.client_health(client)
        Health.new(HEALTH_STATES.fetch(state), reasons.split("\n").freeze).freeze
      end
    end

    CHUNK_KINDS = {
      Native::CHUNK_TEXT => :text,
      Native::CHUNK_REASONING => :reasoning,
      Native::CHUNK_TOOL_CALL => :tool_call
    }.freeze
    BREAKER_STATES = { 0 => :closed, 1 => :open, 2 => :half_open }.freeze
    HEALTH_STATES = { 0 => :ok, 1 => :degraded, 2 => :unhealthy }.freeze
    private_constant :CHUNK_KINDS, :BREAKER_STATES, :HEALTH_STATES

    private

    def handle
      @handle or raise InvalidArgumentError, "client is closed"
    end

    def free_if_idle
      return unless @closing && @calls.zero? && @waiting.empty?
      closing, @closing = @closing, nil
      Native.client_free(closing)
      @hooks_link&.client_freed
    end

    def with_request(request, &block)
      return request.__send__(:native, &block) if request.is_a?(Request)

      built = Request.new(request)
      begin
        built.__send__(:native, &block)
      ensure
        built.close
      end
    end

    # `options`: a Hash (nil or empty: none) or an Llmkit::Options.
    def with_call_options(options)
      return yield options.__send__(:handle) if options.is_a?(Options)

      settings = Hash.try_convert(options || {}) or
        raise TypeError, "options: must be a Hash or an Llmkit::Options, not #{options.class}"
      return yield nil if settings.empty?

      Waiting.with_options(settings) { yield _1.__send__(:handle) }
    end

    # One call in C with its own native signal, which `cancel`, #close and
    # Ruby's interrupts trigger: the native call's [status, message,
    # handle], a call ended by #close made INVALID_ARGUMENT.
    def call(cancel)
      unless cancel.nil? || cancel.is_a?(Cancel)
        raise TypeError, "cancel: must be an Llmkit::Cancel, not #{cancel.class}"
      end
      signal = Native.cancel_new
      @calls += 1
      begin
        @waiting[signal] = true
        client = handle # raises once closed
        status, message, native = cancel ? cancel.__send__(:linked, signal) { yield client, signal } : yield(client, signal)
        if status == Status::CANCELLED && closed?
          [Status::INVALID_ARGUMENT, "client is closed", nil]
        else
          [status, message, native]
        end
      ensure
        @waiting.delete(signal)
        @calls -= 1
        free_if_idle
      end
    end
  end
end
