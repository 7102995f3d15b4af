import type { DbOrTx } from "@raptscallions/db";
import { auditLog } from "@raptscallions/db";
import type { Principal } from "../context.ts";

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

/** The actor columns of an audit row: a person's id, or the job's or integration's name. */
export function auditActorColumns(actor: Principal) {
  if (actor.kind === "user") return { actorKind: "user" as const, actorId: actor.userId, actorName: null, actorIntegrationId: null };
  return {
    actorKind: actor.kind,
    actorId: null,
    actorName: actor.name,
    actorIntegrationId: actor.kind === "integration" ? actor.id : null,
  };
}

/**
 * Appends an audit entry. Call it with the mutation's own transaction so the entry exists if and
 * only if the change committed. `requestId` is the request's id, or a job run's id.
 */
export async function recordAudit(tx: DbOrTx, ctx: { actor: Principal; requestId: string | null }, entry: AuditEntry): Promise<void> {
  await tx.insert(auditLog).values(auditRow(ctx, entry));
}

/** The `audit_log` row of an entry (without its time: the database's default, unless the caller stamps one). */
export function auditRow(ctx: { actor: Principal; requestId: string | null }, entry: AuditEntry) {
  return {
    ...auditActorColumns(ctx.actor),
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId ?? null,
    groupId: entry.groupId ?? null,
    requestId: ctx.requestId,
    details: entry.details ?? {},
  };
}
