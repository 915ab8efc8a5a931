import { BUDGET_EPSILON } from "./shared-state.js";

/**
 * Lua run atomically inside Redis, so replicas never race between reading and writing a limit.
 * The clock is Redis's own TIME: replicas with skewed clocks still agree on refill.
 */

const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * The token bucket, step for step as takeFromBucket in token-bucket.ts (keep the two in step;
 * test/unit/gateway/shared-state/redis-scripts.test.ts runs both and compares). Every script that
 * touches a bucket uses these, so the Lua side has one copy too.
 */
const BUCKET = `
local function bucket_level(key, capacity, rate)
  local state = redis.call('HMGET', key, 'level', 'ts')
  if state[1] and state[2] then
    local elapsed = math.max(0, now - tonumber(state[2]))
    return math.min(capacity, tonumber(state[1]) + elapsed * rate)
  end
  return capacity
end

-- Whether amount fits, and if not how long until it does. More than capacity fits a full bucket.
local function bucket_fits(level, capacity, rate, amount)
  local needed = math.min(amount, capacity)
  if level < needed then
    return false, math.ceil((needed - level) / rate)
  end
  return true, 0
end

local function bucket_store(key, level, capacity, rate)
  redis.call('HSET', key, 'level', string.format('%.17g', level), 'ts', tostring(now))
  redis.call('PEXPIRE', key, math.ceil((capacity - level) / rate) + 1000)
end
`;

/** KEYS[1] bucket; ARGV capacity, refillPerMs, amount, mode. Returns allowed (1/0), level, retry ms. */
export const TAKE_TOKENS_LUA = `${NOW_MS}${BUCKET}
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local amount = tonumber(ARGV[3])
local level = bucket_level(KEYS[1], capacity, rate)
local fits, retry = bucket_fits(level, capacity, rate, amount)
local allowed = 1
if ARGV[4] == 'try' and not fits then
  allowed = 0
else
  level = math.min(capacity, level - amount)
  retry = 0
end
bucket_store(KEYS[1], level, capacity, rate)
return {allowed, string.format('%.17g', level), retry}
`;

/**
 * The budget, step for step as budgetFits in budget-hold.ts and MemorySharedState (keep them in
 * step; the same test compares them). A budget is two counters: spent, and held by requests in flight.
 */
const BUDGET = `
local EPSILON = ${BUDGET_EPSILON}

local function counter(key)
  return tonumber(redis.call('GET', key) or '0')
end

local function budget_fits(spent, held, limit, amount)
  return spent < limit and spent + math.max(0, held) + amount <= limit + EPSILON
end

local function add_to_counter(key, amount, ttl)
  local total = tonumber(redis.call('INCRBYFLOAT', key, string.format('%.17g', amount)))
  if redis.call('PTTL', key) < 0 then
    redis.call('PEXPIRE', key, ttl)
  end
  return total
end
`;

/**
 * SharedState.admit. ARGV holds four values per check: 'bucket', capacity, refillPerMs, amount
 * (one key: the bucket); or 'budget', limit, amount, ttlMs (two keys: spent and held). Takes from
 * every bucket and holds on every budget only once all checks pass. Returns the 1-based index of
 * the first check that refused (0 when none did), its retry ms, its bucket level or budget spend,
 * and the budget's hold.
 */
export const ADMIT_LUA = `${NOW_MS}${BUCKET}${BUDGET}
local takes = {}
local holds = {}
local k = 1
for i = 1, #ARGV / 4 do
  local base = (i - 1) * 4
  if ARGV[base + 1] == 'bucket' then
    local key = KEYS[k]
    k = k + 1
    local capacity = tonumber(ARGV[base + 2])
    local rate = tonumber(ARGV[base + 3])
    local amount = tonumber(ARGV[base + 4])
    local level = bucket_level(key, capacity, rate)
    local fits, retry = bucket_fits(level, capacity, rate, amount)
    if not fits then
      return {i, retry, string.format('%.17g', level), '0'}
    end
    takes[#takes + 1] = {key, math.min(capacity, level - amount), capacity, rate}
  else
    local spent_key, held_key = KEYS[k], KEYS[k + 1]
    k = k + 2
    local amount = tonumber(ARGV[base + 3])
    local spent, held = counter(spent_key), counter(held_key)
    if not budget_fits(spent, held, tonumber(ARGV[base + 2]), amount) then
      return {i, 0, string.format('%.17g', spent), string.format('%.17g', math.max(0, held))}
    end
    if amount > 0 then
      holds[#holds + 1] = {held_key, amount, tonumber(ARGV[base + 4])}
    end
  end
end
for _, take in ipairs(takes) do
  bucket_store(take[1], take[2], take[3], take[4])
end
for _, hold in ipairs(holds) do
  add_to_counter(hold[1], hold[2], hold[3])
end
return {0, 0, '0', '0'}
`;

/** KEYS spent, held; ARGV release, spend, ttlMs: gives back a hold and adds the spend, atomically; returns the spend. */
export const SETTLE_BUDGET_LUA = `${BUDGET}
local release, spend, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if release ~= 0 then
  -- Never below zero: a hold taken while Redis was away was never recorded.
  if add_to_counter(KEYS[2], -release, ttl) < EPSILON then
    redis.call('DEL', KEYS[2])
  end
end
if spend ~= 0 then
  add_to_counter(KEYS[1], spend, ttl)
end
return string.format('%.17g', counter(KEYS[1]))
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
