import { auditLog, type DbOrTx } from "@raptscallions/db";
import type { ServiceContext } from "../context.ts";

/** What a theme write records about itself. */
export interface ThemeAuditEntry {
  action: string;
  targetType: "group_theme" | "theme_asset";
  targetId: string;
  groupId: string;
  details: Record<string, unknown>;
}

/**
 * Records a theme change in `audit_log`, inside the caller's transaction so the record and the
 * change commit together.
 * NOTE: written directly against the table because no shared audit helper
 * (services/audit/record.ts) existed when themes were built; switch to it once it does.
 */
export async function recordThemeAudit(tx: DbOrTx, ctx: ServiceContext, entry: ThemeAuditEntry): Promise<void> {
  await tx.insert(auditLog).values({
    actorId: ctx.actor.userId,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    groupId: entry.groupId,
    requestId: ctx.requestId,
    details: entry.details,
  });
}
