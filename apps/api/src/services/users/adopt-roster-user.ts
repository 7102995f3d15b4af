import { type DbOrTx, rosterLinks, users } from "@raptscallions/db";
import { and, eq, isNull, sql } from "drizzle-orm";

/**
 * Gives a Clerk id to the user a roster sync created for this person, so that the first sign-in
 * (or the first Clerk webhook) lands on that row, with its enrolments, instead of making a second
 * account. The row must be one only the SIS knows (no Clerk id, never updated by Clerk, not
 * deleted), linked by a roster connection, and the email must be the only such match. Clerk
 * verifies the addresses it reports, so an email match is as good as the SIS's own word.
 * Returns the adopted user's id, or null when there was nothing to adopt.
 */
export async function adoptRosterUser(tx: DbOrTx, input: { clerkUserId: string; email: string | null }): Promise<string | null> {
  if (!input.email) return null;
  const [taken] = await tx.select({ id: users.id }).from(users).where(eq(users.clerkUserId, input.clerkUserId));
  if (taken) return null;
  const candidates = await tx
    .select({ id: users.id })
    .from(users)
    .where(
      and(
        isNull(users.clerkUserId),
        isNull(users.clerkUpdatedAt),
        isNull(users.deletedAt),
        sql`lower(${users.email}) = ${input.email.toLowerCase()}`,
        sql`exists (select 1 from ${rosterLinks} where ${rosterLinks.entity} = 'users' and ${rosterLinks.localId} = ${users.id}::text)`,
      ),
    )
    .limit(2);
  const [only] = candidates;
  if (!only || candidates.length > 1) return null;
  const adopted = await tx
    .update(users)
    .set({ clerkUserId: input.clerkUserId })
    .where(and(eq(users.id, only.id), isNull(users.clerkUserId)))
    .returning({ id: users.id });
  return adopted[0]?.id ?? null;
}
