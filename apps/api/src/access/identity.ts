/**
 * What a verified session token says about its bearer. Produced by the authenticator (auth/clerk.ts,
 * Clerk or dev keys through the same path); consumed by user provisioning, which must not depend
 * on how the token was checked.
 */
export interface TokenIdentity {
  clerkUserId: string;
  org: { id: string; slug: string | null; role: string | null } | null;
  claims: Record<string, unknown>;
}

/**
 * The claims user provisioning reads (a pending user's profile, until the webhook fills it in).
 * A remembered token keeps only these and `exp` (auth/clerk.ts); provisioning may read no other.
 */
export const PROFILE_CLAIMS = ["email", "given_name", "first_name", "family_name", "last_name", "name", "picture", "image_url"] as const;
export type ProfileClaim = (typeof PROFILE_CLAIMS)[number];
