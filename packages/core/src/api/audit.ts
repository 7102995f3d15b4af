import { z } from "zod";
import { isoDateTime, pageQuerySchema } from "./common.ts";

/**
 * Who acted: a signed-in person (`userId` null once their account is gone), the system (a job,
 * by name: `retention`, `budget-alerts`, `sweeper`), or a named integration (a sync such as Clerk).
 */
export const auditActorSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("user"), userId: z.uuid().nullable() }),
  z.object({ kind: z.literal("system"), name: z.string() }),
  z.object({ kind: z.literal("integration"), id: z.string(), name: z.string() }),
]);
export type AuditActorDto = z.infer<typeof auditActorSchema>;

export const auditEntrySchema = z.object({
  id: z.number().int(),
  /** The person who acted, if any (same as `actor.userId`); null for system and integration writes. */
  actorId: z.uuid().nullable(),
  actor: auditActorSchema,
  /** `<resource>.<verb>`, e.g. `group.create`, `tool.version.create`. */
  action: z.string(),
  targetType: z.string(),
  targetId: z.string().nullable(),
  groupId: z.uuid().nullable(),
  requestId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  createdAt: isoDateTime,
});
export type AuditEntryDto = z.infer<typeof auditEntrySchema>;

/** Newest first. Group admins see entries of their subtrees; system admins everything. */
export const listAuditQuerySchema = pageQuerySchema.extend({
  targetType: z.string().min(1).max(64).optional(),
  targetId: z.string().min(1).max(200).optional(),
  groupId: z.uuid().optional(),
  actorId: z.uuid().optional(),
  actorKind: z.enum(["user", "system", "integration"]).optional(),
  action: z.string().min(1).max(100).optional(),
});
export type ListAuditQuery = z.infer<typeof listAuditQuerySchema>;
