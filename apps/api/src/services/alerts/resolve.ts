import { type AlertDto, type AlertStatus, ConflictError, NotFoundError } from "@raptscallions/core";
import { extractions, groups, runs, sessions } from "@raptscallions/db";
import { and, eq } from "drizzle-orm";
import { recordAudit } from "../audit/record.ts";
import { cancelDeliveries, escalationStopReason, pendingEscalationsOf } from "./escalation-stop.ts";
import { classRoom, publishBestEffort } from "../rooms.ts";
import { alertStudentIdSql, toAlertDto } from "./dto.ts";
import type { ServiceContext } from "../context.ts";
import { canReviewAlert } from "./scope.ts";

/** Which states each review action may start from; the target state itself is a no-op (idempotent). */
const FROM: Record<"acknowledged" | "dismissed", readonly AlertStatus[]> = {
  acknowledged: ["open"],
  dismissed: ["open", "acknowledged"],
};

/**
 * A teacher or admin acknowledges ("I'm looking into it") or dismisses ("not a concern") an
 * alert. Records who and when, audits it in the same transaction, and tells the class's other
 * teachers live. Either stops escalation: the steps already queued and not yet sent are cancelled
 * in the same transaction (a step claimed by a dispatcher meanwhile is stopped by its re-check
 * before the send). Repeating the same action is a no-op; acknowledging a dismissed alert is a 409.
 * REST and the WebSocket's `alert.ack` both call this.
 */
export async function resolveAlert({ ctx, input }: { ctx: ServiceContext; input: { id: string; to: "acknowledged" | "dismissed" } }): Promise<AlertDto> {
  const { dto, changed } = await ctx.db.transaction(async (tx) => {
    const [found] = await tx
      .select({ row: extractions, groupPath: groups.path, studentId: alertStudentIdSql })
      .from(extractions)
      .innerJoin(groups, eq(groups.id, extractions.groupId))
      .leftJoin(sessions, eq(sessions.id, extractions.sessionId))
      .leftJoin(runs, eq(runs.id, extractions.runId))
      .where(and(eq(extractions.id, input.id), eq(extractions.isAlert, true)))
      .for("update", { of: extractions });
    if (!found || !canReviewAlert(ctx.actor, { classId: found.row.classId, groupPath: found.groupPath })) {
      throw new NotFoundError("Alert");
    }
    const studentId = found.studentId ?? null;
    if (found.row.status === input.to) return { dto: toAlertDto(found.row, studentId), changed: false };
    if (!FROM[input.to].includes(found.row.status)) {
      throw new ConflictError(`This alert is ${found.row.status}`, { status: found.row.status });
    }
    const [updated] = await tx
      .update(extractions)
      .set({ status: input.to, resolvedBy: ctx.actor.userId, resolvedAt: ctx.clock.now() })
      .where(eq(extractions.id, input.id))
      .returning();
    if (!updated) throw new NotFoundError("Alert");
    const now = ctx.clock.now();
    const stopped = await cancelDeliveries(tx, pendingEscalationsOf(updated.id), {
      reason: escalationStopReason({ status: updated.status, resolvedAt: updated.resolvedAt }),
      now,
      instanceId: ctx.instanceId,
      claimed: false,
    });
    await recordAudit(tx, ctx, {
      action: input.to === "acknowledged" ? "alert.acknowledge" : "alert.dismiss",
      targetType: "alert",
      targetId: updated.id,
      groupId: updated.groupId,
      details: {
        from: found.row.status,
        sessionId: updated.sessionId,
        ...(updated.runId ? { runId: updated.runId } : {}),
        module: updated.module,
        kind: updated.kind,
        severity: updated.severity,
        ...(stopped.length > 0 ? { cancelledDeliveries: stopped } : {}),
      },
    });
    return { dto: toAlertDto(updated, studentId), changed: true };
  });
  if (changed && dto.classId) await publishBestEffort(ctx.bus, ctx.logger, classRoom(dto.classId), "alert", { alert: dto });
  return dto;
}
