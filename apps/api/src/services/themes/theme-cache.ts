import type { KeyValueStore } from "@raptscallions/bus";
import { idsFromPath } from "@raptscallions/db";
import { createHash, randomUUID } from "node:crypto";
import type { Logger } from "../../lib/logger.ts";

/**
 * Resolved-theme cache, shared by every instance through the key-value store (Redis when
 * configured).
 *
 * Invalidation is by *generation*, not by deleting keys. Each group has a generation token in
 * kv (`theme:gen:<groupId>`), replaced with a fresh random value after any committed change to
 * that group's theme. A group's cache key is a digest of its ltree path and the generations of
 * every group on that path (root … itself), so a change to any ancestor yields a new key for
 * the whole subtree at once, on every instance, with no key scan; orphaned entries expire by TTL.
 *
 * Why this is race-free: a reader reads the generations *before* it reads the database, and a
 * writer bumps the generation *after* its transaction commits. A reader that saw the old
 * generation may write a stale value, but only under the old key, which nobody reads again.
 * Putting the path in the digest means a group moved elsewhere in the tree never reuses an entry
 * computed for its old ancestors.
 *
 * Random tokens rather than counters: if a generation key is ever lost (Redis restarted or
 * evicted it) a counter would start again at 1 and could meet an old entry; a fresh token
 * cannot. (A lost key reads as "0", which can only meet entries made before the group's first
 * change, and those expire within the TTL.)
 */

const GENERATION_PREFIX = "theme:gen:";
const ENTRY_PREFIX = "theme:v1:";
/** Bounds how long an orphaned or (after a lost kv write) stale entry can live. */
export const THEME_CACHE_TTL_MS = 10 * 60 * 1000;

export interface ThemeCache {
  /** The cache key for a group at `path`, or `null` when kv is unavailable (then: no caching). */
  keyFor(path: string): Promise<string | null>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  /** Call after the change committed: every cached theme at or below these groups is stale. */
  invalidate(groupIds: readonly string[]): Promise<void>;
}

/** The theme cache over `kv`; kv failures degrade to "not cached", never to a failed request. */
export function themeCache(kv: KeyValueStore, logger: Logger): ThemeCache {
  return {
    async keyFor(path) {
      const ids = idsFromPath(path);
      try {
        // Independent reads: ioredis pipelines them on one connection, so this is one round trip.
        const generations = await Promise.all(ids.map((id) => kv.get(GENERATION_PREFIX + id)));
        const digest = createHash("sha256")
          .update(`${path}|${generations.map((g) => g ?? "0").join(",")}`)
          .digest("hex");
        return `${ENTRY_PREFIX}${ids.at(-1) ?? "none"}:${digest}`;
      } catch (err) {
        logger.warn("theme cache unavailable; resolving from the database", { err });
        return null;
      }
    },
    async get(key) {
      try {
        return await kv.get(key);
      } catch (err) {
        logger.warn("theme cache read failed", { err });
        return null;
      }
    },
    async set(key, value) {
      try {
        await kv.set(key, value, THEME_CACHE_TTL_MS);
      } catch (err) {
        logger.warn("theme cache write failed", { err });
      }
    },
    async invalidate(groupIds) {
      const unique = [...new Set(groupIds)];
      for (let attempt = 1; ; attempt++) {
        try {
          await Promise.all(unique.map((id) => kv.set(GENERATION_PREFIX + id, randomUUID())));
          return;
        } catch (err) {
          // The change is committed; failing the request now would only mislead the caller.
          // Stale entries then live at most THEME_CACHE_TTL_MS.
          if (attempt >= 2) {
            logger.error("theme cache invalidation failed; cached themes may be stale until they expire", {
              err,
              groupIds: unique,
              ttlMs: THEME_CACHE_TTL_MS,
            });
            return;
          }
        }
      }
    },
  };
}
