# One process of test/bindings/shared_limit_test.sh: checks one key of a
# shared-memory rate limit from Ruby, as a Ruby worker would.
require "llmkit"

name, start, ms = ARGV[0], Integer(ARGV[1]), Integer(ARGV[2])
limiter = Llmkit::RateLimiter.new(backend: "shm", "shm.name": name, requests: 1000, window: 1,
                                  burst_requests: 50)
now = -> { Process.clock_gettime(Process::CLOCK_REALTIME, :microsecond) }
sleep([(start * 1000 - now.call) / 1e6, 0].max)
first = now.call
finish = first + ms * 1000
admitted = 0
while now.call < finish
  admitted += 1 if limiter.check("shared").allowed?
end
puts "ruby #{admitted} #{first} #{now.call}"
