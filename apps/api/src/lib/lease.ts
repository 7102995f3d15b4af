import { type Db, jobLeases } from "@raptscallions/db";
import { and, eq, sql } from "drizzle-orm";

/*
 * The claim behind "one runner at a time": a row per job in `job_leases`, taken by ONE
 * conditional upsert. Two instances racing for a free, due row both reach the same row; Postgres
 * re-checks the WHERE of `ON CONFLICT DO UPDATE` against the winner's committed version, so the
 * loser gets no row back. Times are the database's `now()`, never an instance's clock, so
 * instances with skewed clocks still agree on who holds what and when a job is due.
 *
 * A lease row rather than an advisory lock: a session-level advisory lock lives on one pooled
 * connection (the job's own queries run on others, and a pool may hand that connection to
 * someone else), and PGlite has a single session shared by everything in the process, so two
 * registries on one PGlite would both "hold" it. A row works the same on both drivers, survives
 * nothing it should not (an expired lease is free), and records when the job last ran and how.
 */

const ms = (n: number) => sql`(${n}::float8 * interval '1 millisecond')`;

/**
 * Claims `name` for `holder` if nobody holds it and it is due (or `force`: due or not). Returns
 * whether the claim was won.
 */
export async function claimLease(db: Db, input: { name: string; holder: string; leaseMs: number; force?: boolean }): Promise<boolean> {
  const free = sql`(${jobLeases.leasedUntil} is null or ${jobLeases.leasedUntil} < now())`;
  const due = input.force ? sql`true` : sql`${jobLeases.nextRunAt} <= now()`;
  const rows = await db
    .insert(jobLeases)
    .values({ name: input.name, holder: input.holder, leasedUntil: sql`now() + ${ms(input.leaseMs)}`, lastStartedAt: sql`now()` })
    .onConflictDoUpdate({
      target: jobLeases.name,
      set: { holder: input.holder, leasedUntil: sql`now() + ${ms(input.leaseMs)}`, lastStartedAt: sql`now()` },
      setWhere: sql`${free} and ${due}`,
    })
    .returning({ name: jobLeases.name });
  return rows.length > 0;
}

/** Extends a held lease; false when it was lost (expired and taken by another holder). */
export async function renewLease(db: Db, input: { name: string; holder: string; leaseMs: number }): Promise<boolean> {
  const rows = await db
    .update(jobLeases)
    .set({ leasedUntil: sql`now() + ${ms(input.leaseMs)}` })
    .where(and(eq(jobLeases.name, input.name), eq(jobLeases.holder, input.holder)))
    .returning({ name: jobLeases.name });
  return rows.length > 0;
}

/** Frees a held lease and schedules the next run `intervalMs` from now; false when it was lost. */
export async function releaseLease(
  db: Db,
  input: { name: string; holder: string; intervalMs: number; outcome: "ok" | "failed"; error: string | null },
): Promise<boolean> {
  const rows = await db
    .update(jobLeases)
    .set({
      holder: null,
      leasedUntil: null,
      nextRunAt: sql`now() + ${ms(input.intervalMs)}`,
      lastFinishedAt: sql`now()`,
      lastOutcome: input.outcome,
      lastError: input.error,
    })
    .where(and(eq(jobLeases.name, input.name), eq(jobLeases.holder, input.holder)))
    .returning({ name: jobLeases.name });
  return rows.length > 0;
}

/** Frees a held lease without running the job: its schedule (`next_run_at`) stays as it was. */
export async function dropLease(db: Db, input: { name: string; holder: string }): Promise<void> {
  await db
    .update(jobLeases)
    .set({ holder: null, leasedUntil: null })
    .where(and(eq(jobLeases.name, input.name), eq(jobLeases.holder, input.holder)));
}

/**
 * How long until `name` may next be claimed, by the database's clock: 0 when due and free; the
 * time to its next run when free; `null` when another holder has it (its release reschedules it).
 */
export async function untilClaimable(db: Db, name: string): Promise<number | null> {
  const [row] = await db
    .select({
      held: sql<boolean>`coalesce(${jobLeases.leasedUntil} >= now(), false)`,
      waitMs: sql<number>`greatest(0, extract(epoch from (${jobLeases.nextRunAt} - now())) * 1000)::float8`,
    })
    .from(jobLeases)
    .where(eq(jobLeases.name, name));
  if (!row) return 0;
  if (row.held) return null;
  return Number(row.waitMs);
}
