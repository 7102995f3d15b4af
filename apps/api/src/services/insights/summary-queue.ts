import { type DbOrTx, extractions } from "@raptscallions/db";
import { and, asc, inArray, sql } from "drizzle-orm";
import type { ExtractionRow } from "../alerts/dto.ts";
import type { ServiceContext, SystemActor } from "../context.ts";
import { SUMMARY_MODULE, type SummaryData } from "./summary-dto.ts";
import { writeSummary } from "./write-summary.ts";

/** How long a claimed summary stays away from other runs: a run that dies frees it after this. */
const CLAIM_LEASE_MS = 120_000;
const CLAIM_BATCH = 5;

/**
 * Queues the end-of-session summary in the transaction that ends the session: it exists if and
 * only if the session ended, and at most once per session (a unique index; a second end is a
 * no-op). The summary job writes it later, so ending a session never waits for a model.
 */
export async function queueEndSummary(tx: DbOrTx, session: { id: string; classId: string | null; groupId: string; lastSeq: number }, now: Date): Promise<void> {
  const data: SummaryData = { state: "pending", upToSeq: session.lastSeq, attempts: 0, nextAttemptAt: now.toISOString() };
  await tx
    .insert(extractions)
    .values({
      sessionId: session.id,
      classId: session.classId,
      groupId: session.groupId,
      module: SUMMARY_MODULE,
      kind: "session-end",
      severity: "info",
      isAlert: false,
      data: { ...data },
      createdAt: now,
    })
    .onConflictDoNothing();
}

/**
 * One run of the summary job: claims due pending summaries (`FOR UPDATE SKIP LOCKED`, pushing
 * their next attempt a lease ahead so two runs never write the same one) and writes them, until
 * none is due or the signal stops it. Returns how many attempts it made.
 */
export async function writeDueSummaries(ctx: ServiceContext<SystemActor>, opts: { maxAttempts: number; signal: AbortSignal }): Promise<number> {
  let attempted = 0;
  while (!opts.signal.aborted) {
    const claimed = await claimDue(ctx.db, ctx.clock.now());
    if (claimed.length === 0) break;
    for (const row of claimed) {
      if (opts.signal.aborted) break;
      await writeSummary(ctx, row, { maxAttempts: opts.maxAttempts, signal: opts.signal });
      attempted += 1;
    }
  }
  return attempted;
}

async function claimDue(db: DbOrTx, now: Date): Promise<ExtractionRow[]> {
  const nowIso = now.toISOString();
  const leaseUntil = new Date(now.getTime() + CLAIM_LEASE_MS).toISOString();
  return db.transaction(async (tx) => {
    // ISO-8601 UTC strings of one format order as the instants they name.
    const due = await tx
      .select({ id: extractions.id })
      .from(extractions)
      .where(
        and(sql`${extractions.module} = 'summary' and ${extractions.data}->>'state' = 'pending'`, sql`coalesce(${extractions.data}->>'nextAttemptAt', '') <= ${nowIso}`),
      )
      .orderBy(asc(extractions.createdAt))
      .limit(CLAIM_BATCH)
      .for("update", { skipLocked: true });
    if (due.length === 0) return [];
    return tx
      .update(extractions)
      .set({ data: sql`${extractions.data} || jsonb_build_object('nextAttemptAt', ${leaseUntil}::text)` })
      .where(
        inArray(
          extractions.id,
          due.map((d) => d.id),
        ),
      )
      .returning();
  });
}
