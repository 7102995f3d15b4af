import { z } from "zod";
import { isoDateTime, pageQuerySchema } from "./common.ts";

export const auditEntrySchema = z.object({
  id: z.number().int(),
  actorId: z.uuid().nullable(),
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
  action: z.string().min(1).max(100).optional(),
});
export type ListAuditQuery = z.infer<typeof listAuditQuerySchema>;
