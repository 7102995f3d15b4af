import type { DevSignIn } from "../deps.ts";
import { type DevKeyPair, mintSessionToken } from "./dev-keys.ts";
import { DEV_USERS } from "./dev-users.ts";

const TOKEN_TTL_SECONDS = 12 * 3600;

/**
 * The console's dev sign-in, or undefined where it must not exist: without dev keys (Clerk is
 * configured) or with NODE_ENV=production, whatever else is set.
 */
export function createDevSignIn(opts: { keys: DevKeyPair | null; nodeEnv: string; now?: () => number }): DevSignIn | undefined {
  const { keys } = opts;
  if (!keys || opts.nodeEnv === "production") return undefined;
  const now = opts.now ?? Date.now;
  return {
    users: DEV_USERS,
    async mint(user) {
      const issuedAt = Math.floor(now() / 1000);
      const token = await mintSessionToken(keys, {
        userId: user.clerkUserId,
        org: user.org ? { id: user.org.clerkOrgId, slug: user.org.slug, role: user.org.role } : undefined,
        claims: { email: user.email, name: user.name },
        expiresInSeconds: TOKEN_TTL_SECONDS,
        issuedAt,
      });
      return { token, expiresAt: new Date((issuedAt + TOKEN_TTL_SECONDS) * 1000).toISOString() };
    },
  };
}
