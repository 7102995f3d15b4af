import { z } from "zod";

/**
 * Clerk webhook payloads (delivered by Svix), only the parts the sync reads. Objects are loose:
 * Clerk adds fields over time and an unknown field must never fail a delivery.
 *
 * Every string the sync stores is bounded to what Postgres accepts: `text` refuses NUL, a btree
 * index row holds at most 2,704 bytes, and a timestamp must serialise as an ISO date of year
 * 9999 or earlier. Identifiers and emails that break those rules are refused (the delivery is
 * rejected); display text has NUL removed and lone UTF-16 surrogates replaced by U+FFFD.
 */

/** Longest display text kept (names, identifiers); longer is refused, not cut. */
export const CLERK_TEXT_MAX = 1000;
/** RFC 5321's limit for an address; also keeps `users_email_idx` rows far below 2,704 bytes. */
export const CLERK_EMAIL_MAX = 320;
export const CLERK_URL_MAX = 2048;
/** 9999-12-31T23:59:59.999Z: the last instant a timestamp column takes from an ISO string. */
export const CLERK_EPOCH_MS_MAX = 253_402_300_799_999;

const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, "g");

/** NUL removed, lone surrogates replaced by U+FFFD: text Postgres stores as sent otherwise. */
export function storableText(s: string): string {
  return s.replaceAll("\u0000", "").replace(LONE_SURROGATES, "\ufffd");
}

/** Whether `s` can be stored and indexed as it is: no control characters, well-formed UTF-16. */
export function isCleanText(s: string): boolean {
  return !CONTROL.test(s) && !LONE_SURROGATE.test(s);
}

/** Clerk ids (`user_…`, `org_…`, `orgmem_…`): printable ASCII, as Clerk makes them. */
const clerkId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");
/** Clerk timestamps are milliseconds since the epoch, up to what a timestamp column takes. */
const epochMs = z.number().int().min(0).max(CLERK_EPOCH_MS_MAX);
const displayText = (max = CLERK_TEXT_MAX) => z.string().max(max).transform(storableText).nullish();
const optionalText = displayText();

/** The envelope every Clerk event shares. `timestamp` (ms) is when Clerk created the event. */
export const clerkEventEnvelopeSchema = z.looseObject({
  type: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces"),
  object: z.string().optional(),
  timestamp: epochMs.optional(),
  data: z.record(z.string(), z.unknown()),
});
export type ClerkEventEnvelope = z.infer<typeof clerkEventEnvelopeSchema>;

export const clerkEmailAddressSchema = z.looseObject({
  id: z.string().nullish(),
  email_address: z.string().max(CLERK_EMAIL_MAX).refine(isCleanText, "must not contain control characters or lone surrogates"),
});

/** `user.created` / `user.updated`. */
export const clerkUserSchema = z.looseObject({
  id: clerkId,
  first_name: optionalText,
  last_name: optionalText,
  username: optionalText,
  image_url: displayText(CLERK_URL_MAX),
  /** Older payloads only carry this one. */
  profile_image_url: displayText(CLERK_URL_MAX),
  primary_email_address_id: optionalText,
  email_addresses: z.array(clerkEmailAddressSchema).nullish(),
  banned: z.boolean().nullish(),
  /** `under13: true` marks a child under 13 (docs/privacy.md); other keys are ignored. */
  public_metadata: z.record(z.string(), z.unknown()).nullish(),
  updated_at: epochMs,
});
export type ClerkUser = z.infer<typeof clerkUserSchema>;

/** `user.deleted` / `organization.deleted`: a DeletedObject, no `updated_at`. */
export const clerkDeletedObjectSchema = z.looseObject({
  id: clerkId,
  slug: optionalText,
  deleted: z.boolean().optional(),
});
export type ClerkDeletedObject = z.infer<typeof clerkDeletedObjectSchema>;

/** `organization.created` / `organization.updated`, and the organisation embedded in memberships. */
export const clerkOrganizationSchema = z.looseObject({
  id: clerkId,
  name: z.string().min(1).max(CLERK_TEXT_MAX).transform(storableText),
  slug: displayText(200),
  public_metadata: z.record(z.string(), z.unknown()).nullish(),
  updated_at: epochMs,
});
export type ClerkOrganization = z.infer<typeof clerkOrganizationSchema>;

export const clerkPublicUserDataSchema = z.looseObject({
  user_id: clerkId,
  first_name: optionalText,
  last_name: optionalText,
  /** An email, phone number or username; stored as the email when it contains `@`. */
  identifier: displayText(CLERK_EMAIL_MAX),
  image_url: displayText(CLERK_URL_MAX),
  profile_image_url: displayText(CLERK_URL_MAX),
});

/** `organizationMembership.created` / `.updated` / `.deleted` (all carry the full membership). */
export const clerkMembershipSchema = z.looseObject({
  id: clerkId,
  role: z.string().min(1).max(200),
  organization: clerkOrganizationSchema,
  public_user_data: clerkPublicUserDataSchema,
  updated_at: epochMs,
});
export type ClerkMembership = z.infer<typeof clerkMembershipSchema>;

/** The Clerk event types the sync applies; any other type is acknowledged and ignored. */
export const CLERK_SYNC_EVENT_TYPES = [
  "user.created",
  "user.updated",
  "user.deleted",
  "organization.created",
  "organization.updated",
  "organization.deleted",
  "organizationMembership.created",
  "organizationMembership.updated",
  "organizationMembership.deleted",
] as const;
export type ClerkSyncEventType = (typeof CLERK_SYNC_EVENT_TYPES)[number];

/**
 * What `POST /api/webhooks/clerk` answers with a 200: `applied` (rows changed), `stale` (older than
 * what is stored, or already reflected), `ignored` (event type not synced), `duplicate` (this
 * `svix-id` was already processed).
 */
export const clerkWebhookResponseSchema = z.object({
  received: z.literal(true),
  outcome: z.enum(["applied", "stale", "ignored", "duplicate"]),
});
export type ClerkWebhookResponse = z.infer<typeof clerkWebhookResponseSchema>;
export type ClerkWebhookOutcome = ClerkWebhookResponse["outcome"];
