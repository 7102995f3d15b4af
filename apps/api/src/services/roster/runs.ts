import { ConflictError, ValidationError } from "@raptscallions/core";
import { type RosterRejection, rosterConnections, rosterRuns } from "@raptscallions/db";
import { type RosterSource, RosterSourceError } from "@raptscallions/oneroster";
import { and, eq, inArray, sql } from "drizzle-orm";
import { claimLease, releaseLease, renewLease } from "../../lib/lease.ts";
import type { RosterConfig } from "../../lib/roster-config.ts";
import { CredentialKeyError, decryptSecret } from "../../lib/roster-credentials.ts";
import type { Principal, ServiceContext, SystemActor } from "../context.ts";
import { syncRoster } from "./sync.ts";

export type RosterConnectionRow = typeof rosterConnections.$inferSelect;
export type RosterRunRow = typeof rosterRuns.$inferSelect;

/** A run holds its connection's lease this long between renewals (renewed every third of it). */
const LEASE_MS = 120_000;
/** The log keeps this many refused records; `rejectedCount` counts them all. */
const MAX_LOGGED_REJECTIONS = 1000;
/** A connection without a schedule is not due again on its own for a year. */
const UNSCHEDULED_MS = 365 * 24 * 3_600_000;

/** The lease row that makes one run per connection at a time, across instances (the job lease). */
export const rosterLeaseName = (connectionId: string) => `roster:${connectionId}`;

/** Who a connection's changes are audited as. */
export function connectionActor(connection: Pick<RosterConnectionRow, "id" | "name">): SystemActor {
  return { kind: "integration", id: connection.id, name: `Roster: ${connection.name}` };
}

async function openSource(roster: RosterConfig, connection: RosterConnectionRow): Promise<RosterSource> {
  if (connection.kind !== "oneroster_rest") throw new ValidationError("A CSV connection syncs from an uploaded bundle");
  const { baseUrl, tokenUrl, clientId, secretCiphertext, secretKeyId } = connection;
  if (!baseUrl || !tokenUrl || !clientId || !secretCiphertext || !secretKeyId)
    throw new RosterSourceError("unauthorized", "the connection's REST settings are incomplete");
  const clientSecret = await decryptSecret(await roster.keyring(), { ciphertext: secretCiphertext, keyId: secretKeyId });
  return roster.openRestSource({ baseUrl, tokenUrl, clientId, clientSecret });
}

/** What a failed run's log says: the source's own words, never a query or a stack. */
function describeFailure(err: unknown): string {
  if (err instanceof RosterSourceError) return `${err.failure}: ${err.message}`.slice(0, 1000);
  if (err instanceof CredentialKeyError) return `credentials: ${err.message}`;
  if (err instanceof Error && err.name === "AbortError") return "stopped: the server is shutting down; the next run continues";
  return "internal error; the server log has the details";
}

/**
 * Starts a run of `connection` if nobody runs it now (on any instance): claims the connection's
 * lease, records the run (`queued`), and returns it with `done`, which settles when the run has
 * ended (it never rejects). A scheduled attempt (`trigger: "schedule"`) only claims a connection
 * that is due; other triggers run it now. Returns null when the lease is held (or not due).
 * Runs left `queued`/`running` by an instance that died are marked failed here: whoever holds the
 * lease is the only runner.
 */
export async function startRosterRun(
  ctx: ServiceContext<Principal>,
  roster: RosterConfig,
  input: {
    connection: RosterConnectionRow;
    trigger: RosterRunRow["trigger"];
    requestedBy?: string | null;
    mode?: "full" | "delta" | undefined;
    /** An uploaded bundle; REST connections open their server when absent. */
    source?: RosterSource;
    signal?: AbortSignal;
  },
): Promise<{ run: RosterRunRow; done: Promise<RosterRunRow> } | null> {
  const { connection } = input;
  const holder = `${ctx.instanceId}:${ctx.ids.token(6)}`;
  const name = rosterLeaseName(connection.id);
  const claimed = await claimLease(ctx.db, { name, holder, leaseMs: LEASE_MS, force: input.trigger !== "schedule" });
  if (!claimed) return null;
  const mode = input.mode ?? (connection.kind === "oneroster_rest" && connection.deltaSince ? "delta" : "full");
  let run: RosterRunRow | undefined;
  try {
    run = await ctx.db.transaction(async (tx) => {
      await tx
        .update(rosterRuns)
        .set({ status: "failed", error: "interrupted: the instance running it stopped", finishedAt: ctx.clock.now() })
        .where(and(eq(rosterRuns.connectionId, connection.id), inArray(rosterRuns.status, ["queued", "running"])));
      const [row] = await tx
        .insert(rosterRuns)
        .values({ connectionId: connection.id, trigger: input.trigger, mode, requestedBy: input.requestedBy ?? null })
        .returning();
      return row;
    });
  } catch (err) {
    await releaseLease(ctx.db, { name, holder, intervalMs: 0, outcome: "failed", error: "could not record the run" }).catch(() => undefined);
    throw err;
  }
  if (!run) throw new Error("insert returned no row");
  const done = execute(ctx, roster, { ...input, run, mode, holder, name });
  return { run, done };
}

async function execute(
  ctx: ServiceContext<Principal>,
  roster: RosterConfig,
  input: { connection: RosterConnectionRow; run: RosterRunRow; mode: "full" | "delta"; holder: string; name: string; source?: RosterSource; signal?: AbortSignal },
): Promise<RosterRunRow> {
  const { connection, run, holder, name } = input;
  const logger = ctx.logger.child({ rosterConnectionId: connection.id, rosterRunId: run.id });
  const controller = new AbortController();
  input.signal?.addEventListener("abort", () => controller.abort(input.signal?.reason), { once: true });
  const renewal = setInterval(() => {
    renewLease(ctx.db, { name, holder, leaseMs: LEASE_MS })
      .then((held) => {
        if (!held) controller.abort(new Error("lease lost"));
      })
      .catch((err: unknown) => logger.warn("roster run lease renewal failed", { err }));
  }, LEASE_MS / 3);
  let final: Partial<RosterRunRow>;
  try {
    await ctx.db.update(rosterRuns).set({ status: "running", startedAt: ctx.clock.now() }).where(eq(rosterRuns.id, run.id));
    const source = input.source ?? (await openSource(roster, connection));
    const since = input.mode === "delta" ? (connection.deltaSince ?? undefined) : undefined;
    // The sync acts as the integration, so on the system scope: a roster may create districts
    // and people no one's reach covers yet.
    const syncCtx = { ...ctx, db: ctx.systemDb, actor: connectionActor(connection), requestId: `roster-run:${run.id}`, logger };
    const report = await syncRoster(syncCtx, { connection, source, since, signal: controller.signal });
    const rejected: RosterRejection[] = report.rejected.slice(0, MAX_LOGGED_REJECTIONS);
    final = { status: "succeeded", counts: report.counts, rejected, rejectedCount: report.rejected.length };
    if (report.latestModified) {
      await ctx.db
        .update(rosterConnections)
        // A Date inside raw sql reaches postgres-js untyped (it refuses it): send the ISO text, cast.
        .set({ deltaSince: sql`greatest(${rosterConnections.deltaSince}, ${report.latestModified.toISOString()}::timestamptz)` })
        .where(eq(rosterConnections.id, connection.id));
    }
  } catch (err) {
    final = { status: "failed", error: describeFailure(err) };
    if (!(err instanceof RosterSourceError || err instanceof CredentialKeyError)) logger.error("roster run failed", { err });
    else logger.warn("roster run failed", { failure: final.error });
  } finally {
    clearInterval(renewal);
  }
  try {
    const [row] = await ctx.db
      .update(rosterRuns)
      .set({ ...final, finishedAt: ctx.clock.now() })
      .where(eq(rosterRuns.id, run.id))
      .returning();
    const intervalMs = connection.intervalMinutes ? connection.intervalMinutes * 60_000 : UNSCHEDULED_MS;
    await releaseLease(ctx.db, { name, holder, intervalMs, outcome: final.status === "succeeded" ? "ok" : "failed", error: final.error ?? null });
    return row ?? { ...run, ...final };
  } catch (err) {
    // The lease expires and the next claim marks this run failed.
    logger.error("could not record the end of a roster run", { err });
    return { ...run, ...final };
  }
}

/** A manual run or an upload: refused with 409 while another run of the connection is going. */
export async function requireRosterRun(...args: Parameters<typeof startRosterRun>) {
  const started = await startRosterRun(...args);
  if (!started) throw new ConflictError("A sync of this connection is already running");
  return started;
}
