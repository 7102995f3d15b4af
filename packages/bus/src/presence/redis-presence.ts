import { defineScript, orUnavailable, type RedisClient, runScript } from "../redis-support.ts";
import { assertKeyPrefix, assertRoom } from "../room.ts";
import { assertPresenceInput, dedupe } from "./memory-presence.ts";
import type { Presence, PresenceChange, PresenceMember, PresenceSnapshot } from "./types.ts";

// KEYS: 1 = zset connectionId → expiry (ms), 2 = hash connectionId → member JSON,
//       3 = hash userId → "1" for users announced online.
// Each script works on one room's keys atomically, so two instances can never both announce the
// same transition. Rooms are classroom-sized (tens of connections): a scan per call is cheap.
const LIVE_USERS = `
local function liveUsers(now)
  local users = {}
  for _, conn in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')) do
    local raw = redis.call('HGET', KEYS[2], conn)
    if raw then users[cjson.decode(raw).userId] = true end
  end
  return users
end
local function keepKeys(ttl)
  for i = 1, 3 do
    if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end
`;

// ARGV: expiresAt, connectionId, userId, member JSON, key TTL → 1 if the user came online.
const JOIN = defineScript(`${LIVE_USERS}
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
local changed = redis.call('HSETNX', KEYS[3], ARGV[3], '1')
keepKeys(tonumber(ARGV[5]))
return changed
`);

// ARGV: now, connectionId → nil, or {userId, changed, stillOnline}.
const LEAVE = defineScript(`${LIVE_USERS}
local raw = redis.call('HGET', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
if not raw then return nil end
local userId = cjson.decode(raw).userId
if liveUsers(ARGV[1])[userId] then return {userId, 0, 1} end
return {userId, redis.call('HDEL', KEYS[3], userId), 0}
`);

// ARGV: now → {expiredUserIds, flat [json, expiry, json, expiry, …] of live connections}.
const LIST = defineScript(`${LIVE_USERS}
local dropped = {}
for _, conn in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])) do
  local raw = redis.call('HGET', KEYS[2], conn)
  if raw then dropped[cjson.decode(raw).userId] = true end
  redis.call('ZREM', KEYS[1], conn)
  redis.call('HDEL', KEYS[2], conn)
end
local live = liveUsers(ARGV[1])
local expired = {}
for userId in pairs(dropped) do
  if not live[userId] and redis.call('HDEL', KEYS[3], userId) == 1 then table.insert(expired, userId) end
end
local members = {}
local entries = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'WITHSCORES')
for i = 1, #entries, 2 do
  local raw = redis.call('HGET', KEYS[2], entries[i])
  if raw then
    table.insert(members, raw)
    table.insert(members, entries[i + 1])
  end
end
return {expired, members}
`);

export interface RedisPresenceOptions {
  /** A commands connection (can be the bus publisher). Not closed by this store. */
  redis: RedisClient;
  /** Default `rapt:presence:`. */
  keyPrefix?: string;
  now?: () => number;
  /** How long an idle room's keys outlive its last join, for garbage collection. Default 1 h. */
  keyGraceMs?: number;
}

/** Presence shared by all instances through Redis (see README for the key layout). */
export function createRedisPresence(options: RedisPresenceOptions): Presence {
  const { redis } = options;
  const prefix = options.keyPrefix ?? "rapt:presence:";
  const now = options.now ?? Date.now;
  const keyGraceMs = options.keyGraceMs ?? 60 * 60 * 1000;
  assertKeyPrefix(prefix);

  // An outage is a 503 ServiceUnavailableError, never a raw connection error.
  const run = (script: Parameters<typeof runScript>[1], keys: string[], args: Array<string | number>) =>
    orUnavailable("Presence (Redis)", () => runScript(redis, script, keys, args));

  const keysOf = (room: string): string[] => {
    assertRoom(room);
    const tag = `${prefix}{${room}}`;
    return [`${tag}:expiry`, `${tag}:members`, `${tag}:announced`];
  };

  const upsert = async (room: string, member: PresenceMember, ttlMs: number): Promise<PresenceChange> => {
    assertPresenceInput(member, ttlMs);
    const stored: PresenceMember = { userId: member.userId, connectionId: member.connectionId, role: member.role };
    if (member.name !== undefined) stored.name = member.name;
    const changed = await run(JOIN, keysOf(room), [now() + ttlMs, member.connectionId, member.userId, JSON.stringify(stored), ttlMs + keyGraceMs]);
    return { userId: member.userId, online: true, changed: changed === 1 };
  };

  return {
    join: upsert,
    heartbeat: upsert,
    async leave(room, connectionId) {
      const reply = await run(LEAVE, keysOf(room), [now(), connectionId]);
      if (!Array.isArray(reply)) return null;
      const [userId, changed, stillOnline] = reply as [string, number, number];
      return { userId, online: stillOnline === 1, changed: changed === 1 };
    },
    async list(room): Promise<PresenceSnapshot> {
      const reply = (await run(LIST, keysOf(room), [now()])) as [string[], string[]];
      const [expired, flat] = reply;
      const entries: Array<{ member: PresenceMember; expiresAt: number }> = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const raw = flat[i];
        const score = flat[i + 1];
        if (raw === undefined || score === undefined) continue;
        entries.push({ member: JSON.parse(raw) as PresenceMember, expiresAt: Number(score) });
      }
      return { members: dedupe(entries), expired: [...expired].sort() };
    },
  };
}
