import { AppError } from "@raptscallions/core";
import { assertRoom } from "../room.ts";
import type { OnlineUser, Presence, PresenceChange, PresenceMember, PresenceSnapshot } from "./types.ts";

interface Entry {
  member: PresenceMember;
  expiresAt: number;
}

interface RoomPresence {
  connections: Map<string, Entry>;
  /** Users announced online (a join reported `changed`) and not yet announced offline. */
  announced: Set<string>;
}

/** In-process presence for the embedded server and tests; same semantics as the Redis one. */
export function createMemoryPresence(options: { now?: () => number } = {}): Presence {
  const now = options.now ?? Date.now;
  const rooms = new Map<string, RoomPresence>();

  const roomOf = (room: string): RoomPresence => {
    assertRoom(room);
    let state = rooms.get(room);
    if (!state) {
      state = { connections: new Map(), announced: new Set() };
      rooms.set(room, state);
    }
    return state;
  };

  const isLive = (state: RoomPresence, userId: string, at: number): boolean => {
    for (const entry of state.connections.values()) {
      if (entry.member.userId === userId && entry.expiresAt > at) return true;
    }
    return false;
  };

  /** Announces the user offline if this removal left them with no live connection. */
  const settle = (state: RoomPresence, userId: string, at: number): boolean => !isLive(state, userId, at) && state.announced.delete(userId);

  const list = (room: string): PresenceSnapshot => {
    const state = roomOf(room);
    const at = now();
    const dropped = new Set<string>();
    for (const [connectionId, entry] of state.connections) {
      if (entry.expiresAt > at) continue;
      state.connections.delete(connectionId);
      dropped.add(entry.member.userId);
    }
    const expired = [...dropped].filter((userId) => settle(state, userId, at)).sort();
    const members = dedupe([...state.connections.values()]);
    if (state.connections.size === 0 && state.announced.size === 0) rooms.delete(room);
    return { members, expired };
  };

  const upsert = async (room: string, member: PresenceMember, ttlMs: number): Promise<PresenceChange> => {
    assertPresenceInput(member, ttlMs);
    const state = roomOf(room);
    state.connections.set(member.connectionId, { member: { ...member }, expiresAt: now() + ttlMs });
    if (state.announced.has(member.userId)) return { userId: member.userId, online: true, changed: false };
    state.announced.add(member.userId);
    return { userId: member.userId, online: true, changed: true, snapshot: list(room) };
  };

  return {
    join: upsert,
    heartbeat: upsert,
    async leave(room, connectionId) {
      const state = roomOf(room);
      const entry = state.connections.get(connectionId);
      if (!entry) return null;
      state.connections.delete(connectionId);
      const at = now();
      const changed = settle(state, entry.member.userId, at);
      const online = isLive(state, entry.member.userId, at);
      if (changed) return { userId: entry.member.userId, online, changed, snapshot: list(room) };
      if (state.connections.size === 0 && state.announced.size === 0) rooms.delete(room);
      return { userId: entry.member.userId, online, changed };
    },
    async list(room): Promise<PresenceSnapshot> {
      return list(room);
    },
  };
}

/** One row per user; role and name from the connection refreshed last. */
export function dedupe(entries: ReadonlyArray<{ member: PresenceMember; expiresAt: number }>): OnlineUser[] {
  const byUser = new Map<string, { user: OnlineUser; expiresAt: number }>();
  for (const { member, expiresAt } of entries) {
    const seen = byUser.get(member.userId);
    if (seen) {
      seen.user.connections += 1;
      if (expiresAt <= seen.expiresAt) continue;
      seen.expiresAt = expiresAt;
      seen.user.role = member.role;
      seen.user.name = member.name;
      if (member.name === undefined) delete seen.user.name;
      continue;
    }
    const user: OnlineUser = { userId: member.userId, role: member.role, connections: 1 };
    if (member.name !== undefined) user.name = member.name;
    byUser.set(member.userId, { user, expiresAt });
  }
  return [...byUser.values()].map(({ user }) => user).sort((a, b) => a.userId.localeCompare(b.userId));
}

/** Rejects members and TTLs that would corrupt the store (shared by both implementations). */
export function assertPresenceInput(member: PresenceMember, ttlMs: number): void {
  const ok =
    typeof member.userId === "string" &&
    member.userId.length > 0 &&
    member.userId.length <= 200 &&
    typeof member.connectionId === "string" &&
    member.connectionId.length > 0 &&
    member.connectionId.length <= 200 &&
    typeof member.role === "string" &&
    Number.isSafeInteger(ttlMs) &&
    ttlMs > 0;
  if (!ok) throw new AppError("BAD_REQUEST", "Invalid presence member or TTL");
}
