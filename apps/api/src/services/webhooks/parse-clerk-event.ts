import {
  CLERK_SYNC_EVENT_TYPES,
  type ClerkDeletedObject,
  type ClerkMembership,
  type ClerkOrganization,
  type ClerkSyncEventType,
  type ClerkUser,
  clerkDeletedObjectSchema,
  clerkEventEnvelopeSchema,
  clerkMembershipSchema,
  clerkOrganizationSchema,
  clerkUserSchema,
} from "@raptscallions/core";
import type { z } from "zod";
import { ClerkDeliveryRejected } from "./rejection.ts";

/** A verified Clerk delivery, validated and reduced to what the sync applies. */
export type ClerkSyncEvent =
  | { kind: "user.upsert"; type: ClerkSyncEventType; user: ClerkUser }
  | { kind: "user.delete"; type: ClerkSyncEventType; deleted: ClerkDeletedObject; at: Date }
  | { kind: "org.upsert"; type: ClerkSyncEventType; org: ClerkOrganization }
  | { kind: "org.delete"; type: ClerkSyncEventType; deleted: ClerkDeletedObject; at: Date }
  | {
      kind: "membership";
      type: ClerkSyncEventType;
      membership: ClerkMembership;
      tombstone: boolean;
      /** The version this event writes: `updated_at`, or for a delete the later of it and the event time. */
      version: Date;
    }
  | { kind: "ignored"; type: string };

/** Deeper JSON than any Clerk payload (customer metadata included) is refused before parsing. */
export const MAX_JSON_DEPTH = 64;
/**
 * How far past the signing time a Clerk `updated_at` or event `timestamp` may lie (clock skew).
 * A version from the far future would win every later update, so it is refused, not applied.
 */
export const MAX_FUTURE_SKEW_MS = 24 * 3_600_000;

function isSyncType(type: string): type is ClerkSyncEventType {
  return (CLERK_SYNC_EVENT_TYPES as readonly string[]).includes(type);
}

/**
 * The deepest nesting of arrays and objects in `raw`, counted without parsing (so without
 * recursion), stopping as soon as it passes `limit`. Brackets inside strings do not count.
 */
export function jsonDepthExceeds(raw: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > limit) return true;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return false;
}

function issues(error: z.ZodError) {
  return error.issues.slice(0, 20).map((i) => ({ path: i.path.join("."), message: i.message }));
}

function invalid(type: string, reason: string, message: string, list?: { path: string; message: string }[]): ClerkDeliveryRejected {
  return new ClerkDeliveryRejected("VALIDATION_FAILED", message, { reason, type, ...(list ? { issues: list } : {}) });
}

function parseData<T>(schema: z.ZodType<T>, type: string, data: unknown): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw invalid(type, "invalid-payload", `Malformed ${type} payload`, issues(parsed.error));
  return parsed.data;
}

/** Refuses versions from the far future (see MAX_FUTURE_SKEW_MS). */
function checkNotFuture(type: string, signedAtMs: number, stamps: [string, number | undefined][]) {
  const late = stamps.filter(([, ms]) => ms !== undefined && ms > signedAtMs + MAX_FUTURE_SKEW_MS);
  if (late.length > 0) {
    throw invalid(
      type,
      "impossible-timestamp",
      "A Clerk timestamp lies in the future",
      late.map(([path]) => ({ path, message: "more than 24 hours after the delivery was signed" })),
    );
  }
}

function readableType(json: unknown): string {
  const t = typeof json === "object" && json !== null && "type" in json ? json.type : undefined;
  return typeof t === "string" && t.length > 0 ? t.slice(0, 200) : "unknown";
}

/**
 * Parses a verified raw body. Anything that is not JSON, nests deeper than MAX_JSON_DEPTH, does
 * not fit the schema of a synced type, or carries a timestamp from the far future throws
 * ClerkDeliveryRejected: the same bytes can never apply, so the caller records the rejection.
 *
 * `signedAtMs` (the `svix-timestamp` of this attempt, checked against our clock by the signature
 * verification) bounds how far in the future Clerk timestamps may lie, and dates a delete whose
 * envelope lacks `timestamp`: Clerk sends one today, and a later date only makes a tombstone
 * younger, never lets an update win over it.
 */
export function parseClerkEvent(raw: string, signedAtMs: number): ClerkSyncEvent {
  if (jsonDepthExceeds(raw, MAX_JSON_DEPTH)) {
    throw invalid("unknown", "too-deeply-nested", `Webhook body nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ClerkDeliveryRejected("INVALID_JSON", "Webhook body is not JSON", { reason: "invalid-json", type: "unknown" });
  }
  const envelope = clerkEventEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    throw invalid(readableType(json), "invalid-envelope", "Not a Clerk event envelope", issues(envelope.error));
  }
  const { type, data, timestamp } = envelope.data;
  if (!isSyncType(type)) return { kind: "ignored", type };
  checkNotFuture(type, signedAtMs, [["timestamp", timestamp]]);
  const eventTime = new Date(timestamp ?? signedAtMs);

  switch (type) {
    case "user.created":
    case "user.updated": {
      const user = parseData(clerkUserSchema, type, data);
      checkNotFuture(type, signedAtMs, [["data.updated_at", user.updated_at]]);
      return { kind: "user.upsert", type, user };
    }
    case "user.deleted":
      return { kind: "user.delete", type, deleted: parseData(clerkDeletedObjectSchema, type, data), at: eventTime };
    case "organization.created":
    case "organization.updated": {
      const org = parseData(clerkOrganizationSchema, type, data);
      checkNotFuture(type, signedAtMs, [["data.updated_at", org.updated_at]]);
      return { kind: "org.upsert", type, org };
    }
    case "organization.deleted":
      return { kind: "org.delete", type, deleted: parseData(clerkDeletedObjectSchema, type, data), at: eventTime };
    case "organizationMembership.created":
    case "organizationMembership.updated":
    case "organizationMembership.deleted": {
      const membership = parseData(clerkMembershipSchema, type, data);
      checkNotFuture(type, signedAtMs, [
        ["data.updated_at", membership.updated_at],
        ["data.organization.updated_at", membership.organization.updated_at],
      ]);
      const tombstone = type === "organizationMembership.deleted";
      // A delete carries the membership as it was, so its updated_at equals the last update's:
      // dating it by the event time (never earlier) makes it win over that update on any arrival order.
      const version = tombstone ? new Date(Math.max(membership.updated_at, eventTime.getTime())) : new Date(membership.updated_at);
      return { kind: "membership", type, membership, tombstone, version };
    }
  }
}
