import { cursorParts, decodeCursor, NotFoundError, toPage } from "@raptscallions/core";
import { type DbOrTx, groups, runs } from "@raptscallions/db";
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Actor } from "../../access/actor.ts";
import { policy } from "../../access/policy.ts";
import { requireVisibleClass } from "../classes/scope.ts";
import type { ServiceContext } from "../context.ts";
import { runRoom, toRunDto } from "./dto.ts";

const RUN_CURSOR = z.tuple([cursorParts.epochMs, cursorParts.uuid]);

/** A run with its group's path; 404 when missing or not visible to the actor. */
export async function loadVisibleRun(db: DbOrTx, actor: Actor, runId: string) {
  const [row] = await db.select({ run: runs, groupPath: groups.path }).from(runs).innerJoin(groups, eq(groups.id, runs.groupId)).where(eq(runs.id, runId));
  if (!row || !policy.canViewRun(actor, { userId: row.run.userId, classId: row.run.classId, groupPath: row.groupPath })) throw new NotFoundError("Run");
  return row;
}

/** One run and where its room stands: load over REST, then subscribe with `(epoch, offset)`. */
export async function getRun({ ctx, input }: { ctx: ServiceContext; input: { runId: string } }) {
  const { run } = await loadVisibleRun(ctx.db, ctx.actor, input.runId);
  const head = await ctx.bus.head(runRoom(run.id)).catch(() => ({ epoch: null, offset: 0 }));
  return { run: toRunDto(run), room: { name: runRoom(run.id), ...head } };
}

/**
 * A run room's snapshot: the run with its output so far and the room position that output
 * corresponds to (the last checkpoint's, while it streams), as a session room's snapshot does.
 */
export async function runSnapshot(ctx: ServiceContext, runId: string) {
  const head = await ctx.bus.head(runRoom(runId));
  const { run } = await loadVisibleRun(ctx.db, ctx.actor, runId);
  let offset = head.offset;
  if (run.state === "running" && run.checkpointOffset !== null) offset = run.checkpointEpoch === head.epoch ? run.checkpointOffset : 0;
  return { epoch: head.epoch, offset, payload: { run: toRunDto(run) } };
}

/** The caller's own runs, or — with `classId` — a class's runs for its teachers and admins. Newest first. */
export async function listRuns({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { classId?: string | undefined; toolId?: string | undefined; limit: number; cursor?: string | undefined };
}) {
  const where: SQL[] = [];
  if (input.classId) {
    const { groupPath } = await requireVisibleClass(ctx, input.classId);
    if (policy.canManageClass(ctx.actor, { id: input.classId, groupPath })) where.push(eq(runs.classId, input.classId));
    else where.push(eq(runs.classId, input.classId), eq(runs.userId, ctx.actor.userId));
  } else {
    where.push(eq(runs.userId, ctx.actor.userId));
  }
  if (input.toolId) where.push(eq(runs.toolId, input.toolId));
  if (input.cursor) {
    const [ms, id] = decodeCursor(input.cursor, RUN_CURSOR);
    const at = new Date(ms);
    where.push(or(lt(runs.createdAt, at), and(eq(runs.createdAt, at), lt(runs.id, id))) as SQL);
  }
  const rows = await ctx.db
    .select()
    .from(runs)
    .where(and(...where))
    .orderBy(desc(runs.createdAt), desc(runs.id))
    .limit(input.limit + 1);
  const page = toPage(rows, input.limit, (r) => [r.createdAt.getTime(), r.id]);
  return { items: page.items.map(toRunDto), nextCursor: page.nextCursor };
}
