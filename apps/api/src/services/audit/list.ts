import { type AuditActorDto, type AuditEntryDto, cursorParts, decodeCursor, type ListAuditQuery, type Page, toPage } from "@raptscallions/core";
import { auditLog, groups } from "@raptscallions/db";
import { and, desc, eq, inArray, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { assertAllowed, policy } from "../../access/policy.ts";
import type { ServiceContext } from "../context.ts";
import { adminSubtreeSql } from "../../access/policy-sql.ts";
import { afterCursor, iso } from "../query-helpers.ts";

const byId = z.tuple([cursorParts.int8]);

/** The row's check constraints guarantee a name (and an integration's id) for non-person actors. */
function toAuditActorDto(e: typeof auditLog.$inferSelect): AuditActorDto {
  if (e.actorKind === "integration") return { kind: "integration", id: e.actorIntegrationId ?? "", name: e.actorName ?? "" };
  if (e.actorKind === "system") return { kind: "system", name: e.actorName ?? "" };
  return { kind: "user", userId: e.actorId };
}

function toAuditDto(e: typeof auditLog.$inferSelect): AuditEntryDto {
  return {
    id: e.id,
    actorId: e.actorId,
    actor: toAuditActorDto(e),
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    groupId: e.groupId,
    requestId: e.requestId,
    details: e.details,
    createdAt: iso(e.createdAt),
  };
}

/**
 * The audit trail, newest first. Group admins see entries whose group lies in a subtree they
 * administer; entries without a group (models, system settings) are for system admins only.
 * `groupId` narrows to that group and its subtree.
 */
export async function listAudit({ ctx, input }: { ctx: ServiceContext; input: ListAuditQuery }): Promise<Page<AuditEntryDto>> {
  assertAllowed(policy.canReadAudit(ctx.actor), "Only admins may read the audit log");
  const where: SQL[] = [];
  if (!ctx.actor.isSystemAdmin) {
    where.push(inArray(auditLog.groupId, ctx.db.select({ id: groups.id }).from(groups).where(adminSubtreeSql(ctx.actor, groups.path))));
  }
  if (input.groupId) {
    where.push(
      inArray(
        auditLog.groupId,
        ctx.db.select({ id: groups.id }).from(groups).where(sql`${groups.path} <@ (select g.path from ${groups} g where g.id = ${input.groupId})`),
      ),
    );
  }
  if (input.targetType) where.push(eq(auditLog.targetType, input.targetType));
  if (input.targetId) where.push(eq(auditLog.targetId, input.targetId));
  if (input.actorId) where.push(eq(auditLog.actorId, input.actorId));
  if (input.actorKind) where.push(eq(auditLog.actorKind, input.actorKind));
  if (input.action) where.push(eq(auditLog.action, input.action));
  if (input.cursor) where.push(afterCursor([auditLog.id], decodeCursor(input.cursor, byId), "desc"));
  const rows = await ctx.db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .limit(input.limit + 1);
  const page = toPage(rows, input.limit, (e) => [e.id]);
  return { items: page.items.map(toAuditDto), nextCursor: page.nextCursor };
}
