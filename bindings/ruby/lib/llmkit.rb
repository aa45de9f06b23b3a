# Ruby bindings for llmkit. Llmkit::Native is the SWIG-generated layer; this
# file gives it Ruby's shape: module functions, Options, Tokenizer,
# RateLimiter, Cancel, an exception class per status; llmkit/cache the
# response cache; llmkit/client the provider calls; llmkit/hooks the hooks
# around them.
require "json"
require "llmkit/version"
require "llmkit/native"

module Llmkit
  # The loaded library's version, e.g. "0.1.0".
  def self.version = Native.version

  # The loaded library's version as MAJOR * 10000 + MINOR * 100 + PATCH.
  def self.version_number = Native.version_number

  # The constant name of a status code, e.g. "NOT_FOUND"; "UNKNOWN" for a
  # code the loaded library does not know.
  def self.status_str(status) = Native.status_str(status)

  # Status codes, e.g. Llmkit::Status::NOT_FOUND: the header's constants
  # that the library itself names alike (which leaves out VERSION_*).
  module Status
    Native.constants.each do |name|
      code = Native.const_get(name)
      const_set(name, code) if code.is_a?(Integer) && Native.status_str(code) == name.to_s
    end
  end

  # Raised for every failing llmkit call, as the subclass for its status
  # (NotFoundError, InvalidArgumentError, ...). The message is llmkit's own.
  class Error < StandardError
    attr_reader :status

    # The Llmkit::Response of a provider call that the provider answered
    # with an error (its retry_after, http_status, error_detail ...); nil
    # for every other failure.
    attr_reader :response

    def initialize(message, status)
      super(message)
      @status = status
      @response = nil
    end

    def status_name = Llmkit.status_str(status)

    # The native layer raises what this returns; a status newer than these
    # bindings still raises, as a plain Error.
    def self.for_status(status, message, response = nil)
      error = ERRORS.fetch(status, Error).new(message, status)
      error.instance_variable_set(:@response, response) if response
      error
    end
  end

  # NOT_FOUND -> Llmkit::NotFoundError, and so on for every failing status.
  ERRORS = Status.constants.filter_map { |name|
    code = Status.const_get(name)
    next if code == Status::OK

    error = Class.new(Error) do
      const_set(:STATUS, code)
      def initialize(message = nil, status = self.class::STATUS) = super
    end
    const_set("#{name.to_s.split("_").map(&:capitalize).join}Error", error)
    [code, error]
  }.to_h.freeze

  # Key/value settings handed to llmkit objects; keys and values are
  # Strings. #get raises NotFoundError for a missing key while #[] returns
  # nil, as Hash#[] does. #close frees it now, the GC otherwise.
  class Options
    def initialize
      @handle = Native.options_new
    end

    # dup and clone copy through llmkit_options_copy: the copies are
    # independent.
    def initialize_copy(source)
      super
      @handle = Native.options_copy(source.handle)
    end
    alias copy dup

    def set(key, value)
      Native.options_set(handle, key, value)
      self
    end

    def []=(key, value)
      set(key, value)
    end

    def get(key) = Native.options_get(handle, key)

    def [](key)
      get(key)
    rescue NotFoundError
      nil
    end

    # Raises NotFoundError when `key` is not set.
    def unset(key)
      Native.options_unset(handle, key)
      self
    end

    def size = Native.options_count(handle)
    alias count size

    # Frees the options; any later call but #close raises
    # InvalidArgumentError.
    def close
      Native.options_free(@handle) if @handle
      @handle = nil
    end

    def closed? = @handle.nil?

    protected

    def handle
      @handle or raise InvalidArgumentError, "options are closed"
    end
  end

  # ---- Token counting ---------------------------------------------------
  # Calls that tokenize release the GVL, so other threads run meanwhile.

  # The encoding OpenAI's `model` uses, e.g. "o200k_base" for "gpt-4o".
  # Raises NotFoundError for a model without a public tokenizer.
  def self.encoding_for_model(model) = Native.encoding_for_model(model)

  # Exact token count of `text` for an OpenAI `model`; special-token
  # spellings count as ordinary text, as the API treats them.
  def self.count_tokens(model, text) = Native.count_tokens(model, text)

  # Prompt tokens of a Chat Completions request: `messages` and `tools` are
  # its "messages" and "tools" arrays, as JSON Strings or as Arrays/Hashes.
  def self.count_chat_tokens(model, messages, tools = nil)
    Native.count_tokens_chat(model, json(messages), tools && json(tools))
  end

  # Result of estimate_tokens: exact? is false where the count is only the
  # o200k_base estimate for a model whose tokenizer is not public.
  Estimate = Struct.new(:count, :exact) do
    alias_method :exact?, :exact
  end

  # Tokens of `text` for any known model family ("gpt-4o", "claude-*",
  # "gemini-*", ...); raises NotFoundError for an unknown one.
  def self.estimate_tokens(model, text)
    Estimate.new(*Native.estimate_tokens(model, text)).freeze
  end

  def self.json(value) = value.is_a?(String) ? value : JSON.generate(value)
  private_class_method :json

  # ---- Costs ----------------------------------------------------------------

  # Sums the traces table of `db` (a SQLite file's path or a postgresql://
  # URL) as the query keywords ask, those of llmkit_costs_query: by:
  # ("application,model,provider,caller,deployment", any of them; default
  # "model"), per: (:hour, :day), since:, until: ("24h", "7d", Unix seconds,
  # "2025-01-31T12:00:00Z"), top:, and the filters application:, model:,
  # caller:. Returns {rows: [{model: "gpt-4o", requests: 3, ...,
  # cost_usd: 0.0125}, ...], total: {...}}, rows costliest first (in time
  # order with per:); the total counts every call in range, not only the
  # rows top: kept. Raises InvalidArgumentError for a bad key or value,
  # NotFoundError for a SQLite file that does not exist, UnavailableError
  # when the database cannot be reached. Other threads run meanwhile.
  def self.costs(db, **query)
    costs = Waiting.with_native_options(query) { Native.costs_query(db.to_s, _1) }
    JSON.parse(Native.costs_json(costs), symbolize_names: true)
  ensure
    Native.costs_free(costs) if costs
  end

  # The metrics of every call in the traces table of `db` (a SQLite file's
  # path or a postgresql:// URL) as a client would have counted them, in
  # Prometheus text: what `llmkit serve-metrics` serves. Raises
  # NotFoundError for a SQLite file that does not exist, UnavailableError
  # when the database cannot be reached.
  def self.traces_metrics(db)
    Native.traces_metrics(db.to_s)
  end

  # An OpenAI BPE encoding ("cl100k_base", "o200k_base", "p50k_base",
  # "r50k_base"); ids are tiktoken's. Cheap: the encoding data is shared and
  # loaded once. One tokenizer may be used from many threads at once.
  #
  # `special:` says what text spelling a special token such as
  # "<|endoftext|>" becomes: :disallow (the default) raises
  # InvalidArgumentError, :allow makes it the special token, :text encodes
  # it as ordinary text.
  class Tokenizer
    SPECIAL = {
      disallow: Native::SPECIAL_DISALLOW,
      allow: Native::SPECIAL_ALLOW,
      text: Native::SPECIAL_AS_TEXT
    }.freeze

    def self.for_model(model) = new(Llmkit.encoding_for_model(model))

    # Raises NotFoundError for an unknown encoding.
    def initialize(encoding)
      @handle = Native.tokenizer_new(encoding)
    end

    def name = Native.tokenizer_name(handle)

    # One more than the largest id, special tokens included.
    def n_vocab = Native.tokenizer_n_vocab(handle)

    # The ids of `text` (bytes as they are: invalid UTF-8 raises
    # InvalidArgumentError naming its byte offset).
    def encode(text, special: :disallow)
      text = String.try_convert(text) || raise(TypeError, "no implicit conversion of #{text.class} into String")
      # Every token covers at least one byte.
      Native.tokenizer_encode(handle, text, mode(special), text.bytesize)
    end

    def count(text, special: :disallow) = Native.tokenizer_count(handle, text, mode(special))

    # Counts of many texts at once, spread over llmkit's threads. When some
    # fail, the error is that of the first by index, and says "text <i>".
    def count_batch(texts, special: :disallow)
      Native.tokenizer_count_batch(handle, mode(special), texts.to_a)
    end

    # The text of `ids`, tagged UTF-8. It is invalid UTF-8 where the ids
    # split a character: check valid_encoding? when decoding a slice.
    def decode(ids)
      ids = ids.to_a
      Native.tokenizer_decode(handle, ids, Native.tokenizer_decode(handle, ids, nil))
    end

    # Frees the handle; any later call but #close raises
    # InvalidArgumentError.
    def close
      Native.tokenizer_free(@handle) if @handle
      @handle = nil
    end

    def closed? = @handle.nil?

    private

    def handle
      @handle or raise InvalidArgumentError, "tokenizer is closed"
    end

    def mode(special)
      SPECIAL.fetch(special) do
        raise ArgumentError, "special: must be :disallow, :allow or :text, not #{special.inspect}"
      end
    end
  end

  # ---- Cancellation -----------------------------------------------------

  # A signal that cancels the blocking calls it is passed to (`cancel:`):
  # any thread, or a trap handler, may trigger it with #cancel!, and calls
  # waiting on it raise CancelledError at once, as do later ones. A
  # triggered signal stays triggered.
  class Cancel
    def initialize
      @cancelled = false
      # The native signals of the calls waiting on this one: each call has
      # its own, which Ruby's interrupts trigger too.
      @signals = {}.compare_by_identity
    end

    def cancel!
      @cancelled = true
      # After the flag, so a call that registers meanwhile sees one or the
      # other; under the GVL, Hash#keys is an atomic snapshot.
      @signals.keys.each { Native.cancel_trigger(_1) }
      self
    end
    alias trigger cancel!

    def cancelled? = @cancelled

    private

    # Runs the block with `signal` triggered by this Cancel: now when it
    # already is, or when it is while the block runs.
    def linked(signal)
      @signals[signal] = true
      Native.cancel_trigger(signal) if @cancelled
      yield
    ensure
      @signals.delete(signal)
    end
  end

  # ---- Rate limiting ------------------------------------------------------

  # Per-key limits on requests per window, tokens per window and requests
  # in flight, enforced together: a request is admitted against all of them
  # or charged to none. Keys are Strings of any bytes ("", binary, with NUL);
  # their encoding does not matter, only their bytes. One limiter may be
  # used from many threads at once.
  #
  #   limiter = Llmkit::RateLimiter.new(requests: 60, tokens: 90_000, concurrency: 4)
  #   limiter.acquire("user-42", tokens: 1200, timeout: 5)
  #   # ... call the model, which used 950 tokens ...
  #   limiter.reconcile("user-42", reserved: 1200, actual: 950)
  #   limiter.release("user-42")  # the concurrency slot
  # Helpers of the classes that wait in C (RateLimiter, Cache): deadlines
  # as milliseconds within the C API's limit, and per-call options.
  module Waiting
    # The longest wait the C API takes (about 73 years).
    MAX_MS = (2**63 - 1) / 4_000_000

    module_function

    def deadline_after(seconds, name)
      return if seconds.nil?
      unless seconds.is_a?(Numeric) && seconds.real? && seconds >= 0
        raise ArgumentError, "#{name} must be nil or seconds >= 0, not #{seconds.inspect}"
      end
      Process.clock_gettime(Process::CLOCK_MONOTONIC) + seconds
    end

    def milliseconds_left(deadline)
      return MAX_MS if deadline.nil?
      left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
      return MAX_MS if left * 1000 >= MAX_MS
      left.positive? ? (left * 1000).ceil : 0
    end

    def with_options(settings)
      options = Options.new
      settings.each { |key, value| options.set(key.to_s, value.to_s) }
      yield options
    ensure
      options&.close
    end

    # Yields the native handle of a constructor's `options`: an
    # Llmkit::Options, or a Hash whose keys (Symbols or Strings) and values
    # become Strings with #to_s.
    def with_native_options(options)
      return yield options.__send__(:handle) if options.is_a?(Options)

      settings = Hash.try_convert(options) or
        raise TypeError, "options must be an Llmkit::Options or a Hash, not #{options.class}"
      with_options(settings) { yield _1.__send__(:handle) }
    end
  end
  private_constant :Waiting

  # Included by the classes whose #close leaves the native handle to the
  # calls inside it (Request, Cache, Client): they count them in @calls,
  # and their #free_if_idle frees a closed handle once none is left.
  module InUse
    private

    # Yields the native handle, counted as in use until the block returns.
    # Counted first, so that a #close meanwhile cannot free it under us.
    def native
      @calls += 1
      begin
        yield handle
      ensure
        @calls -= 1
        free_if_idle
      end
    end
  end
  private_constant :InUse

  class RateLimiter
    # The answer of #check. retry_after: seconds (a Float, rounded up to the
    # millisecond) until the same request fits; 0.0 when admitted or when
    # only the concurrency limit refused it (a slot frees when its holder
    # releases it); nil when it never fits (more tokens than the burst).
    # remaining_requests, remaining_tokens: what the key may still take
    # now; nil for a limit that is off.
    Decision = Struct.new(:allowed, :retry_after, :remaining_requests, :remaining_tokens) do
      alias_method :allowed?, :allowed
    end

    STATS = %i[allowed limited keys bytes backend_errors].freeze

    # C's INT64_MAX: "no such limit" in #check's remaining counts.
    UNLIMITED = 2**63 - 1
    # The longest wait llmkit takes, about 73 years, in milliseconds.
    private_constant :UNLIMITED

    # `options`: an Llmkit::Options, or a Hash whose keys (Symbols or
    # Strings) and values become Strings with #to_s:
    #
    #   RateLimiter.new(requests: 60, tokens: 90_000, window: 60, concurrency: 4)
    #
    # Options: "requests" and "tokens" per window, "window" in seconds
    # (default 60), "burst_requests" and "burst_tokens" (default: the
    # limits), "concurrency" (requests in flight) and "backend" ("memory",
    # the default; "shm" or "redis" share one limit between processes or
    # hosts, see docs/ratelimit.md). At least one limit must be set. An
    # unknown option or a bad value raises InvalidArgumentError naming it.
    # The options are copied.
    def initialize(options)
      @handle = Waiting.with_native_options(options) { Native.ratelimiter_new(_1) }
      # The signals of the acquires waiting in C, for #close to wake them.
      @waiting = {}.compare_by_identity
      # Other calls inside C (they run without the GVL: a shared backend may
      # talk to Redis), for #close to leave the limiter to them.
      @calls = 0
    end

    # Admits one request of `tokens` tokens for `key` now, or refuses it,
    # without waiting. Admitted, it is charged to every limit and, with
    # "concurrency" set, holds a slot until #release. Refused, nothing is
    # charged. Returns a frozen Decision.
    def check(key, tokens: 0)
      allowed, retry_ms, requests, tokens_left = native { Native.ratelimiter_check(_1, key, tokens) }
      Decision.new(allowed, retry_ms.negative? ? nil : retry_ms / 1000.0, remaining(requests),
                   remaining(tokens_left)).freeze
    end

    # As #check, but waits until the request is admitted and returns self.
    # It raises
    # - RateLimitedError at once when the request can never fit;
    # - TimeoutError when `timeout` seconds (nil: no limit) would pass
    #   first, at once when the wait is known to be longer;
    # - CancelledError when `cancel` (an Llmkit::Cancel) is triggered, or
    #   already was;
    # - InvalidArgumentError when another thread closes the limiter.
    # It waits without the GVL, and Thread#raise, Thread#kill and signals
    # (Ctrl-C) end the wait at once with their own effect. Waits for a
    # concurrency slot poll, every 0.1 to 10 ms.
    def acquire(key, tokens: 0, timeout: nil, cancel: nil)
      unless cancel.nil? || cancel.is_a?(Cancel)
        raise TypeError, "cancel: must be an Llmkit::Cancel, not #{cancel.class}"
      end
      deadline = Waiting.deadline_after(timeout, "timeout")
      # The first try, as llmkit's own, but without leaving the GVL: a
      # request admitted at once costs no more than #check.
      return self if !cancel&.cancelled? && native { Native.ratelimiter_check(_1, key, tokens)[0] }

      # An interrupt that raises nothing (Thread#wakeup, a trap handler)
      # ends a wait; the next one waits for what is left of the timeout.
      loop { break if wait(key, tokens, Waiting.milliseconds_left(deadline), cancel) }
      self
    end

    # Gives back the concurrency slot of an admitted request for `key`;
    # raises NotFoundError when the key holds none.
    def release(key)
      native { Native.ratelimiter_release(_1, key) }
      self
    end

    # Settles a request for `key` admitted with an estimate of `reserved`
    # tokens that used `actual`: refunds the difference (never beyond the
    # burst) or charges the excess.
    def reconcile(key, reserved:, actual:)
      native { Native.ratelimiter_reconcile(_1, key, reserved, actual) }
      self
    end

    # {allowed:, limited:, keys:, bytes:, backend_errors:}: checks admitted
    # and refused so far (each try of a waiting #acquire counts), keys with
    # state, memory held for them, failed calls to a remote backend. Read
    # one after the other: under concurrent use they need not agree exactly.
    def stats = STATS.to_h { [_1, Native.ratelimiter_stat(handle, _1.to_s)] }

    # Frees the limiter; any later call but #close raises
    # InvalidArgumentError. Acquires waiting in other threads wake and raise
    # InvalidArgumentError; when calls of other threads are still inside the
    # limiter, the GC frees it once they have left it.
    def close
      native = @handle or return
      @handle = nil
      # Acquires register before they read @handle (see #wait), so each is
      # either seen here or sees the limiter closed; a triggered signal
      # stays triggered, so one not yet in C returns at once.
      @waiting.keys.each { Native.cancel_trigger(_1) }
      Native.ratelimiter_free(native) if @waiting.empty? && @calls.zero?
      nil
    end

    def closed? = @handle.nil?

    private

    def handle
      @handle or raise InvalidArgumentError, "rate limiter is closed"
    end

    # Yields the native limiter, counted as in use until the block returns.
    def native
      limiter = handle
      @calls += 1
      begin
        yield limiter
      ensure
        @calls -= 1
      end
    end

    def remaining(count) = count == UNLIMITED ? nil : count


    # One wait in C: true when admitted, false when an interrupt that raised
    # nothing ended it. Its native signal is its own (an interrupt leaves it
    # triggered); the GC frees it, as #close or Cancel#cancel! may still
    # hold it in a snapshot after the wait.
    def wait(key, tokens, timeout_ms, cancel)
      signal = Native.cancel_new
      begin
        @waiting[signal] = true
        limiter = handle
        if cancel
          cancel.__send__(:linked, signal) do
            Native.ratelimiter_acquire(limiter, key, tokens, timeout_ms, signal)
          end
        else
          Native.ratelimiter_acquire(limiter, key, tokens, timeout_ms, signal)
        end
      rescue CancelledError
        raise unless closed?
        raise InvalidArgumentError, "rate limiter is closed"
      ensure
        @waiting.delete(signal)
      end
    end
  end
end

require "llmkit/cache"
require "llmkit/client"
require "llmkit/hooks"
