# Hooks: Llmkit::Hooks and HookEvent. Required by lib/llmkit.rb, after the
# provider calls (Client#hooks=, Response).
module Llmkit
  # A set of hooks: blocks that run around the calls of the clients it is
  # attached to (Client#hooks=; several clients may share one), chosen by
  # kind, scope and a rule compiled once (docs/hooks.md):
  #
  #   hooks = Llmkit::Hooks.new(queue_size: 1000)
  #   hooks.add(:before, rule: "model:gpt-4o* and tag:cheap") { |event| event.set("model", "gpt-4o-mini") }
  #   hooks.add(:after, scope: "production", async: true) { |event| audit(event.model, event.response.usage) }
  #   client.hooks = hooks
  #
  # A block that raises a StandardError fails: the failure is counted, with
  # its message (#stats), and never fails the call. Blocks run on the
  # calling thread, except async ones (async: true): they run later, in
  # order, on a thread of this library, with a read-only copy of the event.
  # Interrupts (Ctrl-C, Thread#kill, throw) in a block on the calling thread
  # end the call and leave Client#chat, as from a stream's block; a
  # StandardError another thread raises into a block (Thread#raise) is
  # taken for the block's own.
  #
  # #close when done: clients attached keep running the hooks, and the set
  # and its blocks are let go when it is closed and no client is attached any
  # more (detached by hooks = nil, another set, or Client#close), running the
  # async blocks still queued then. A Hooks the GC collects is closed; one
  # whose blocks refer to it lives until #close. At exit, what the async
  # blocks have queued runs first.
  class Hooks
    KINDS = {
      before: Native::HOOK_BEFORE,
      after: Native::HOOK_AFTER,
      error: Native::HOOK_ERROR,
      finally: Native::HOOK_FINALLY
    }.freeze

    # A hook's counters: runs, rule not matched, failures, rule failed (a
    # predicate raised), async events dropped (queue full), slow runs (over
    # "slow_ms"), run time in microseconds; and the last failure's message
    # ("" when none).
    Stats = Struct.new(:calls, :skipped, :errors, :rule_failures, :dropped, :slow, :total_us, :max_us,
                       :last_error)
    COUNTERS = (Stats.members - [:last_error]).map(&:to_s).freeze
    private_constant :COUNTERS

    # The blocks C may call, by the key it holds: marked while held here.
    CALLABLES = {}
    # The sets not let go, for the flush at exit.
    LIVE = {}.compare_by_identity
    private_constant :CALLABLES, :LIVE

    @next_key = 0
    @dispatcher = nil
    @dispatch_lock = Mutex.new

    at_exit { LIVE.keys.each(&:flush) }

    # `options`: an Llmkit::Options, or a Hash (Symbols or Strings):
    # queue_size (the async hooks' queue, default 10000), queue_full (:drop,
    # the default, or :block: the call waits for room), slow_ms (a run
    # longer is counted slow, default 100). A bad one raises
    # InvalidArgumentError.
    def initialize(options = {})
      @state = State.new(Waiting.with_native_options(options) { Native.hooks_new(_1) })
      ObjectSpace.define_finalizer(self, State.closer(@state))
    end

    # Adds the block as a hook of `kind` (:before, :after, :error, :finally)
    # after every other, and returns its id. `scope` nil is global (every
    # client); a name runs it only for clients with that name in their
    # "scopes" option. `rule` nil matches every call; one that does not
    # compile raises InvalidArgumentError naming the column. The block gets a
    # HookEvent.
    def add(kind, scope: nil, rule: nil, async: false, &hook)
      raise ArgumentError, "add needs a block" unless hook

      code = KINDS.fetch(kind) do
        raise ArgumentError, "kind must be :before, :after, :error or :finally, not #{kind.inspect}"
      end
      native = @state.native
      Hooks.__send__(:dispatcher) if async
      flags = async ? Native::HOOK_ASYNC : 0
      register(hook) { Native.hooks_add(native, code, scope&.to_s, rule&.to_s, flags, _1) }
    end

    # Adds the block as pred:NAME for the rules added after it: it gets a
    # HookEvent, and its truth is the condition's. One that raises fails the
    # rule: the hook is skipped and the failure counted (rule_failures).
    # `name`: letters, digits, '_', '-' or '.'; a name taken raises
    # InvalidArgumentError. Returns self.
    def add_predicate(name, &predicate)
      raise ArgumentError, "add_predicate needs a block" unless predicate

      native = @state.native
      register(predicate) { Native.hooks_add_predicate(native, name.to_s, _1) }
      self
    end

    # Removes hook `id`; its async events already queued still run. Raises
    # NotFoundError for an unknown id. Returns self.
    def remove(id)
      Native.hooks_remove(@state.native, id)
      self
    end

    # Waits until every async event queued so far has run, without the GVL.
    # Not from a hook. Returns self.
    def flush
      Native.hooks_flush(@state.native)
      self
    end

    # The frozen Stats of hook `id`; NotFoundError for an unknown one.
    def stats(id)
      native = @state.native
      Stats.new(*COUNTERS.map { Native.hooks_stat(native, id, _1) }, Native.hooks_last_error(native, id)).freeze
    end

    # Closes the set: any later call but #close raises InvalidArgumentError.
    # With no client attached, lets it go at once (see the class comment).
    def close
      @state.close
      ObjectSpace.undefine_finalizer(self)
      nil
    end

    def closed? = @state.closed?

    # What a Hooks shares with its finalizer, which must not hold the Hooks:
    # the native set, the keys of its blocks, the clients attached.
    class State
      def self.closer(state) = proc { state.close }

      def initialize(native)
        @native = native
        @keys = []
        @attached = 0
        @closed = false
        LIVE[self] = true
      end

      def closed? = @closed

      def native
        raise InvalidArgumentError, "hooks are closed" if @closed

        @native
      end

      def keep(key) = @keys << key

      # A client counted in: the native set for it.
      def attach
        set = native
        @attached += 1
        set
      end

      # A client counted out, once C no longer holds the set for it.
      def detach
        @attached -= 1
        release if @closed && @attached.zero?
      end

      def close
        return if @closed

        @closed = true
        release if @attached.zero?
      end

      def flush
        Native.hooks_flush(@native) if @native
      end

      private

      # Frees the set (without the GVL: the last owner runs the async hooks
      # still queued), then lets go of its blocks. A call that began before
      # may still hold the set: its hooks that run later find their blocks
      # gone and fail, counted.
      def release
        native = @native
        @native = nil
        LIVE.delete(self)
        Thread.handle_interrupt(Object => :never) { Native.hooks_free(native) }
        @keys.each { CALLABLES.delete(_1) }
        @keys.clear
      end
    end
    private_constant :State

    # A client's hooks, shared with the client's finalizer, which frees the
    # client and then detaches it: the GC never frees a client that holds
    # hooks (freeing the last owner of a set runs its async hooks, which needs
    # the GVL the GC holds).
    class Link
      def self.for_client(client, native)
        link = new(native)
        ObjectSpace.define_finalizer(client, finalizer(link))
        link
      end

      def self.finalizer(link) = proc { link.finalize }

      attr_reader :hooks

      def initialize(native)
        @client = native
        @hooks = nil
      end

      # Attaches `hooks` (nil: none), the block setting it in C.
      def attach(hooks)
        state = hooks&.__send__(:state)
        set = state&.attach
        attached = false
        begin
          yield set
          attached = true
        ensure
          state&.detach unless attached
        end
        old = @hooks
        @hooks = hooks
        old&.__send__(:state)&.detach
      end

      # The client was freed.
      def client_freed
        @client = nil
        old = @hooks
        @hooks = nil
        old&.__send__(:state)&.detach
      end

      def finalize
        Native.client_free(@client) if @client
        client_freed
      end
    end
    private_constant :Link

    class << self
      private

      def link(client, native) = Link.for_client(client, native)

      def keep(callable)
        key = (@next_key += 1)
        CALLABLES[key] = callable
        key
      end

      # Starts the Ruby thread that runs async hooks (llmkit_ruby.swg), once
      # and again if it ended; returns when it serves.
      def dispatcher
        @dispatch_lock.synchronize do
          return if @dispatcher&.alive?

          ready = Thread::Queue.new
          @dispatcher = Thread.new do
            Native.hooks_dispatch(ready)
          ensure
            ready.close
          end
          @dispatcher.name = "llmkit hooks"
          @dispatcher.report_on_exception = false
          ready.pop
        end
      end

      # Called by the native trampoline with the GVL: nil, or [status,
      # message] for a failure.
      def run_hook(key, native)
        hook = CALLABLES[key] or return [Status::UNAVAILABLE, "the hook was let go: its Llmkit::Hooks is closed"]
        event = HookEvent.__send__(:new, native)
        Thread.handle_interrupt(Object => :immediate) { hook.call(event) }
        nil
      rescue StandardError => e
        [e.is_a?(Error) && e.status != Status::OK ? e.status : Status::INTERNAL, e.message.to_s]
      ensure
        event&.__send__(:expire)
      end

      # 1, 0, or -1: the rule fails.
      def run_predicate(key, native)
        predicate = CALLABLES[key] or return -1
        event = HookEvent.__send__(:new, native)
        Thread.handle_interrupt(Object => :immediate) { predicate.call(event) } ? 1 : 0
      rescue StandardError
        -1
      ensure
        event&.__send__(:expire)
      end
    end

    private

    attr_reader :state

    def register(callable)
      key = Hooks.__send__(:keep, callable)
      kept = false
      begin
        result = yield key
        kept = true
      ensure
        kept ? @state.keep(key) : CALLABLES.delete(key)
      end
      result
    end
  end

  # One call as a hook sees it, valid while the hook runs: afterwards every
  # method but #kind raises InvalidArgumentError. Changes (#set, #set_meta,
  # #answer, #reject) are a synchronous before hook's: elsewhere they raise
  # InvalidArgumentError.
  class HookEvent
    KINDS = Hooks::KINDS.invert.freeze
    private_constant :KINDS

    # :before, :after, :error or :finally.
    attr_reader :kind

    def provider = get("provider")

    # The model the call goes to, as the before hooks left it.
    def model = get("model")

    # The call's tags (the call option "tags"), an Array of Strings.
    def tags = get("tags").split(",")

    # The call's metadata `key` (the call option "meta.KEY", or set by a
    # before hook); nil when unset.
    def meta(key)
      get("meta.#{key}")
    rescue NotFoundError
      nil
    end

    # Why the call failed (error and finally hooks); "" otherwise.
    def message = get("message")

    # The JSON body the provider gets (no keys or headers), a String.
    def request = get("request")

    # The call's outcome, an Llmkit::Status code (after, error, finally).
    def status = Native.hook_event_number(native, "status").to_i

    # Seconds since the call began.
    def elapsed = Native.hook_event_number(native, "elapsed_ms") / 1000.0

    # The answer's cost in US dollars, as Response#cost_usd; nil before or
    # without an answer, or when the model has no price.
    def cost_usd = Response.__send__(:cost, Native.hook_event_number(native, "cost_usd"))

    # Whether the answer came from the client's cache, as Response#cached?.
    def cached? = Native.hook_event_number(native, "cached") == 1

    # The call's answer, a Response (after; error when the provider
    # answered), or nil.
    def response
      handle = Native.hook_event_response(native)
      handle && Response.__send__(:copy, handle)
    end

    # Sets a request parameter of this call (Request's fields: "model",
    # "temperature", "max_tokens" ...). Returns self.
    def set(key, value)
      Native.hook_event_set(native, key.to_s, value.to_s)
      self
    end

    # Sets the call's metadata `key`; the hooks after it see it.
    def set_meta(key, value)
      Native.hook_event_set_meta(native, key.to_s, value.to_s)
      self
    end

    # Answers the call with `text`: no request is sent, no later before hook
    # runs, the after hooks see the answer.
    def answer(text)
      Native.hook_event_answer(native, text)
      self
    end

    # Ends the call with `status` (an Llmkit::Status code or its name, e.g.
    # :budget_exceeded): Client#chat raises its Error with `message`, and
    # the error hooks run.
    def reject(status, message = nil)
      if status.is_a?(Symbol)
        name = status.upcase
        raise ArgumentError, "no status named #{status.inspect}" unless Status.constants.include?(name)

        status = Status.const_get(name)
      end
      Native.hook_event_reject(native, status, message.to_s)
      self
    end

    private_class_method :new

    private

    def initialize(native)
      @native = native
      @kind = KINDS.fetch(Native.hook_event_kind(native))
    end

    def native
      @native or raise InvalidArgumentError, "the event is over: use it only while its hook runs"
    end

    def get(field) = Native.hook_event_get(native, field)

    def expire
      @native = nil
    end
  end
end
