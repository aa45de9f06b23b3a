// The Lua script behind the "redis" backend: GCRA on the Redis clock, the
// same steps as ratelimit/gcra.h and admit() in ratelimit/entry.h, run
// atomically per key.
//
// KEYS[1]: the key's state, a hash: rs/rn and ts/tn are the theoretical
//          arrival times of requests and tokens, as seconds and nanoseconds.
// KEYS[2]: its concurrency slots, a sorted set of holder -> lease expiry (ms).
// Both carry the same {hash tag}, so they live in one Redis Cluster slot.
//
// Lua numbers are doubles. Every value below stays under 2^53, so the
// arithmetic is exact: the store refuses a limit whose burst takes longer
// than 2^52 ns (52 days) to refill, times are kept relative to now, and
// numbers handed to Redis are formatted as integers.
#pragma once

namespace llmkit::ratelimit {

inline constexpr const char* kRedisScript = R"lua(
local E9 = 1000000000
local MAXD = 4503599627370496
local t = redis.call('TIME')
local S, N = tonumber(t[1]), tonumber(t[2]) * 1000

local function idiv(a, b) return (a - math.fmod(a, b)) / b end
local function int(x) return string.format('%d', x) end
local nowms = S * 1000 + idiv(N, 1000000)

-- ns from now to a stored time; 0 when it is past or unset
local function ahead(s, n)
  if not s then return 0 end
  local d = (tonumber(s) - S) * E9 + (tonumber(n) - N)
  if d < 0 then return 0 end
  return d
end

-- stores now + d
local function put(fs, fn, d)
  local s, n = S + idiv(d, E9), N + math.fmod(d, E9)
  if n >= E9 then s, n = s + 1, n - E9 end
  redis.call('HSET', KEYS[1], fs, int(s), fn, int(n))
end

local function keep(key, ms)
  local ttl = redis.call('PTTL', key)
  if ttl < ms then redis.call('PEXPIRE', key, int(ms)) end
end

-- a request of `cost` units against a rate whose TAT is d ns ahead:
-- allowed, the new d, what stays admissible, the wait (-1: never fits)
local function gcra(interval, burst, d, cost)
  if interval == 0 then return true, d, -1, 0 end
  local tol = burst * interval
  local left = 0
  if tol > d then left = idiv(tol - d, interval) end
  if cost > burst then return false, d, left, -1 end
  local nd = d + cost * interval
  if nd <= tol then return true, nd, idiv(tol - nd, interval), 0 end
  return false, d, left, nd - tol
end

local op = ARGV[1]
if op == 'admit' then
  -- ARGV: requests interval, burst, tokens interval, burst, concurrency,
  -- tokens, holder, lease ms. Returns allowed, limited by (1 requests,
  -- 2 tokens, 3 concurrency), remaining requests, tokens (-1: no limit),
  -- wait ns.
  local ri, rb, ti, tb = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
  local conc, cost = tonumber(ARGV[6]), tonumber(ARGV[7])
  local st = redis.call('HMGET', KEYS[1], 'rs', 'rn', 'ts', 'tn')
  local rok, rnd, rrem, rwait = gcra(ri, rb, ahead(st[1], st[2]), 1)
  local tok, tnd, trem, twait = gcra(ti, tb, ahead(st[3], st[4]), cost)
  local by, wait = 0, 0
  if not rok then by, wait = 1, rwait end
  if not tok and (by == 0 or twait < 0 or (wait >= 0 and twait > wait)) then by, wait = 2, twait end
  if by == 0 and conc > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', int(nowms))
    if redis.call('ZCARD', KEYS[2]) >= conc then by = 3 end
  end
  if by ~= 0 then
    if rok and ri > 0 then rrem = rrem + 1 end
    if tok and ti > 0 then trem = trem + cost end
    return {0, by, rrem, trem, wait}
  end
  if ri > 0 then put('rs', 'rn', rnd) end
  if ti > 0 then put('ts', 'tn', tnd) end
  if ri > 0 or ti > 0 then keep(KEYS[1], idiv(math.max(rnd, tnd), 1000000) + 1000) end
  if conc > 0 then
    local lease = tonumber(ARGV[9])
    redis.call('ZADD', KEYS[2], int(nowms + lease), ARGV[8])
    keep(KEYS[2], lease + 1000)
  end
  return {1, 0, rrem, trem, 0}
elseif op == 'release' then
  -- ARGV: holder. Returns 1 when its lease had not run out.
  return redis.call('ZREM', KEYS[2], ARGV[2])
elseif op == 'adjust' then
  -- ARGV: tokens interval, tokens to charge (< 0: refund)
  local ti, delta = tonumber(ARGV[2]), tonumber(ARGV[3])
  local st = redis.call('HMGET', KEYS[1], 'ts', 'tn')
  local d = ahead(st[1], st[2]) + delta * ti
  if d < 0 then d = 0 elseif d > MAXD then d = MAXD end
  put('ts', 'tn', d)
  keep(KEYS[1], idiv(d, 1000000) + 1000)
  return 1
elseif op == 'renew' then
  -- ARGV: lease ms, holders. Extends the leases that have not run out.
  local lease = tonumber(ARGV[2])
  for i = 3, #ARGV do redis.call('ZADD', KEYS[2], 'XX', int(nowms + lease), ARGV[i]) end
  keep(KEYS[2], lease + 1000)
  return 1
end
return redis.error_reply('llmkit: unknown operation ' .. tostring(op))
)lua";

}  // namespace llmkit::ratelimit
