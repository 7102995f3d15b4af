/** Which keys `del` removes: one key, several, or every key starting with a prefix. */
export type KeySelector = string | readonly string[] | { prefix: string };

/**
 * A small shared key-value store: single-use WebSocket tickets (`getDel`), caches (`set` with a
 * TTL, `del({ prefix })` to invalidate), counters (`incr`). Values are strings; callers encode.
 */
export interface KeyValueStore {
  get(key: string): Promise<string | null>;
  /** `ttlMs` omitted: the key never expires. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Returns the value and deletes the key atomically: of two concurrent calls exactly one wins. */
  getDel(key: string): Promise<string | null>;
  /** Returns how many keys were removed. */
  del(keys: KeySelector): Promise<number>;
  /** Adds `by` (default 1) and returns the new value; `ttlMs` applies only when this creates the key. */
  incr(key: string, by?: number, ttlMs?: number): Promise<number>;
}
