import { NotFoundError } from "@raptscallions/core";
import { type DbOrTx, sessions } from "@raptscallions/db";
import { eq, sql } from "drizzle-orm";

/**
 * Locks a session row for the rest of the transaction. Everything that appends messages takes
 * this lock, so seq allocation is serialised and state checks made under it cannot go stale.
 */
export async function lockSessionForAppend(tx: DbOrTx, sessionId: string) {
  const [locked] = await tx.select().from(sessions).where(eq(sessions.id, sessionId)).for("update");
  if (!locked) throw new NotFoundError("Session");
  return locked;
}

/** Claims `count` consecutive message seqs of a locked session; returns the first. Seqs stay dense. */
export async function claimSeqs(tx: DbOrTx, locked: { id: string; lastSeq: number }, count: number): Promise<number> {
  await tx
    .update(sessions)
    .set({ lastSeq: locked.lastSeq + count })
    .where(eq(sessions.id, locked.id));
  return locked.lastSeq + 1;
}

/**
 * Locks the session row and claims `count` consecutive seqs in one statement (the update takes
 * the row lock for the rest of the transaction); returns the first seq and the session's state,
 * which the caller checks under that lock — throwing rolls the claim back with the transaction.
 */
export async function lockAndClaimSeqs(tx: DbOrTx, sessionId: string, count: number): Promise<{ seq: number; state: string }> {
  const [row] = await tx
    .update(sessions)
    .set({ lastSeq: sql`${sessions.lastSeq} + ${count}` })
    .where(eq(sessions.id, sessionId))
    .returning({ lastSeq: sessions.lastSeq, state: sessions.state });
  if (!row) throw new NotFoundError("Session");
  return { seq: row.lastSeq - count + 1, state: row.state };
}
