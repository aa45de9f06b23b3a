# The response cache: Llmkit::Cache and Llmkit.replay. Required by
# lib/llmkit.rb, after the classes it builds on (Options, Cancel, errors).
module Llmkit
  # A cache of provider answers keyed by the request that produced them
  # (llmkit_cache). Keys are 32 hex digits from #key: JSON key order and
  # number spelling do not change them, the scope (tenant), the provider and
  # every field that can change the answer do. Values are Strings of any
  # bytes, returned tagged UTF-8 (JSON, the usual value, is); call #b on one
  # that holds binary data. One cache may be used from many threads at once.
  #
  #   cache = Llmkit::Cache.new(ttl: 600, temperature: "skip")
  #   key, use = cache.key(request, provider: "openai", scope: "tenant-7")
  #   answer = cache.fetch(key, use: use) { http_post(request) }
  class Cache
    include InUse

    STATS = %i[hits misses evictions expirations entries bytes waits backend_errors].freeze

    # Native::CACHE_* as #key returns them.
    USES = {
      Native::CACHE_BYPASS => :bypass,
      Native::CACHE_USE => :use,
      Native::CACHE_REFRESH => :refresh
    }.freeze

    # The longest wait llmkit takes, about 73 years, in milliseconds.

    # `options`: an Llmkit::Options, or a Hash whose keys (Symbols or
    # Strings) and values become Strings with #to_s:
    #
    #   Cache.new(max_entries: 10_000, max_bytes: 64 << 20, ttl: 3600, temperature: :skip)
    #
    # Options (see llmkit.h): "max_entries", "max_bytes", "shards", "ttl"
    # (seconds, the default for #put), "temperature" ("cache" or "skip":
    # whether requests sampled at a temperature other than 0 are cached),
    # "backend" ("memory" or "redis", with "redis.url", "redis.prefix",
    # "redis.timeout_ms", "local.ttl"). An unknown option or a bad value
    # raises InvalidArgumentError naming it. The options are copied.
    def initialize(options = {})
      @handle = Waiting.with_native_options(options) { Native.cache_new(_1) }
      # The signals of the lookups waiting in C, for #close to wake them.
      @waiting = {}.compare_by_identity
      # Calls inside the cache (most run without the GVL), for #close to
      # leave it to them; the last one out frees a closed cache.
      @calls = 0
      @closing = nil
    end

    # The key of `request` (the body sent to the provider: a JSON String, or
    # a Hash made JSON) for `provider` ("openai", "anthropic", ...) in
    # `scope` (nil: none), and what to do with it, as [key, use]:
    # - :use     look up; on a miss, store the answer;
    # - :bypass  neither look up nor store (`cache: :bypass`, or a request
    #            the "temperature" option skips);
    # - :refresh skip the lookup, store the fresh answer (`cache: :refresh`).
    # Malformed JSON or invalid UTF-8 raises InvalidArgumentError.
    def key(request, provider:, scope: nil, cache: nil)
      request = json(request)
      key, use = native do |native|
        if cache.nil?
          Native.cache_key(native, scope, provider, request, nil)
        else
          Waiting.with_options("cache" => cache) { Native.cache_key(native, scope, provider, request, _1.__send__(:handle)) }
        end
      end
      [key, USES.fetch(use)]
    end

    # The value under `key`, or nil on a miss (or an expired entry). A key
    # that is not 32 hex digits raises InvalidArgumentError.
    def get(key) = native { Native.cache_get(_1, key) }

    # Stores the bytes of `value` (a String) under `key` for `ttl` seconds
    # (nil: the "ttl" option; a Float is rounded up to the millisecond),
    # replacing any entry, and hands it to the #fetch calls waiting on `key`.
    # A value larger than "max_bytes" / "shards" is not kept.
    def put(key, value, ttl: nil)
      ttl_ms = ttl_ms(ttl)
      native { Native.cache_put(_1, key, value, ttl_ms) }
      self
    end

    # Removes the entry of `key`, if any.
    def invalidate(key)
      native { Native.cache_invalidate(_1, key) }
      self
    end

    # Removes every entry.
    def clear
      native { Native.cache_clear(_1) }
      self
    end

    # The value under `key`, or the block's (a String), stored for `ttl`
    # seconds. Callers that miss on one key at once call upstream once: the
    # first runs its block while the others wait up to `wait` seconds (nil:
    # as long as it takes) for its value; one whose wait runs out runs its
    # own block. When the block raises (or its thread is killed), the
    # exception propagates and a waiting caller runs its block instead.
    #
    # `use` is #key's answer: :bypass only runs the block, :refresh runs it
    # and stores its value. Waiting releases the GVL; Thread#raise,
    # Thread#kill and Ctrl-C end it, as does `cancel` (an Llmkit::Cancel,
    # raising CancelledError) and #close (InvalidArgumentError).
    def fetch(key, wait: 10, ttl: nil, use: :use, cancel: nil)
      raise ArgumentError, "fetch needs a block: the upstream call" unless block_given?
      unless cancel.nil? || cancel.is_a?(Cancel)
        raise TypeError, "cancel: must be an Llmkit::Cancel, not #{cancel.class}"
      end
      ttl_ms = ttl_ms(ttl)
      deadline = Waiting.deadline_after(wait, "wait")
      case use
      when :use then nil
      when :bypass then return yield
      when :refresh then return yield.tap { put(key, bytes(_1), ttl: ttl) }
      else raise ArgumentError, "use: must be :use, :bypass or :refresh, not #{use.inspect}"
      end

      # lead[0]: whether this call must fill `key`, put or abandon. C sets
      # it as the lookup returns, so no interrupt can come between.
      lead = [false]
      native do |native|
        # An interrupt that raises nothing (Thread#wakeup, a trap handler)
        # ends a wait; the next one waits for what is left.
        value = nil
        loop do
          ran, value = lookup(native, key, Waiting.milliseconds_left(deadline), cancel, lead)
          break if ran
        end
        return value if value

        fresh = bytes(yield)
        Native.cache_put(native, key, fresh, ttl_ms)
        lead[0] = false
        fresh
      ensure
        # Another interrupt must not skip the abandon, or the callers
        # waiting on `key` would wait out their whole wait.
        Thread.handle_interrupt(Object => :never) { Native.cache_abandon(native, key) } if lead[0]
      end
    end

    # Embeddings cached per input: `request` is OpenAI's embeddings request
    # (a JSON String or a Hash), of which only the inputs the cache lacks go
    # upstream. The block gets that request as a JSON String, "input" holding
    # the misses in their original order, and returns the provider's answer
    # (a JSON String or a Hash); it is not called when every input is
    # cached. Returns the answer to the whole request as a JSON String, every
    # embedding at its input's "index", "usage" as the provider counted it.
    # An answer that does not fit the request raises ProviderErrorError.
    def embeddings(request, provider:, scope: nil, ttl: nil)
      raise ArgumentError, "embeddings needs a block: the upstream call" unless block_given?
      ttl_ms = ttl_ms(ttl)
      request = json(request)
      native do |native|
        batch = Native.embeddings_new(native, scope, provider, request)
        begin
          misses, upstream = Native.embeddings_upstream(batch)
          answer = misses.zero? ? nil : json(yield(upstream))
          Native.embeddings_complete(batch, answer, ttl_ms)
        ensure
          Native.embeddings_free(batch)
        end
      end
    end

    # A statistic (see STATS), an Integer; NotFoundError for another name.
    def stat(name) = native { Native.cache_stat(_1, name.to_s) }

    # {hits:, misses:, evictions:, expirations:, entries:, bytes:, waits:,
    # backend_errors:}, read one after the other: under concurrent use they
    # need not agree exactly.
    def stats = STATS.to_h { [_1, stat(_1)] }

    # Frees the cache and its entries; any later call but #close raises
    # InvalidArgumentError. Fetches waiting in other threads wake and raise
    # InvalidArgumentError; calls of other threads still inside the cache
    # (a fetch's block among them) finish first, and the last frees it.
    def close
      native = @handle or return
      @handle = nil
      @closing = native
      # Lookups register before they read @handle (see #lookup), so each is
      # either seen here or sees the cache closed; a triggered signal stays
      # triggered, so one not yet in C returns at once.
      @waiting.keys.each { Native.cancel_trigger(_1) }
      free_if_idle
      nil
    end

    def closed? = @handle.nil?

    private

    def handle
      @handle or raise InvalidArgumentError, "cache is closed"
    end

    # Frees a closed cache once no call is inside it. Calls that begin
    # after #close fail on `handle` before reaching C, so once idle it stays
    # idle; taking @closing is one step no other thread can split.
    def free_if_idle
      return unless @closing && @calls.zero? && @waiting.empty?
      closing, @closing = @closing, nil
      Native.cache_free(closing) if closing
    end

    def json(value) = value.is_a?(String) ? value : JSON.generate(value)

    def bytes(value)
      String.try_convert(value) or raise TypeError, "the block must return a String, not #{value.class}"
    end

    # Seconds (nil: the default) in C's milliseconds, where 0 is the default.
    def ttl_ms(ttl)
      return 0 if ttl.nil?
      unless ttl.is_a?(Numeric) && ttl.real? && ttl.positive? && ttl.finite?
        raise ArgumentError, "ttl must be nil or seconds > 0, not #{ttl.inspect}"
      end
      (ttl * 1000).ceil
    end

    # One lookup in C: [true, value or nil] when it ran, [false, nil] when
    # an interrupt that raised nothing ended it. Its native signal is its
    # own (an interrupt leaves it triggered); the GC frees it, as #close or
    # Cancel#cancel! may still hold it in a snapshot after the wait.
    def lookup(native, key, wait_ms, cancel, lead)
      signal = Native.cancel_new
      begin
        @waiting[signal] = true
        handle # raises once closed
        if cancel
          cancel.__send__(:linked, signal) { Native.cache_lookup(native, key, wait_ms, signal, lead) }
        else
          Native.cache_lookup(native, key, wait_ms, signal, lead)
        end
      rescue CancelledError
        raise unless closed?
        raise InvalidArgumentError, "cache is closed"
      ensure
        @waiting.delete(signal)
      end
    end
  end

  # The chunks ("chat.completion.chunk" JSON Strings, the payloads of the
  # server-sent events) a streaming caller would have received for
  # `completion`, a cached Chat Completions answer (a JSON String or a
  # Hash): the role, the content in pieces of about `piece_bytes` bytes
  # (never splitting a character), tool calls, the finish reason, and usage
  # when the answer has it. Yields each; without a block, returns an
  # Enumerator. Raises InvalidArgumentError at once for malformed JSON or
  # JSON that is not a chat completion.
  def self.replay(completion, piece_bytes: 64)
    unless piece_bytes.is_a?(Integer) && piece_bytes.positive?
      raise ArgumentError, "piece_bytes must be an Integer > 0, not #{piece_bytes.inspect}"
    end
    completion = json(completion)
    # Parsed now, so that bad input raises here; each later enumeration
    # replays afresh.
    first = Native.replay_new(completion, piece_bytes)
    chunks = Enumerator.new do |out|
      replay, first = first, nil
      replay ||= Native.replay_new(completion, piece_bytes)
      begin
        while (chunk = Native.replay_next(replay))
          out << chunk
        end
      ensure
        Native.replay_free(replay)
      end
    end
    return chunks unless block_given?

    chunks.each { yield _1 }
    nil
  end
end
