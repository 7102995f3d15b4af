import { extractions, groups } from "@raptscallions/db";
import { inArray, or, type SQL, sql } from "drizzle-orm";
import type { Actor } from "../../access/actor.ts";
import { isAdminOver, policy } from "../../access/policy.ts";
import { adminSubtreeSql } from "../../access/policy-sql.ts";

/**
 * Who reviews a session's alerts: the teachers of its class and the admins over its group — the
 * same people who may steer the session. Never the student: an alert is about them.
 */
export function canReviewAlert(actor: Actor, alert: { classId: string | null; groupPath: string }): boolean {
  return policy.isTeacherOf(actor, alert.classId) || isAdminOver(actor, alert.groupPath);
}

/** SQL twin of {@link canReviewAlert} over `extractions` joined to its group. */
export function alertVisibleSql(actor: Actor): SQL {
  if (actor.isSystemAdmin) return sql`true`;
  const taught = [...actor.classRoles.entries()].filter(([, r]) => r.role === "teacher").map(([id]) => id);
  return or(adminSubtreeSql(actor, groups.path), taught.length > 0 ? inArray(extractions.classId, taught) : undefined) ?? sql`false`;
}
