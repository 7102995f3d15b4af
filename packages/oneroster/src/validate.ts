import { z } from "zod";
import { RECORD_SCHEMAS, type RosterEntity, type RosterRecords } from "./records.ts";

export type Checked<T> = { ok: true; record: T } | { ok: false; reason: string };

/** A candidate record checked against its entity's schema; the reason names each bad field. */
export function checkRecord<E extends RosterEntity>(entity: E, candidate: unknown): Checked<RosterRecords[E]> {
  // RECORD_SCHEMAS is checked entity by entity where it is declared; indexing it by a generic
  // key loses that, hence the widening.
  const schema: z.ZodType<RosterRecords[E]> = RECORD_SCHEMAS[entity] as unknown as z.ZodType<RosterRecords[E]>;
  const result = schema.safeParse(candidate);
  if (result.success) return { ok: true, record: result.data };
  return { ok: false, reason: describeIssues(result.error) };
}

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message)).join("; ");
}

const emailSchema = z.email();

/** Lower-cased, or null when the SIS sent none or something that is not an address. */
export function normaliseEmail(value: string | null | undefined): string | null {
  const email = value?.trim().toLowerCase();
  if (!email) return null;
  return emailSchema.safeParse(email).success ? email : null;
}

/** An ISO 8601 instant, or null for blank; anything else is an error the caller reports. */
export function parseInstant(value: string): Date | null | "invalid" {
  if (value === "") return null;
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return "invalid";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "invalid" : date;
}

/** A calendar day; servers that send a full date-time for a date field keep its day part. */
export function isoDay(value: string): string {
  return /^\d{4}-\d{2}-\d{2}T/.test(value) ? value.slice(0, 10) : value;
}
