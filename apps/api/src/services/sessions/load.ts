import { NotFoundError } from "@raptscallions/core";
import { type DbOrTx, groups, sessions, toolVersions } from "@raptscallions/db";
import { and, eq } from "drizzle-orm";
import type { Actor } from "../../access/actor.ts";
import { assertVisible, policy, type SessionRef } from "../../access/policy.ts";

export type SessionRow = typeof sessions.$inferSelect;
export type LoadedSession = SessionRow & { groupPath: string; ref: SessionRef };

/** Loads a session with its group path; 404 when missing or not visible to the actor. */
export async function loadVisibleSession(db: DbOrTx, actor: Actor, sessionId: string, opts: { forUpdate?: boolean } = {}) {
  const q = db.select({ session: sessions, groupPath: groups.path }).from(sessions).innerJoin(groups, eq(groups.id, sessions.groupId)).where(eq(sessions.id, sessionId));
  const [row] = opts.forUpdate ? await q.for("update", { of: sessions }) : await q;
  if (!row) throw new NotFoundError("Session");
  const ref: SessionRef = { studentId: row.session.studentId, classId: row.session.classId, groupPath: row.groupPath };
  assertVisible(policy.canViewSession(actor, ref), "Session");
  return { ...row.session, groupPath: row.groupPath, ref } satisfies LoadedSession;
}

export async function loadToolDefinition(db: DbOrTx, toolId: string, version: number) {
  const [row] = await db
    .select()
    .from(toolVersions)
    .where(and(eq(toolVersions.toolId, toolId), eq(toolVersions.version, version)));
  if (!row) throw new NotFoundError("Tool version");
  return row;
}
