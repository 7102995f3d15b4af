export type { OnlineUser, Presence, PresenceChange, PresenceMember, PresenceSnapshot } from "./types.ts";
export { createMemoryPresence } from "./memory-presence.ts";
export { createRedisPresence, type RedisPresenceOptions } from "./redis-presence.ts";
