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
-- Prunes expired connections (reporting users left with none, once) and lists the live ones:
-- {expiredUserIds, flat [json, expiry, json, expiry, …]}.
local function listRoom(now)
  local dropped = {}
  for _, conn in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
    local raw = redis.call('HGET', KEYS[2], conn)
    if raw then dropped[cjson.decode(raw).userId] = true end
    redis.call('ZREM', KEYS[1], conn)
    redis.call('HDEL', KEYS[2], conn)
  end
  local live = liveUsers(now)
  local expired = {}
  for userId in pairs(dropped) do
    if not live[userId] and redis.call('HDEL', KEYS[3], userId) == 1 then table.insert(expired, userId) end
  end
  local members = {}
  local entries = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES')
  for i = 1, #entries, 2 do
    local raw = redis.call('HGET', KEYS[2], entries[i])
    if raw then
      table.insert(members, raw)
      table.insert(members, entries[i + 1])
    end
  end
  return {expired, members}
end
local function keepKeys(ttl)
  for i = 1, 3 do
    if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end
`;

// ARGV: expiresAt, connectionId, userId, member JSON, key TTL, now → {1, listing} if the user came
// online (the listing is what announcing it needs, read in the same step), else {0}.
const JOIN = defineScript(`${LIVE_USERS}
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
local changed = redis.call('HSETNX', KEYS[3], ARGV[3], '1')
keepKeys(tonumber(ARGV[5]))
if changed == 1 then return {1, listRoom(ARGV[6])} end
return {0}
`);

// ARGV: now, connectionId → nil, or {userId, changed, stillOnline, listing when changed}.
const LEAVE = defineScript(`${LIVE_USERS}
local raw = redis.call('HGET', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
if not raw then return nil end
local userId = cjson.decode(raw).userId
if liveUsers(ARGV[1])[userId] then return {userId, 0, 1} end
local changed = redis.call('HDEL', KEYS[3], userId)
if changed == 1 then return {userId, 1, 0, listRoom(ARGV[1])} end
return {userId, 0, 0}
`);

type Listing = [string[], string[]];

function snapshotOf([expired, flat]: Listing): PresenceSnapshot {
  const entries: Array<{ member: PresenceMember; expiresAt: number }> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const raw = flat[i];
    const score = flat[i + 1];
    if (raw === undefined || score === undefined) continue;
    entries.push({ member: JSON.parse(raw) as PresenceMember, expiresAt: Number(score) });
  }
  return { members: dedupe(entries), expired: [...expired].sort() };
}

// ARGV: now → {expiredUserIds, flat [json, expiry, json, expiry, …] of live connections}.
const LIST = defineScript(`${LIVE_USERS}
return listRoom(ARGV[1])
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
    const at = now();
    const [changed, listing] = (await run(JOIN, keysOf(room), [at + ttlMs, member.connectionId, member.userId, JSON.stringify(stored), ttlMs + keyGraceMs, at])) as [
      number,
      Listing | undefined,
    ];
    if (changed !== 1 || !listing) return { userId: member.userId, online: true, changed: false };
    return { userId: member.userId, online: true, changed: true, snapshot: snapshotOf(listing) };
  };

  return {
    join: upsert,
    heartbeat: upsert,
    async leave(room, connectionId) {
      const reply = await run(LEAVE, keysOf(room), [now(), connectionId]);
      if (!Array.isArray(reply)) return null;
      const [userId, changed, stillOnline, listing] = reply as [string, number, number, Listing | undefined];
      if (changed !== 1 || !listing) return { userId, online: stillOnline === 1, changed: false };
      return { userId, online: false, changed: true, snapshot: snapshotOf(listing) };
    },
    async list(room): Promise<PresenceSnapshot> {
      return snapshotOf((await run(LIST, keysOf(room), [now()])) as Listing);
    },
  };
}
