/**
 * Lua run atomically inside Redis, so replicas never race between reading and writing a limit.
 * The clock is Redis's own TIME: replicas with skewed clocks still agree on refill.
 */

const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** Same steps as takeFromBucket in token-bucket.ts. KEYS[1] bucket; ARGV capacity, refillPerMs, amount, mode. */
export const TAKE_TOKENS_LUA = `${NOW_MS}
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local amount = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'level', 'ts')
local level = capacity
if state[1] and state[2] then
  local elapsed = math.max(0, now - tonumber(state[2]))
  level = math.min(capacity, tonumber(state[1]) + elapsed * rate)
end
local needed = math.min(amount, capacity)
local allowed = 1
local retry = 0
if ARGV[4] == 'try' and level < needed then
  allowed = 0
  retry = math.ceil((needed - level) / rate)
else
  level = math.min(capacity, level - amount)
end
redis.call('HSET', KEYS[1], 'level', string.format('%.17g', level), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - level) / rate) + 1000)
return {allowed, string.format('%.17g', level), retry}
`;

/** KEYS[1] sorted set of lease ids scored by expiry; ARGV max, ttlMs, leaseId. Returns 1 when taken. */
export const ACQUIRE_LEASE_LUA = `${NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 1000)
return 1
`;

/** KEYS[1] counter; ARGV amount, ttlMs. The expiry is set by the first write only. */
export const ADD_TO_COUNTER_LUA = `
local total = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return total
`;
