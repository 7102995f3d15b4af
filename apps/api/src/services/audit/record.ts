import type { DbOrTx } from "@raptscallions/db";
import { auditLog } from "@raptscallions/db";
import type { ServiceContext } from "../context.ts";

/** What one write did, for the audit trail. */
export interface AuditEntry {
  /** `<resource>.<verb>`, e.g. `group.create`, `class.member.add`. */
  action: string;
  targetType: string;
  targetId?: string | null;
  /** The group the target belongs to: scopes who may read the entry (null: system admins only). */
  groupId?: string | null;
  details?: Record<string, unknown>;
}

/**
 * Appends an audit entry. Call it with the mutation's own transaction so the entry exists if and
 * only if the change committed.
 */
export async function recordAudit(tx: DbOrTx, ctx: Pick<ServiceContext, "actor" | "requestId">, entry: AuditEntry): Promise<void> {
  await tx.insert(auditLog).values({
    actorId: ctx.actor.userId,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId ?? null,
    groupId: entry.groupId ?? null,
    requestId: ctx.requestId,
    details: entry.details ?? {},
  });
}
