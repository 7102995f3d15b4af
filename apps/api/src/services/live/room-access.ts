import { AppError, NotFoundError, uuidSchema } from "@raptscallions/core";
import { classes, groups } from "@raptscallions/db";
import { eq } from "drizzle-orm";
import { assertVisible, policy } from "../../access/policy.ts";
import type { AuditBatch } from "../audit/batch.ts";
import type { ServiceContext } from "../context.ts";
import { type LoadedSession, loadVisibleSession } from "../sessions/load.ts";
import { recordView } from "../sessions/read.ts";
import { loadVisibleRun } from "../runs/read.ts";

/** What a granted subscription is, for presence and the re-check. */
export interface RoomAccess {
  kind: "session" | "class" | "run";
  id: string;
  /** The class whose presence this subscription counts towards, if any. */
  presenceClassId: string | null;
  presenceRole: string;
}

/** A granted subscription, with the session row the check read (a snapshot reuses it). */
export interface RoomGrant {
  access: RoomAccess;
  session: LoadedSession | null;
}

/**
 * The WebSocket transport asks this before it subscribes a socket to a room, and again on every
 * re-check. Subscribing is authorised by the same policy as REST: a session room for its student
 * (while still a student of the session's class), the class's teachers and admins over its group; a class room for the class's teachers and admins.
 * A granted session room records the view (`session.view`), through `viewAudit` when given.
 */
export async function authorizeRoom(ctx: ServiceContext, room: string, opts: { recordView: boolean; viewAudit?: AuditBatch | undefined }): Promise<RoomGrant> {
  const [kind, id] = room.split(":") as ["session" | "class" | "run", string];
  // A room named by anything but a UUID cannot exist; asking the database would be an error.
  if (!uuidSchema.safeParse(id).success) throw new NotFoundError("Room");
  if (kind === "session") {
    const session = await loadVisibleSession(ctx.db, ctx.actor, id);
    if (opts.recordView) await recordView(ctx, session, opts.viewAudit);
    const isStudent = session.studentId === ctx.actor.userId;
    // Reading a session is the student's forever; its live room only while they are in its class.
    if (!policy.canSteerSession(ctx.actor, session.ref) && !policy.canSendAsStudent(ctx.actor, session.ref)) {
      throw new AppError("FORBIDDEN", "Only the class's students, teachers and admins can watch its sessions");
    }
    return {
      access: { kind, id, presenceClassId: isStudent ? session.classId : null, presenceRole: "student" },
      session,
    };
  }
  if (kind === "class") {
    const [row] = await ctx.db
      .select({ id: classes.id, groupPath: groups.path })
      .from(classes)
      .innerJoin(groups, eq(groups.id, classes.groupId))
      .where(eq(classes.id, id));
    if (!row) throw new NotFoundError("Class");
    const ref = { id: row.id, groupPath: row.groupPath };
    assertVisible(policy.canViewClass(ctx.actor, ref), "Class");
    if (!policy.canManageClass(ctx.actor, ref)) {
      throw new AppError("FORBIDDEN", "Only the class's teachers and admins can watch the class room");
    }
    return { access: { kind, id, presenceClassId: id, presenceRole: policy.isTeacherOf(ctx.actor, id) ? "teacher" : "admin" }, session: null };
  }
  if (kind === "run") {
    // A product tool's run: whoever ran it, the teachers of its class and admins over its group.
    await loadVisibleRun(ctx.db, ctx.actor, id);
    return { access: { kind, id, presenceClassId: null, presenceRole: "viewer" }, session: null };
  }
  throw new AppError("VALIDATION_FAILED", "Unknown room kind");
}
