import {
  AppError,
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

function isSyncType(type: string): type is ClerkSyncEventType {
  return (CLERK_SYNC_EVENT_TYPES as readonly string[]).includes(type);
}

function issues(error: z.ZodError) {
  return error.issues.slice(0, 20).map((i) => ({ path: i.path.join("."), message: i.message }));
}

function parseData<T>(schema: z.ZodType<T>, type: string, data: unknown): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new AppError("BAD_REQUEST", `Malformed ${type} payload`, { details: { issues: issues(parsed.error) } });
  }
  return parsed.data;
}

/**
 * Parses a verified raw body. Throws a 400 AppError for anything that is not JSON or does not fit
 * the schema of a synced type, so nothing is recorded and a corrected redelivery still applies.
 *
 * `fallbackEventTimeMs` (the `svix-timestamp` of this attempt) only dates a delete whose
 * envelope lacks `timestamp`: Clerk sends one today, and a later date only makes a tombstone
 * younger, never lets an update win over it.
 */
export function parseClerkEvent(raw: string, fallbackEventTimeMs: number): ClerkSyncEvent {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new AppError("INVALID_JSON", "Webhook body is not JSON");
  }
  const envelope = clerkEventEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    throw new AppError("BAD_REQUEST", "Not a Clerk event envelope", { details: { issues: issues(envelope.error) } });
  }
  const { type, data, timestamp } = envelope.data;
  if (!isSyncType(type)) return { kind: "ignored", type };
  const eventTime = new Date(timestamp ?? fallbackEventTimeMs);

  switch (type) {
    case "user.created":
    case "user.updated":
      return { kind: "user.upsert", type, user: parseData(clerkUserSchema, type, data) };
    case "user.deleted":
      return { kind: "user.delete", type, deleted: parseData(clerkDeletedObjectSchema, type, data), at: eventTime };
    case "organization.created":
    case "organization.updated":
      return { kind: "org.upsert", type, org: parseData(clerkOrganizationSchema, type, data) };
    case "organization.deleted":
      return { kind: "org.delete", type, deleted: parseData(clerkDeletedObjectSchema, type, data), at: eventTime };
    case "organizationMembership.created":
    case "organizationMembership.updated":
    case "organizationMembership.deleted": {
      const membership = parseData(clerkMembershipSchema, type, data);
      const tombstone = type === "organizationMembership.deleted";
      // A delete carries the membership as it was, so its updated_at equals the last update's:
      // dating it by the event time (never earlier) makes it win over that update on any arrival order.
      const version = tombstone
        ? new Date(Math.max(membership.updated_at, eventTime.getTime()))
        : new Date(membership.updated_at);
      return { kind: "membership", type, membership, tombstone, version };
    }
  }
}
