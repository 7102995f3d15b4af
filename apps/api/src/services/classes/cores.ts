import { ConflictError, NotFoundError } from "@raptscallions/core";
import { type ClassRole, classMembers, classes, type DbOrTx } from "@raptscallions/db";
import { and, eq } from "drizzle-orm";
import { recordAudit } from "../audit/record.ts";
import type { Principal, ServiceContext } from "../context.ts";
import { loadLiveUser } from "../users/live-user.ts";
import { loadGroup } from "../groups/scope.ts";
import { loadClass } from "./scope.ts";

/*
 * The class and enrolment writes, without a person's permission check: a route-facing service
 * (write.ts, members.ts) checks what its actor may do, then calls these; a job or a sync calls
 * them with a system context. Each runs inside the caller's transaction (so a sync can apply one
 * entity's changes together) and audits as `ctx.actor`. Domain rules still hold here: a missing
 * group or class is a 404, an archived class takes no members, a user is enrolled once.
 * Post-commit effects (revocations) are the caller's, once its transaction has committed.
 */

/** Creates a class in a live group; `teacherId` (when set) joins it as its teacher. */
export async function createClassCore(
  tx: DbOrTx,
  ctx: ServiceContext<Principal>,
  input: { groupId: string; name: string; term?: string | null; teacherId?: string | null },
) {
  const group = await loadGroup(tx, input.groupId);
  if (!group) throw new NotFoundError("Group");
  const [row] = await tx
    .insert(classes)
    .values({ groupId: group.id, name: input.name, term: input.term ?? null })
    .returning();
  if (!row) throw new Error("insert returned no row");
  const teacherId = input.teacherId ?? null;
  if (teacherId) await tx.insert(classMembers).values({ classId: row.id, userId: teacherId, role: "teacher" });
  const creatorJoinedAsTeacher = teacherId !== null && ctx.actor.kind === "user" && ctx.actor.userId === teacherId;
  await recordAudit(tx, ctx, {
    action: "class.create",
    targetType: "class",
    targetId: row.id,
    groupId: group.id,
    details: { name: row.name, term: row.term, creatorJoinedAsTeacher, ...(teacherId && !creatorJoinedAsTeacher ? { teacherId } : {}) },
  });
  return row;
}

/** Renames a class or changes its term (`undefined` leaves a field as it is). */
export async function updateClassCore(tx: DbOrTx, ctx: ServiceContext<Principal>, input: { id: string; name?: string | undefined; term?: string | null | undefined }) {
  const found = await loadClass(tx, input.id);
  if (!found) throw new NotFoundError("Class");
  const { cls } = found;
  const [row] = await tx.update(classes).set({ name: input.name, term: input.term }).where(eq(classes.id, cls.id)).returning();
  if (!row) throw new NotFoundError("Class");
  await recordAudit(tx, ctx, {
    action: "class.update",
    targetType: "class",
    targetId: cls.id,
    groupId: cls.groupId,
    details: { before: { name: cls.name, term: cls.term }, after: { name: row.name, term: row.term } },
  });
  return row;
}

/** Archives a class (idempotent: an archived class is returned as it is, with no new audit entry). */
export async function archiveClassCore(tx: DbOrTx, ctx: ServiceContext<Principal>, input: { id: string }) {
  const found = await loadClass(tx, input.id);
  if (!found) throw new NotFoundError("Class");
  const { cls } = found;
  if (cls.archivedAt) return cls;
  const [row] = await tx.update(classes).set({ archivedAt: ctx.clock.now() }).where(eq(classes.id, cls.id)).returning();
  if (!row) throw new NotFoundError("Class");
  await recordAudit(tx, ctx, { action: "class.archive", targetType: "class", targetId: cls.id, groupId: cls.groupId });
  return row;
}

/**
 * Enrols a live user in a class that is not archived. A second enrolment of the same user is a
 * conflict (also when two race: the primary key refuses the loser, which aborts the transaction).
 */
export async function enrolClassMemberCore(tx: DbOrTx, ctx: ServiceContext<Principal>, input: { classId: string; userId: string; role: ClassRole }) {
  const found = await loadClass(tx, input.classId);
  if (!found) throw new NotFoundError("Class");
  const { cls } = found;
  if (cls.archivedAt) throw new ConflictError("This class is archived");
  const user = await loadLiveUser(tx, input.userId);
  const [existing] = await tx
    .select()
    .from(classMembers)
    .where(and(eq(classMembers.classId, cls.id), eq(classMembers.userId, user.id)));
  if (existing) throw new ConflictError(`This user is already a ${existing.role} in the class`);
  const [member] = await tx.insert(classMembers).values({ classId: cls.id, userId: user.id, role: input.role }).returning();
  if (!member) throw new Error("insert returned no row");
  await recordAudit(tx, ctx, {
    action: "class.member.add",
    targetType: "class_member",
    targetId: `${cls.id}:${user.id}`,
    groupId: cls.groupId,
    details: { classId: cls.id, userId: user.id, role: member.role },
  });
  return { member, user };
}

/**
 * Takes a user out of a class. The caller publishes the revocation after its transaction
 * commits (`publishRevocation`, reason `class-member-removed`), so their live rooms close.
 */
export async function unenrolClassMemberCore(tx: DbOrTx, ctx: ServiceContext<Principal>, input: { classId: string; userId: string }) {
  const found = await loadClass(tx, input.classId);
  if (!found) throw new NotFoundError("Class");
  const { cls } = found;
  const [removed] = await tx
    .delete(classMembers)
    .where(and(eq(classMembers.classId, cls.id), eq(classMembers.userId, input.userId)))
    .returning();
  if (!removed) throw new NotFoundError("Class member");
  await recordAudit(tx, ctx, {
    action: "class.member.remove",
    targetType: "class_member",
    targetId: `${cls.id}:${input.userId}`,
    groupId: cls.groupId,
    details: { classId: cls.id, userId: input.userId, role: removed.role },
  });
  return removed;
}
