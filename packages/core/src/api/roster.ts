import { z } from "zod";
import { isoDateTime } from "./common.ts";

export const ROSTER_CONNECTION_KIND_VALUES = ["oneroster_rest", "csv"] as const;
export const ROSTER_RUN_STATUS_VALUES = ["queued", "running", "succeeded", "failed"] as const;

const httpsUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .refine((u) => !/[\s]/.test(u), "No whitespace");
const name = z.string().trim().min(1).max(200);
const secret = z.string().min(1).max(4000);
const clientId = z.string().trim().min(1).max(500);
/** Scheduled runs of a REST connection, in minutes (null: only when triggered). */
const interval = z
  .number()
  .int()
  .min(5)
  .max(7 * 24 * 60)
  .nullable();

/**
 * A new roster connection of a group: `oneroster_rest` needs the server's base URL, token URL and
 * client credentials; `csv` needs nothing (bundles are uploaded to it).
 */
export const createRosterConnectionBodySchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("oneroster_rest"),
    name,
    baseUrl: httpsUrl,
    tokenUrl: httpsUrl,
    clientId,
    clientSecret: secret,
    intervalMinutes: interval.optional(),
    enabled: z.boolean().optional(),
  }),
  z.strictObject({ kind: z.literal("csv"), name, enabled: z.boolean().optional() }),
]);
export type CreateRosterConnectionBody = z.infer<typeof createRosterConnectionBodySchema>;

/** Fields to change; `clientSecret` replaces the stored secret (it can never be read back). */
export const updateRosterConnectionBodySchema = z
  .strictObject({
    name: name.optional(),
    baseUrl: httpsUrl.optional(),
    tokenUrl: httpsUrl.optional(),
    clientId: clientId.optional(),
    clientSecret: secret.optional(),
    intervalMinutes: interval.optional(),
    enabled: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, "Nothing to change");
export type UpdateRosterConnectionBody = z.infer<typeof updateRosterConnectionBodySchema>;

export const rosterEntityCountsSchema = z.object({
  created: z.number().int(),
  updated: z.number().int(),
  removed: z.number().int(),
  skipped: z.number().int(),
  unchanged: z.number().int(),
});

export const rosterRunSchema = z.object({
  id: z.uuid(),
  connectionId: z.uuid(),
  trigger: z.enum(["schedule", "manual", "upload"]),
  status: z.enum(ROSTER_RUN_STATUS_VALUES),
  mode: z.enum(["full", "delta"]),
  counts: z.record(z.string(), rosterEntityCountsSchema),
  rejectedCount: z.number().int(),
  error: z.string().nullable(),
  startedAt: isoDateTime.nullable(),
  finishedAt: isoDateTime.nullable(),
  createdAt: isoDateTime,
});
export type RosterRunDto = z.infer<typeof rosterRunSchema>;

/** A run with its log: every refused record (up to the first thousand) with its line or `sourcedId` and the reason. */
export const rosterRunLogSchema = rosterRunSchema.extend({
  rejected: z.array(z.object({ entity: z.string(), sourcedId: z.string().optional(), line: z.number().int().optional(), reason: z.string() })),
});
export type RosterRunLogDto = z.infer<typeof rosterRunLogSchema>;

export const rosterConnectionSchema = z.object({
  id: z.uuid(),
  groupId: z.uuid(),
  name: z.string(),
  kind: z.enum(ROSTER_CONNECTION_KIND_VALUES),
  baseUrl: z.string().nullable(),
  tokenUrl: z.string().nullable(),
  clientId: z.string().nullable(),
  /** Never the secret: whether one is stored, and its last four characters. */
  clientSecret: z.object({ set: z.boolean(), last4: z.string().nullable() }),
  intervalMinutes: z.number().int().nullable(),
  enabled: z.boolean(),
  deltaSince: isoDateTime.nullable(),
  lastRun: rosterRunSchema.nullable(),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
});
export type RosterConnectionDto = z.infer<typeof rosterConnectionSchema>;

export const rosterConnectionListSchema = z.object({ items: z.array(rosterConnectionSchema) });
export const listRosterConnectionsQuerySchema = z.object({ groupId: z.uuid() });
export const triggerRosterRunBodySchema = z.strictObject({
  /** `full` re-reads everything and converges; `delta` (default once a full sync succeeded) asks for changes only. */
  mode: z.enum(["full", "delta"]).optional(),
});
/** The latest runs, newest first. */
export const listRosterRunsQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });
export const rosterRunListSchema = z.object({ items: z.array(rosterRunSchema) });
export const rosterRunParamsSchema = z.object({ id: z.uuid(), runId: z.uuid() });
