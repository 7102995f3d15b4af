/**
 * Lua scripts of the Redis limit store. Each runs atomically on the Redis server, which is what
 * makes check-then-charge safe across API instances. Both read only the keys passed in KEYS, so
 * they are valid on Redis Cluster when all keys hash to one slot: the store's prefix carries one
 * hash tag (see RedisLimitStore keyPrefix), so every limit key lives in that slot.
 */

/**
 * Counters get their time to live when they are created, not on every charge: a charge leaves a
 * counter at exactly its amount only when the counter was absent (or at zero), and every counter
 * that exists was given its TTL by the script that created it (`charge` here, `adjust` below), so
 * each charge is one INCRBY where it used to be an INCRBY and a PEXPIRE (a settle, an INCRBY and a
 * PTTL). A window's TTL counts from its first charge, which lies inside the window: twice the
 * window from there still covers the next window, where it is read as the previous one.
 */
const CHARGE = `
local function charge(key, amount, ttl)
  -- Charging nothing (a free model) changes nothing: read, and leave an absent counter absent.
  if amount == 0 then return tonumber(redis.call('GET', key) or '0') end
  local after = redis.call('INCRBY', key, amount)
  if after == amount then redis.call('PEXPIRE', key, ttl) end
  return after
end
`;

/**
 * KEYS: 1 rpm current, 2 rpm previous, 3 rph current, 4 rph previous, 5 tokens of the day,
 *       6 the reservation kept under its subject, 7.. spend of each group this month.
 * ARGV: 1 rpm limit (-1 none), 2 ms left in the current minute window, 3 minute window ms,
 *       4 rph limit, 5 ms left in the hour window, 6 hour window ms, 7 tokens/day limit, 8 day ttl ms,
 *       9 estimated tokens, 10 estimated micro-USD, 11 month ttl ms, 12 the reservation's JSON to
 *       keep ('' = no subject, KEYS[6] untouched), 13 its ttl ms, 13+g budget of group g (-1 none).
 * Returns {'ok', spentAfter1, …} or the refusal: {'rpm'|'rph', cur, prev},
 * {'tokens_per_day', used}, {'monthly_budget', groupIndex (1-based), spent}.
 * Only limits that are set are read (a counter without a limit is charged, never compared). The
 * reservation is kept in the same step as its charge: no crash can leave a charge nobody can find.
 */
export const RESERVE_SCRIPT = `${CHARGE}
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
if tokensLimit >= 0 then
  local usedTokens = get(KEYS[5])
  if usedTokens + tokens > tokensLimit then return {'tokens_per_day', usedTokens} end
end
local cost = tonumber(ARGV[10])
for i = 7, #KEYS do
  local budget = tonumber(ARGV[i + 7])
  if budget >= 0 then
    local spent = get(KEYS[i])
    if spent + cost > budget then return {'monthly_budget', i - 6, spent} end
  end
end
-- A window's count is still needed as the previous window during the next one.
charge(KEYS[1], 1, 2 * tonumber(ARGV[3]))
charge(KEYS[3], 1, 2 * tonumber(ARGV[6]))
charge(KEYS[5], tokens, ARGV[8])
if ARGV[12] ~= '' then redis.call('SET', KEYS[6], ARGV[12], 'PX', ARGV[13]) end
local out = {'ok'}
for i = 7, #KEYS do
  out[#out + 1] = charge(KEYS[i], cost, ARGV[11])
end
return out
`;

/**
 * KEYS: 1 settled marker of the reservation, 2 the reservation kept under its subject, 3 tokens of
 *       the day, 4.. spend of each group.
 * ARGV: 1 marker ttl ms, 2 token delta, 3 micro-USD delta, 4 day ttl ms, 5 month ttl ms,
 *       6 the reservation's id when it was kept ('' = it has no subject).
 * Returns {0} when already settled, else {1, spentAfter1, …}. A counter that expired since its
 * reservation is created again, with its TTL; one the correction takes below zero is reset to zero;
 * a correction of zero only reads. The kept reservation is dropped only if it is this one (its JSON
 * starts with its id): a later reservation under the same subject stays.
 */
export const SETTLE_SCRIPT = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return {0} end
local function adjust(key, delta, ttl)
  if delta == 0 then return tonumber(redis.call('GET', key) or '0') end
  local after = redis.call('INCRBY', key, delta)
  if after < 0 then
    redis.call('SET', key, '0', 'PX', ttl)
    return 0
  end
  if after == delta then redis.call('PEXPIRE', key, ttl) end
  return after
end
if ARGV[6] ~= '' then
  local kept = redis.call('GET', KEYS[2])
  if kept and string.find(kept, '{"id":"' .. ARGV[6] .. '"', 1, true) == 1 then redis.call('DEL', KEYS[2]) end
end
adjust(KEYS[3], tonumber(ARGV[2]), ARGV[4])
local out = {1}
for i = 4, #KEYS do
  out[#out + 1] = adjust(KEYS[i], tonumber(ARGV[3]), ARGV[5])
end
return out
`;

/** KEYS: 1 the reservation kept under a subject. Returns {json} or {''} when none is kept. */
export const UNSETTLED_SCRIPT = `
return {redis.call('GET', KEYS[1]) or ''}
`;

/** Reads the counters of a usage snapshot (no writes). */
export const USAGE_SCRIPT = `
local out = {}
for i = 1, #KEYS do out[i] = tonumber(redis.call('GET', KEYS[i]) or '0') end
return out
`;
