import { assertKvInput } from "./validate.ts";
import type { KeySelector, KeyValueStore } from "./types.ts";

interface Slot {
  value: string;
  expiresAt: number | undefined;
}

/** In-process key-value store for the embedded server and tests; same semantics as Redis. */
export function createMemoryKeyValueStore(options: { now?: () => number } = {}): KeyValueStore {
  const now = options.now ?? Date.now;
  const slots = new Map<string, Slot>();
  let writesSinceSweep = 0;

  const live = (key: string): Slot | undefined => {
    const slot = slots.get(key);
    if (slot?.expiresAt !== undefined && slot.expiresAt <= now()) {
      slots.delete(key);
      return undefined;
    }
    return slot;
  };

  // Expired keys nobody reads again would otherwise live forever; sweep now and then on writes.
  const afterWrite = (): void => {
    writesSinceSweep += 1;
    if (writesSinceSweep < 1000) return;
    writesSinceSweep = 0;
    const at = now();
    for (const [key, slot] of slots) if (slot.expiresAt !== undefined && slot.expiresAt <= at) slots.delete(key);
  };

  return {
    async get(key) {
      assertKvInput(key);
      return live(key)?.value ?? null;
    },
    async set(key, value, ttlMs) {
      assertKvInput(key, ttlMs);
      slots.set(key, { value, expiresAt: ttlMs === undefined ? undefined : now() + ttlMs });
      afterWrite();
    },
    async getDel(key) {
      assertKvInput(key);
      const slot = live(key);
      slots.delete(key);
      return slot?.value ?? null;
    },
    async del(selector: KeySelector) {
      let removed = 0;
      if (typeof selector === "object" && "prefix" in selector) {
        assertKvInput(selector.prefix);
        for (const key of [...slots.keys()]) {
          if (key.startsWith(selector.prefix) && live(key) && slots.delete(key)) removed += 1;
        }
        return removed;
      }
      for (const key of typeof selector === "string" ? [selector] : selector) {
        assertKvInput(key);
        if (live(key) && slots.delete(key)) removed += 1;
      }
      return removed;
    },
    async incr(key, by = 1, ttlMs) {
      assertKvInput(key, ttlMs);
      if (!Number.isSafeInteger(by)) throw new RangeError("incr amount must be an integer");
      const slot = live(key);
      if (!slot) {
        slots.set(key, { value: String(by), expiresAt: ttlMs === undefined ? undefined : now() + ttlMs });
        afterWrite();
        return by;
      }
      if (!/^-?\d+$/.test(slot.value)) throw new RangeError(`value of ${key} is not an integer`);
      const next = Number(slot.value) + by;
      slot.value = String(next);
      return next;
    },
  };
}
