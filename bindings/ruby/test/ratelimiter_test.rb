require "test_helper"
require "rbconfig"

# Behaviour of Llmkit::RateLimiter with the in-process ("memory") backend.
# Limits of N per hour make the window's refill negligible while a test
# runs, so counts are exact; waits that must end are released by the test.
class RateLimiterTest < Minitest::Test
  Stop = Class.new(StandardError)

  def setup
    @limiters = []
  end

  def teardown
    @limiters.each(&:close)
  end

  def limiter(**options)
    Llmkit::RateLimiter.new(options).tap { @limiters << _1 }
  end

  def monotonic = Process.clock_gettime(Process::CLOCK_MONOTONIC)

  def elapsed
    start = monotonic
    yield
    monotonic - start
  end

  # A thread waiting in acquire is out of the GVL, which Ruby shows as
  # "sleep".
  def wait_until_blocked(thread)
    Thread.pass until thread.status == "sleep" || !thread.alive?
    assert_equal "sleep", thread.status, "the thread should be waiting in acquire"
  end

  # ---- check ----------------------------------------------------------------

  def test_requests_limit_admits_exactly_the_burst_then_refuses
    rl = limiter(requests: 10, window: 60)
    decisions = 10.times.map { rl.check("user") }
    assert decisions.all?(&:allowed?)
    assert_equal (0..9).to_a.reverse, decisions.map(&:remaining_requests)
    assert_equal [0.0], decisions.map(&:retry_after).uniq

    refused = rl.check("user")
    refute_predicate refused, :allowed?
    # One request every window / limit = 6 s.
    assert_in_delta 6.0, refused.retry_after, 0.1
    assert_equal 0, refused.remaining_requests
    assert_nil refused.remaining_tokens # no token limit
    assert_predicate refused, :frozen?
    assert_raises(FrozenError) { refused.allowed = true }
  end

  def test_burst_may_differ_from_the_limit
    rl = limiter(requests: 100, burst_requests: 50, window: 3600)
    assert_equal 50, 200.times.count { rl.check("k").allowed? }
    assert_in_delta 36.0, rl.check("k").retry_after, 0.1
  end

  def test_tokens_over_the_burst_never_fit
    rl = limiter(tokens: 1000, window: 60)
    never = rl.check("k", tokens: 1001)
    refute_predicate never, :allowed?
    assert_nil never.retry_after
    assert_equal 1000, never.remaining_tokens
    error = assert_raises(Llmkit::RateLimitedError) { rl.acquire("k", tokens: 1001) }
    assert_includes error.message, "never fit"
    assert_predicate rl.check("k", tokens: 1000), :allowed? # the burst itself fits
  end

  def test_token_limit_charges_what_each_request_asks
    rl = limiter(tokens: 1000, window: 60)
    assert_equal 200, rl.check("k", tokens: 800).remaining_tokens
    refused = rl.check("k", tokens: 500)
    refute_predicate refused, :allowed?
    # 300 more tokens at 1000 a minute.
    assert_in_delta 18.0, refused.retry_after, 0.1
    assert_nil refused.remaining_requests
  end

  def test_reconcile_refunds_and_charges_tokens
    rl = limiter(tokens: 1000, window: 3600)
    rl.check("k", tokens: 800)
    refute_predicate rl.check("k", tokens: 500), :allowed?
    assert_same rl, rl.reconcile("k", reserved: 800, actual: 300)
    assert_equal 200, rl.check("k", tokens: 500).remaining_tokens
    rl.reconcile("k", reserved: 0, actual: 150)
    assert_equal 50, rl.check("k").remaining_tokens
    # A refund never fills the key beyond its burst.
    rl.reconcile("k", reserved: 5000, actual: 0)
    assert_equal 1000, rl.check("k").remaining_tokens
  end

  def test_concurrency_slot_is_held_until_release
    rl = limiter(concurrency: 1)
    assert_predicate rl.check("k"), :allowed?
    busy = rl.check("k")
    refute_predicate busy, :allowed?
    assert_equal 0.0, busy.retry_after # frees when the holder releases
    assert_predicate rl.check("other"), :allowed?
    assert_same rl, rl.release("k")
    assert_predicate rl.check("k"), :allowed?
    rl.release("k")
    error = assert_raises(Llmkit::NotFoundError) { rl.release("k") }
    assert_equal "the key holds no concurrency slot", error.message
  end

  def test_keys_are_any_bytes
    rl = limiter(requests: 1, window: 3600)
    keys = ["", "\0", "a\0b", "a\0c", "a", "a\0", "\xFF\xFE".b, "user-42"]
    keys.each { |key| assert_predicate rl.check(key), :allowed?, key.inspect }
    keys.each { |key| refute_predicate rl.check(key), :allowed?, key.inspect }
    # Only the bytes count, not the encoding.
    refute_predicate rl.check("user-42".b), :allowed?
    assert_predicate rl.check("é".encode("ISO-8859-1")), :allowed?
    refute_predicate rl.check("\xE9".b), :allowed?
    assert_equal keys.size + 1, rl.stats[:keys]
  end

  def test_stats_count_allowed_and_limited
    rl = limiter(requests: 3, window: 3600)
    assert_equal({ allowed: 0, limited: 0, keys: 0, bytes: rl.stats[:bytes], backend_errors: 0 }, rl.stats)
    5.times { rl.check("a") }
    rl.check("b")
    stats = rl.stats
    assert_equal [4, 2, 2, 0], stats.values_at(:allowed, :limited, :keys, :backend_errors)
    assert_operator stats[:bytes], :>, 0
  end

  def test_threads_hammering_one_key_never_exceed_the_burst
    rl = limiter(requests: 100, window: 3600)
    threads = 4.times.map { Thread.new { 200.times.count { rl.check("shared").allowed? } } }
    assert_equal 100, threads.sum(&:value)
    assert_equal [100, 700], rl.stats.values_at(:allowed, :limited)
  end

  def test_threads_never_hold_more_slots_than_the_concurrency
    rl = limiter(concurrency: 2)
    lock = Mutex.new
    in_flight = max = 0
    threads = 4.times.map do
      Thread.new do
        20.times do
          rl.acquire("shared", timeout: 30)
          lock.synchronize { max = [max, in_flight += 1].max }
          Thread.pass
          lock.synchronize { in_flight -= 1 }
          rl.release("shared")
        end
      end
    end
    threads.each(&:join)
    assert_operator max, :<=, 2
    assert_raises(Llmkit::NotFoundError) { rl.release("shared") }
  end

  # ---- acquire --------------------------------------------------------------

  def test_acquire_returns_at_once_when_admitted
    rl = limiter(requests: 2, window: 3600)
    assert_same rl, rl.acquire("k")
    assert_same rl, rl.acquire("k", timeout: 0)
    assert_raises(Llmkit::TimeoutError) { rl.acquire("k", timeout: 0) }
  end

  def test_acquire_waits_for_the_window
    rl = limiter(requests: 1, window: 1)
    rl.check("k")
    took = elapsed { rl.acquire("k", timeout: 10) }
    assert_in_delta 1.0, took, 0.5
  end

  def test_acquire_waits_for_a_slot_another_thread_releases
    rl = limiter(concurrency: 1)
    rl.check("k")
    waiter = Thread.new { rl.acquire("k", timeout: 30) }
    wait_until_blocked(waiter)
    # This thread runs while the other waits: acquire left the GVL.
    rl.release("k")
    assert_same rl, waiter.value
    refute_predicate rl.check("k"), :allowed? # the waiter holds the slot
  end

  def test_short_timeout_against_a_slot_a_minute_away_fails_at_once
    rl = limiter(requests: 1, window: 60)
    rl.check("k")
    error = nil
    took = elapsed { error = assert_raises(Llmkit::TimeoutError) { rl.acquire("k", timeout: 5) } }
    assert_operator took, :<, 1
    assert_includes error.message, "deadline"
  end

  def test_timeout_on_a_concurrency_slot
    rl = limiter(concurrency: 1)
    rl.check("k")
    took = elapsed { assert_raises(Llmkit::TimeoutError) { rl.acquire("k", timeout: 0.05) } }
    assert_operator took, :>=, 0.03 # polling, it gives up once the next poll would be late
    assert_operator took, :<, 2
  end

  def test_thread_raise_interrupts_a_waiting_acquire
    rl = limiter(requests: 1, window: 3600)
    rl.check("k")
    waiter = Thread.new do
      Thread.current.report_on_exception = false
      rl.acquire("k", timeout: 7200)
    end
    wait_until_blocked(waiter)
    took = elapsed do
      waiter.raise(Stop, "stop waiting")
      error = assert_raises(Stop) { waiter.join }
      assert_equal "stop waiting", error.message
    end
    assert_operator took, :<, 2
  end

  def test_thread_kill_ends_a_waiting_acquire
    rl = limiter(concurrency: 1)
    rl.check("k")
    waiter = Thread.new { rl.acquire("k") }
    wait_until_blocked(waiter)
    took = elapsed { waiter.kill.join }
    assert_operator took, :<, 2
    refute_predicate waiter, :alive?
  end

  def test_a_wakeup_that_raises_nothing_keeps_waiting
    rl = limiter(requests: 1, window: 3600)
    rl.check("k")
    cancel = Llmkit::Cancel.new
    waiter = Thread.new do
      Thread.current.report_on_exception = false
      rl.acquire("k", cancel: cancel)
    end
    wait_until_blocked(waiter)
    # Refusals: one before waiting, one when the wait began.
    Thread.pass until rl.stats[:limited] == 2
    waiter.wakeup
    # It tries again and waits again instead of failing.
    Thread.pass until rl.stats[:limited] == 3
    wait_until_blocked(waiter)
    cancel.cancel!
    assert_raises(Llmkit::CancelledError) { waiter.join }
  end

  def test_an_interrupt_deferred_by_handle_interrupt_lets_acquire_finish
    rl = limiter(requests: 1, window: 2)
    rl.check("k")
    admitted = false
    waiter = Thread.new do
      Thread.current.report_on_exception = false
      Thread.handle_interrupt(Stop => :never) do
        rl.acquire("k", timeout: 10)
        admitted = true
      end
    end
    wait_until_blocked(waiter)
    # Refusals: one before waiting, one when the wait began.
    Thread.pass until rl.stats[:limited] == 2
    waiter.raise(Stop)
    # The deferred exception is raised once the block is done.
    assert_raises(Stop) { waiter.join }
    assert admitted
    assert_operator rl.stats[:limited], :>=, 3 # it waited again after the interrupt
  end

  def test_ctrl_c_interrupts_acquire_on_the_only_thread
    script = <<~RUBY
      require "llmkit"
      limiter = Llmkit::RateLimiter.new(requests: 1, window: 3600)
      limiter.check("k")
      begin
        puts "waiting"
        $stdout.flush
        limiter.acquire("k")
      rescue Interrupt
        puts "interrupted"
      end
    RUBY
    paths = %w[../lib ../build].flat_map { ["-I", File.expand_path(_1, __dir__)] }
    IO.popen([RbConfig.ruby, *paths, "-e", script], err: File::NULL) do |child|
      assert_equal "waiting\n", child.gets
      sleep 0.2 # time to get into the wait; interrupted either way
      took = elapsed do
        Process.kill("INT", child.pid)
        assert_equal "interrupted\n", child.gets
      end
      assert_operator took, :<, 2
    end
    assert_predicate $?, :success?
  end

  # ---- Cancel ------------------------------------------------------------------

  def test_cancel_from_another_thread_raises_cancelled
    rl = limiter(requests: 1, window: 3600)
    rl.check("k")
    cancel = Llmkit::Cancel.new
    waiters = 2.times.map do
      Thread.new do
        Thread.current.report_on_exception = false
        rl.acquire("k", timeout: 7200, cancel: cancel)
      end
    end
    waiters.each { wait_until_blocked(_1) }
    took = elapsed do
      assert_same cancel, cancel.cancel!
      waiters.each do |waiter|
        error = assert_raises(Llmkit::CancelledError) { waiter.join }
        assert_equal Llmkit::Status::CANCELLED, error.status
      end
    end
    assert_operator took, :<, 2
    assert_predicate cancel, :cancelled?
  end

  def test_a_triggered_cancel_stays_triggered_and_charges_nothing
    rl = limiter(requests: 5, window: 3600)
    cancel = Llmkit::Cancel.new
    refute_predicate cancel, :cancelled?
    rl.acquire("k", cancel: cancel)
    cancel.trigger
    cancel.trigger
    assert_predicate cancel, :cancelled?
    2.times { assert_raises(Llmkit::CancelledError) { rl.acquire("k", cancel: cancel) } }
    assert_equal 3, rl.check("k").remaining_requests
  end

  # ---- Errors and lifetime ------------------------------------------------------

  def test_bad_options_raise_with_llmkits_message
    {
      {} => "needs at least one of 'requests', 'tokens' or 'concurrency'",
      { requests: -1 } => "option 'requests' must be >= 0",
      { requests: "many" } => "option 'requests' must be an integer",
      { requests: 1, window: 0 } => "option 'window' must be 1 second to 1 year",
      { requests: 1, bogus: 1 } => "unknown option 'bogus'",
      { requests: 1, "shm.name" => "x" } => "unknown option 'shm.name'",
      { requests: 1, backend: :nope } => "unknown rate limiter backend 'nope'"
    }.each do |options, message|
      error = assert_raises(Llmkit::InvalidArgumentError, options.inspect) { Llmkit::RateLimiter.new(options) }
      assert_includes error.message, message
    end
    error = assert_raises(Llmkit::InvalidArgumentError) { Llmkit::RateLimiter.new(requests: 1, backend: "shm") }
    assert_includes error.message, "shm.name"
    assert_raises(TypeError) { Llmkit::RateLimiter.new([[:requests, 1]]) }
  end

  def test_options_object_or_string_keys
    options = Llmkit::Options.new.set("requests", "2").set("window", "3600")
    rl = Llmkit::RateLimiter.new(options).tap { @limiters << _1 }
    options.close # copied
    assert_equal 1, rl.check("k").remaining_requests
    assert_equal 1, limiter("requests" => 2, "backend" => "memory").check("k").remaining_requests
  end

  def test_bad_arguments
    rl = limiter(tokens: 100)
    assert_raises(TypeError) { rl.check(nil) }
    assert_raises(TypeError) { rl.check(:user) }
    assert_raises(TypeError) { rl.check("k", tokens: 1.5) }
    error = assert_raises(RangeError) { rl.check("k", tokens: -1) }
    assert_equal "tokens must be >= 0, not -1", error.message
    assert_raises(RangeError) { rl.reconcile("k", reserved: -1, actual: 0) }
    assert_raises(RangeError) { rl.check("k", tokens: 2**64) }
    assert_raises(Llmkit::InvalidArgumentError) { rl.check("k", tokens: 2**62) }
    assert_raises(ArgumentError) { rl.acquire("k", timeout: -1) }
    assert_raises(ArgumentError) { rl.acquire("k", timeout: Float::NAN) }
    assert_raises(TypeError) { rl.acquire("k", cancel: true) }
    assert_same rl, rl.acquire("k", timeout: Float::INFINITY)
    assert_equal({ allowed: 1, limited: 0 }, rl.stats.slice(:allowed, :limited))
  end

  def test_close_is_idempotent_and_later_use_raises
    rl = limiter(requests: 1)
    assert_nil rl.close
    rl.close
    assert_predicate rl, :closed?
    [-> { rl.check("k") }, -> { rl.acquire("k") }, -> { rl.release("k") },
     -> { rl.reconcile("k", reserved: 1, actual: 0) }, -> { rl.stats }].each do |call|
      error = assert_raises(Llmkit::InvalidArgumentError) { call.call }
      assert_equal "rate limiter is closed", error.message
    end
  end

  def test_close_wakes_a_waiting_acquire
    rl = limiter(concurrency: 1)
    rl.check("k")
    waiter = Thread.new do
      Thread.current.report_on_exception = false
      rl.acquire("k")
    end
    wait_until_blocked(waiter)
    rl.close
    error = assert_raises(Llmkit::InvalidArgumentError) { waiter.join }
    assert_equal "rate limiter is closed", error.message
  end

  def test_gc_frees_dropped_limiters
    100.times do |i|
      dropped = Llmkit::RateLimiter.new(requests: 1)
      dropped.check("k")
      dropped.close if i.even?
    end
    GC.start
    assert_predicate limiter(requests: 1).check("k"), :allowed?
  end
end
