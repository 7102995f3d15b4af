/**
 * What a verified session token says about its bearer. Produced by the authenticator (auth/clerk.ts,
 * Clerk or dev keys through the same path); consumed by user provisioning, which must not depend
 * on how the token was checked.
 */
export interface TokenIdentity {
  clerkUserId: string;
  sessionId: string | null;
  org: { id: string; slug: string | null; role: string | null } | null;
  claims: Record<string, unknown>;
}
