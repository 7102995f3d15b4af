/**
 * The roster bench's instance and its measuring function. The instance is the app as the test
 * harness builds it (createApp on the given database, in-process bus), seeded, with the seeded
 * district's administrator acting; connections are made through the roster connection service and
 * runs go through `startRosterRun` (what the upload and trigger routes call), so a measured run is
 * the whole real path: lease, run row, read, diff, apply, audit, run log.
 *
 * "Rows written" are row versions created since the run began (a row's `xmin` is the transaction
 * that wrote it: inserts and updates both count, even an update that changes no value), per table,
 * plus the net change of each table's row count (deletions show there). Works on Postgres and PGlite.
 */
import type { Actor } from "../../apps/api/src/access/actor.ts";
import { loadActor } from "../../apps/api/src/access/actor.ts";
import { createApp } from "../../apps/api/src/app.ts";
import type { RosterConfig } from "../../apps/api/src/lib/roster-config.ts";
import { buildServiceContext, type ServiceContext } from "../../apps/api/src/services/context.ts";
import { createRosterConnection, managedConnection } from "../../apps/api/src/services/roster/connections.ts";
import { type RosterConnectionRow, type RosterRunRow, requireRosterRun } from "../../apps/api/src/services/roster/runs.ts";
import { rosterConfigOf } from "../../apps/api/src/services/roster/settings.ts";
import { testDeps } from "../../apps/api/test/helpers/deps.ts";
import type { CreateRosterConnectionBody } from "../../packages/core/src/index.ts";
import { type DbHandle, groups, SEED, seed, users } from "../../packages/db/src/index.ts";
import { eq, sql } from "../../packages/db/node_modules/drizzle-orm";
import type { RosterSource } from "../../packages/oneroster/src/index.ts";
import type { PgCounter } from "../turn/pg-counter.ts";

/** Bookkeeping of a run (its row, the connection's delta mark, the lease): written by every run. */
export const BOOKKEEPING_TABLES = new Set(["roster_runs", "roster_connections", "job_leases", "jobs"]);

export interface RosterBench {
  db: DbHandle;
  ctx: ServiceContext<Actor>;
  roster: RosterConfig;
  districtId: string;
  connect(body: CreateRosterConnectionBody): Promise<RosterConnectionRow>;
  /** The instance's error lines so far (why a run failed). */
  errors(): Record<string, unknown>[];
  close(): Promise<void>;
}

/** Seeds the (migrated) database and builds the app on it, acting as the seeded district's admin. */
export async function openRosterBench(db: DbHandle): Promise<RosterBench> {
  await seed(db.db);
  const deps = await testDeps(db);
  const app = createApp(deps);
  const [adminRow] = await db.db.select({ id: users.id }).from(users).where(eq(users.clerkUserId, SEED.users.admin.clerkUserId));
  const [district] = await db.db.select({ id: groups.id }).from(groups).where(eq(groups.slug, SEED.groups.district.slug));
  const admin = adminRow ? await loadActor(db.db, adminRow.id) : null;
  if (!admin || !district) throw new Error("the seed has no district or no admin");
  const ctx = buildServiceContext(deps, app.realtime.runner, { actor: admin, requestId: "roster-bench" });
  const roster = rosterConfigOf(deps.config);
  return {
    db,
    ctx,
    roster,
    districtId: district.id,
    async connect(body) {
      const dto = await createRosterConnection({ ctx: { ...ctx, roster }, input: { groupId: district.id, body } });
      return managedConnection(ctx, db.db, dto.id);
    },
    errors: () => deps.logger.lines.filter((l) => l.level === "error"),
    close: () => app.realtime.shutdown(0),
  };
}

export interface TableWrites {
  /** Row versions written since the run began (inserted or updated). */
  written: number;
  /** Rows now less rows before. */
  net: number;
  rows: number;
}

export interface RunMeasurement {
  label: string;
  status: RosterRunRow["status"];
  error: string | null;
  wallMs: number;
  /** This process's CPU over the run (the instance; plus the source, when it is in-process). */
  cpuMs: { user: number; system: number; total: number };
  /** CPU / wall: 1 = one core busy for the whole run. */
  cpuUtilisation: number;
  counts: RosterRunRow["counts"];
  rejectedCount: number;
  tables: Record<string, TableWrites>;
  /** Row versions written outside the run's own bookkeeping (roster_runs, the lease, the delta mark). */
  rowsWritten: number;
  /** Postgres traffic of the run, when a counting proxy sits in front of the database. */
  pg?: { roundTrips: number; statements: number; writes: number; rowsReturned: number; topStatements: { count: number; text: string }[] };
}

async function rowsOf<T>(db: DbHandle, query: ReturnType<typeof sql>): Promise<T[]> {
  const result = await db.db.execute(query);
  // postgres-js answers with the rows, PGlite with `{ rows }`.
  return Array.isArray(result) ? (result as T[]) : (result as unknown as { rows: T[] }).rows;
}

async function publicTables(db: DbHandle): Promise<string[]> {
  const rows = await rowsOf<{ name: string }>(db, sql`select tablename as name from pg_tables where schemaname = 'public' order by 1`);
  return rows.map((r) => r.name);
}

/** Per table: rows, and rows whose `xmin` is at or after `sinceXid` (null: count only). */
async function tableState(db: DbHandle, tables: string[], sinceXid: number | null): Promise<Map<string, { rows: number; written: number }>> {
  // Table names come from pg_tables, quoted; never user input.
  const parts = tables.map(
    (t) =>
      `select '${t}' as name, count(*)::int as rows, ${sinceXid === null ? "0" : `count(*) filter (where xmin::text::bigint >= ${sinceXid})`}::int as written from "${t}"`,
  );
  const rows = await rowsOf<{ name: string; rows: number; written: number }>(db, sql.raw(parts.join(" union all ")));
  return new Map(rows.map((r) => [r.name, { rows: Number(r.rows), written: Number(r.written) }]));
}

/**
 * Runs one sync of `connection` through the real run path and measures it: wall time, this
 * process's CPU, the run's own counts, rows written per table and (with `counter`) Postgres traffic.
 * `source` is opened inside the measured time (a CSV bundle is unpacked there); absent, a REST
 * connection opens its server as a scheduled or triggered run does.
 */
export async function measureRun(
  bench: RosterBench,
  input: { label: string; connection: RosterConnectionRow; mode: "full" | "delta"; source?: () => RosterSource; counter?: PgCounter },
): Promise<RunMeasurement> {
  const { db } = bench;
  const tables = await publicTables(db);
  const before = await tableState(db, tables, null);
  // Not wrapped: a fresh database is far from xid wraparound.
  const [xid] = await rowsOf<{ xid: string }>(db, sql`select (txid_current() % 4294967296)::text as xid`);
  const sinceXid = Number(xid?.xid);
  // The connection as the database has it now (its delta mark moves after each run).
  const connection = await managedConnection(bench.ctx, db.db, input.connection.id);

  input.counter?.reset();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const source = input.source?.();
  const started = await requireRosterRun(bench.ctx, bench.roster, {
    connection,
    trigger: source ? "upload" : "manual",
    requestedBy: bench.ctx.actor.userId,
    mode: input.mode,
    ...(source ? { source } : {}),
  });
  const run = await started.done;
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const pgCounts = input.counter?.snapshot();

  const after = await tableState(db, tables, sinceXid);
  const perTable: Record<string, TableWrites> = {};
  let rowsWritten = 0;
  for (const [name, now] of after) {
    const net = now.rows - (before.get(name)?.rows ?? 0);
    if (now.written === 0 && net === 0) continue;
    perTable[name] = { written: now.written, net, rows: now.rows };
    if (!BOOKKEEPING_TABLES.has(name)) rowsWritten += now.written + Math.max(0, -net);
  }
  const cpuMs = { user: cpu.user / 1000, system: cpu.system / 1000, total: (cpu.user + cpu.system) / 1000 };
  return {
    label: input.label,
    status: run.status,
    error: run.error,
    wallMs,
    cpuMs,
    cpuUtilisation: cpuMs.total / wallMs,
    counts: run.counts,
    rejectedCount: run.rejectedCount,
    tables: perTable,
    rowsWritten,
    ...(pgCounts
      ? {
          pg: {
            roundTrips: pgCounts.roundTrips,
            statements: pgCounts.statements,
            writes: pgCounts.writes,
            rowsReturned: pgCounts.rows,
            topStatements: [...pgCounts.byText]
              .sort((a, b) => b[1] - a[1])
              .slice(0, 8)
              .map(([text, count]) => ({ count, text: text.slice(0, 160) })),
          },
        }
      : {}),
  };
}

/** Whether a run changed nothing: every entity's counts are unchanged/skipped only, and no row was written. */
export function wroteNothing(m: RunMeasurement): boolean {
  const counts = Object.values(m.counts ?? {});
  return m.status === "succeeded" && m.rowsWritten === 0 && counts.every((c) => c.created === 0 && c.updated === 0 && c.removed === 0);
}
