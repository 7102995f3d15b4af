/** One connection's claim to be in a room. */
export interface PresenceMember {
  userId: string;
  /** One per WebSocket; a user with two tabs has two. */
  connectionId: string;
  role: string;
  name?: string;
}

/** A user currently online in a room, however many connections they hold. */
export interface OnlineUser {
  userId: string;
  /** Role and name of the user's most recently refreshed connection. */
  role: string;
  name?: string;
  connections: number;
}

/**
 * The effect of a join/heartbeat/leave on the *user's* status in the room. `changed` is true when
 * the user just came online or went offline: publish a presence event on the bus exactly then.
 * Every transition is reported once, by whichever call (on whichever instance) makes it, because
 * the store remembers which users it has announced as online.
 */
export interface PresenceChange {
  userId: string;
  online: boolean;
  changed: boolean;
  /**
   * When `changed`: the room as `list` would give it right after this call (expired connections
   * pruned and reported), read in the same atomic step, so announcing the change needs no second
   * round trip.
   */
  snapshot?: PresenceSnapshot;
}

export interface PresenceSnapshot {
  members: OnlineUser[];
  /**
   * Users whose last connection timed out (a crashed instance, a silent network), pruned by this
   * read. Each drop-out is reported by exactly one call across all instances: publish them as
   * offline.
   */
  expired: string[];
}

/**
 * Who is in which room, across instances. Entries expire `ttlMs` after the last join/heartbeat,
 * so users of a crashed instance drop out without anyone calling `leave`.
 */
export interface Presence {
  join(room: string, member: PresenceMember, ttlMs: number): Promise<PresenceChange>;
  /** Refreshes the connection's expiry; re-adds it if it already expired (same result as `join`). */
  heartbeat(room: string, member: PresenceMember, ttlMs: number): Promise<PresenceChange>;
  /** Null when the connection was not (or no longer) present. */
  leave(room: string, connectionId: string): Promise<PresenceChange | null>;
  /** Users online now, deduplicated by user; prunes expired connections. */
  list(room: string): Promise<PresenceSnapshot>;
}
