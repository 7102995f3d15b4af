/**
 * Lua scripts of the Redis limit store. Each runs atomically on the Redis server, which is what
 * makes check-then-charge safe across API instances. Both read only the keys passed in KEYS, so
 * they are valid on Redis Cluster when all keys hash to one slot: the store's prefix carries one
 * hash tag (see RedisLimitStore keyPrefix), so every limit key lives in that slot.
 */

/**
 * KEYS: 1 rpm current, 2 rpm previous, 3 rph current, 4 rph previous, 5 tokens of the day,
 *       6.. spend of each group this month.
 * ARGV: 1 rpm limit (-1 none), 2 ms left in the current minute window, 3 minute window ms,
 *       4 rph limit, 5 ms left in the hour window, 6 hour window ms, 7 tokens/day limit, 8 day ttl ms,
 *       9 estimated tokens, 10 estimated micro-USD, 11 month ttl ms, 11+g budget of group g (-1 none).
 * Returns {'ok', spentAfter1, …} or the refusal: {'rpm'|'rph', cur, prev},
 * {'tokens_per_day', used}, {'monthly_budget', groupIndex (1-based), spent}.
 */
export const RESERVE_SCRIPT = `
local function get(key) return tonumber(redis.call('GET', key) or '0') end
-- Sliding window counter, multiplied out to stay in exact integers (see slidingRefuses).
local function refused(curKey, prevKey, limit, remaining, size)
  if limit < 0 then return nil end
  local cur, prev = get(curKey), get(prevKey)
  if prev * remaining + (cur + 1) * size > limit * size then return {cur, prev} end
  return nil
end
local r = refused(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
if r then return {'rpm', r[1], r[2]} end
r = refused(KEYS[3], KEYS[4], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]))
if r then return {'rph', r[1], r[2]} end
local tokens = tonumber(ARGV[9])
local tokensLimit = tonumber(ARGV[7])
local usedTokens = get(KEYS[5])
if tokensLimit >= 0 and usedTokens + tokens > tokensLimit then return {'tokens_per_day', usedTokens} end
local cost = tonumber(ARGV[10])
for i = 6, #KEYS do
  local budget = tonumber(ARGV[6 + i])
  local spent = get(KEYS[i])
  if budget >= 0 and spent + cost > budget then return {'monthly_budget', i - 5, spent} end
end
redis.call('INCR', KEYS[1])
-- A window's count is still needed as the previous window during the next one.
redis.call('PEXPIRE', KEYS[1], 2 * tonumber(ARGV[3]))
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], 2 * tonumber(ARGV[6]))
redis.call('INCRBY', KEYS[5], tokens)
redis.call('PEXPIRE', KEYS[5], ARGV[8])
local out = {'ok'}
for i = 6, #KEYS do
  out[#out + 1] = redis.call('INCRBY', KEYS[i], cost)
  redis.call('PEXPIRE', KEYS[i], ARGV[11])
end
return out
`;

/**
 * KEYS: 1 settled marker of the reservation, 2 tokens of the day, 3.. spend of each group.
 * ARGV: 1 marker ttl ms, 2 token delta, 3 micro-USD delta, 4 day ttl ms, 5 month ttl ms.
 * Returns {0} when already settled, else {1, spentAfter1, …}.
 */
export const SETTLE_SCRIPT = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return {0} end
local function adjust(key, delta, ttl)
  local after = redis.call('INCRBY', key, delta)
  if after < 0 then
    redis.call('SET', key, '0')
    after = 0
  end
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ttl) end
  return after
end
adjust(KEYS[2], tonumber(ARGV[2]), ARGV[4])
local out = {1}
for i = 3, #KEYS do
  out[#out + 1] = adjust(KEYS[i], tonumber(ARGV[3]), ARGV[5])
end
return out
`;

/** Reads the counters of a usage snapshot (no writes). */
export const USAGE_SCRIPT = `
local out = {}
for i = 1, #KEYS do out[i] = tonumber(redis.call('GET', KEYS[i]) or '0') end
return out
`;
