import { NotFoundError } from "@raptscallions/core";
import { type Db, type DbOrTx, groups, preparedOn, sessions, toolVersions } from "@raptscallions/db";
import { and, eq, sql } from "drizzle-orm";
import type { Actor } from "../../access/actor.ts";
import { assertVisible, policy, type SessionRef } from "../../access/policy.ts";

export type SessionRow = typeof sessions.$inferSelect;
export type LoadedSession = SessionRow & { groupPath: string; ref: SessionRef };

/** Loads a session with its group path; 404 when missing or not visible to the actor. */
export async function loadVisibleSession(db: DbOrTx, actor: Actor, sessionId: string, opts: { forUpdate?: boolean } = {}) {
  if (opts.forUpdate) {
    const [row] = await db
      .select({ session: sessions, groupPath: groups.path })
      .from(sessions)
      .innerJoin(groups, eq(groups.id, sessions.groupId))
      .where(eq(sessions.id, sessionId))
      .for("update", { of: sessions });
    return visibleSession(actor, row);
  }
  const [row] = await preparedOn(db, "session_visible", prepareSession).execute({ sessionId });
  return visibleSession(actor, row);
}

// Every socket subscription to a session room and most session reads start here: prepared once.
function prepareSession(db: Db) {
  return db
    .select({ session: sessions, groupPath: groups.path })
    .from(sessions)
    .innerJoin(groups, eq(groups.id, sessions.groupId))
    .where(eq(sessions.id, sql.placeholder("sessionId")))
    .prepare("session_visible");
}

/** A loaded session row for `actor`: 404 when missing or not visible (to callers that load it in their own statement). */
export function visibleSession(actor: Actor, row: { session: SessionRow; groupPath: string } | undefined): LoadedSession {
  if (!row) throw new NotFoundError("Session");
  const ref: SessionRef = { studentId: row.session.studentId, classId: row.session.classId, groupPath: row.groupPath };
  assertVisible(policy.canViewSession(actor, ref), "Session");
  return { ...row.session, groupPath: row.groupPath, ref };
}

type ToolVersionRow = typeof toolVersions.$inferSelect;

// A tool version is never changed once written (editing a tool makes a new version), so a row read
// once serves every later turn on it. Keyed by tool id (a uuid) and version; bounded, oldest out.
const toolVersionCache = new Map<string, Readonly<ToolVersionRow>>();
const TOOL_VERSION_CACHE_SIZE = 500;

/** A tool version (immutable, so read through a small in-process cache); 404 when missing. */
export async function loadToolDefinition(db: DbOrTx, toolId: string, version: number): Promise<Readonly<ToolVersionRow>> {
  const key = `${toolId}@${version}`;
  const cached = toolVersionCache.get(key);
  if (cached) return cached;
  const [row] = await db
    .select()
    .from(toolVersions)
    .where(and(eq(toolVersions.toolId, toolId), eq(toolVersions.version, version)));
  if (!row) throw new NotFoundError("Tool version");
  if (toolVersionCache.size >= TOOL_VERSION_CACHE_SIZE) {
    const oldest = toolVersionCache.keys().next().value;
    if (oldest !== undefined) toolVersionCache.delete(oldest);
  }
  toolVersionCache.set(key, row);
  return row;
}
