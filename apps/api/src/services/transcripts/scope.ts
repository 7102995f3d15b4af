import { sessions } from "@raptscallions/db";
import { eq, type SQL } from "drizzle-orm";
import { assertAllowed, policy } from "../../access/policy.ts";
import { requireVisibleAssignment } from "../assignments/scope.ts";
import { requireVisibleClass } from "../classes/scope.ts";
import type { ServiceContext } from "../context.ts";
import { loadVisibleSession } from "../sessions/load.ts";

export type TranscriptKind = "session" | "class" | "assignment";

/** An export the caller may make: which sessions it covers and the group its audit entry belongs to. */
export interface TranscriptScope {
  kind: TranscriptKind;
  id: string;
  groupId: string;
  sessionsWhere: SQL;
}

/**
 * Checks, before a byte is streamed, that the caller may export this: a session for whoever may
 * read it; a class's or an assignment's sessions for the class's teachers and admins over it.
 * Refusals are 404 (not visible) or 403 (visible, not theirs to export), never a broken stream.
 */
export async function resolveTranscriptScope(ctx: ServiceContext, kind: TranscriptKind, id: string): Promise<TranscriptScope> {
  if (kind === "session") {
    const session = await loadVisibleSession(ctx.db, ctx.actor, id);
    return { kind, id, groupId: session.groupId, sessionsWhere: eq(sessions.id, id) };
  }
  if (kind === "class") {
    const { cls, groupPath } = await requireVisibleClass(ctx, id);
    assertAllowed(policy.canManageClass(ctx.actor, { id, groupPath }), "Only the class's teachers and admins can export its transcripts");
    return { kind, id, groupId: cls.groupId, sessionsWhere: eq(sessions.classId, id) };
  }
  const found = await requireVisibleAssignment(ctx, id);
  assertAllowed(
    policy.canManageClass(ctx.actor, { id: found.assignment.classId, groupPath: found.groupPath }),
    "Only the class's teachers and admins can export an assignment's transcripts",
  );
  return { kind, id, groupId: found.groupId, sessionsWhere: eq(sessions.assignmentId, id) };
}
