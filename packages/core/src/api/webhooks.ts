import { z } from "zod";

/**
 * Clerk webhook payloads (delivered by Svix), only the parts the sync reads. Objects are loose:
 * Clerk adds fields over time and an unknown field must never turn a delivery into a 400.
 */

const clerkId = z.string().min(1).max(200);
/** Clerk timestamps are milliseconds since the epoch; bounded to what a JS Date can hold. */
const epochMs = z.number().int().min(0).max(8_640_000_000_000_000);
const optionalText = z.string().nullish();

/** The envelope every Clerk event shares. `timestamp` (ms) is when Clerk created the event. */
export const clerkEventEnvelopeSchema = z.looseObject({
  type: z.string().min(1).max(200),
  object: z.string().optional(),
  timestamp: epochMs.optional(),
  data: z.record(z.string(), z.unknown()),
});
export type ClerkEventEnvelope = z.infer<typeof clerkEventEnvelopeSchema>;

export const clerkEmailAddressSchema = z.looseObject({
  id: z.string().nullish(),
  email_address: z.string(),
});

/** `user.created` / `user.updated`. */
export const clerkUserSchema = z.looseObject({
  id: clerkId,
  first_name: optionalText,
  last_name: optionalText,
  username: optionalText,
  image_url: optionalText,
  /** Older payloads only carry this one. */
  profile_image_url: optionalText,
  primary_email_address_id: optionalText,
  email_addresses: z.array(clerkEmailAddressSchema).nullish(),
  banned: z.boolean().nullish(),
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
  name: z.string().min(1),
  slug: optionalText,
  public_metadata: z.record(z.string(), z.unknown()).nullish(),
  updated_at: epochMs,
});
export type ClerkOrganization = z.infer<typeof clerkOrganizationSchema>;

export const clerkPublicUserDataSchema = z.looseObject({
  user_id: clerkId,
  first_name: optionalText,
  last_name: optionalText,
  identifier: optionalText,
  image_url: optionalText,
  profile_image_url: optionalText,
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
