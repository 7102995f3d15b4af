/**
 * Roster sync at district scale (issue #13): a generated OneRoster district of BENCH_ROSTER_USERS
 * users (20,000), BENCH_ROSTER_CLASSES classes (800) and BENCH_ROSTER_ENROLLMENTS enrolments
 * (25,000), synced into the seeded district on Postgres through the real run path
 * (bench/roster/measure.ts). Phases, each one run:
 *   csv-first      a full sync from a CSV bundle into an empty connection   (aim: under 60 s)
 *   csv-resync     the same bundle again: must write nothing               (aim: under 10 s)
 *   csv-delta      a delta bundle of the changed district (renames, moves, tobedeleted enrolments)
 *   rest-first     a full sync of a second connection from a OneRoster REST server over real HTTP
 *   rest-resync    the same, no change                                      (aim: under 10 s)
 *   rest-delta     the server serves the changed district; the run reads `filter=dateLastModified>…`
 * The REST server runs in its own process (bench/roster/sis-server.ts), so the CPU reported is the
 * instance's. Reported per phase: wall s, this process's CPU (process.cpuUsage), the run's counts,
 * rows written per table; with BENCH_ROSTER_PG_COUNT=1 also Postgres round trips and statements
 * (bench/turn/pg-counter.ts, in this process: its CPU then counts too). BENCH_ROSTER_REST=0 skips
 * the REST phases. Results: bench/results/roster-<stamp>.json.
 *
 * Needs Postgres (BENCH_DATABASE_URL; a fresh database per run, dropped after); skipped without.
 *   BENCH_DATABASE_URL=postgres://… bun bench/roster.bench.ts     (or `bun run bench -- roster`)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { createDb } from "../packages/db/src/index.ts";
import { createCsvBundleSource } from "../packages/oneroster/src/index.ts";
import { buildCsvBundle } from "../packages/oneroster/src/testing/index.ts";
import { createBenchDatabase } from "./live/infra.ts";
import { benchDistrict, CHANGED_AT, sizeFromEnv } from "./roster/district.ts";
import { measureRun, openRosterBench, type RunMeasurement, wroteNothing } from "./roster/measure.ts";
import { SIS_CLIENT } from "./roster/sis-server.ts";
import { startPgCounter } from "./turn/pg-counter.ts";

const AIMS: Record<string, number> = { "csv-first": 60_000, "csv-resync": 10_000, "rest-first": 60_000, "rest-resync": 10_000 };
const WITH_REST = process.env.BENCH_ROSTER_REST !== "0";
const PG_COUNT = process.env.BENCH_ROSTER_PG_COUNT === "1";
const log = (msg: string) => console.log(`[roster] ${msg}`);
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");

const size = sizeFromEnv();
const created = await createBenchDatabase();
if ("error" in created) {
  console.log(`SKIP roster bench: ${created.error}`);
  process.exit(0);
}
const database = created;
const loadBefore = load();
let sis: ReturnType<typeof Bun.spawn<"pipe", "pipe", "inherit">> | null = null;
const measured: RunMeasurement[] = [];
let failed = false;

function report(m: RunMeasurement) {
  measured.push(m);
  const counts = Object.entries(m.counts)
    .map(([entity, c]) => `${entity} +${c.created} ~${c.updated} -${c.removed} =${c.unchanged}${c.skipped ? ` skipped ${c.skipped}` : ""}`)
    .join(", ");
  log(
    `${m.label}: ${m.status} in ${(m.wallMs / 1000).toFixed(1)} s wall, ${(m.cpuMs.total / 1000).toFixed(1)} s CPU (${(m.cpuUtilisation * 100).toFixed(0)}% of a core); ` +
      `rows written ${m.rowsWritten}${m.pg ? `; Postgres ${m.pg.statements} statements, ${m.pg.roundTrips} round trips` : ""}`,
  );
  log(`  counts: ${counts}${m.rejectedCount ? `; rejected ${m.rejectedCount}` : ""}${m.error ? `; error: ${m.error}` : ""}`);
  if (m.status !== "succeeded") failed = true;
  const aim = AIMS[m.label];
  if (aim !== undefined) console.log(`${m.wallMs < aim ? "MET " : "MISS"} roster ${m.label} ${(m.wallMs / 1000).toFixed(1)} s (aim < ${aim / 1000} s)`);
  if (m.label.endsWith("resync")) {
    const nothing = wroteNothing(m);
    if (!nothing) failed = true;
    console.log(`${nothing ? "MET " : "MISS"} roster ${m.label} wrote nothing (rows written ${m.rowsWritten})`);
  }
}

try {
  log(`district: ${size.users} users, ${size.classes} classes, ${size.enrollments} enrolments; ${cpus().length} cores, load ${loadBefore}`);
  const genStart = performance.now();
  const { data, changed } = benchDistrict(size);
  const fullBundle = buildCsvBundle(data);
  const deltaBundle = buildCsvBundle(changed.data, { since: new Date(CHANGED_AT.getTime() - 1) });
  log(
    `generated in ${((performance.now() - genStart) / 1000).toFixed(1)} s: bundle ${(fullBundle.byteLength / 1e6).toFixed(1)} MB, delta bundle ${(deltaBundle.byteLength / 1e3).toFixed(0)} kB ` +
      `(${changed.renamed.length} renames, ${changed.moved.length} moves, ${changed.removed.length} removals)`,
  );

  const url = new URL(database.url);
  const counter = PG_COUNT ? await startPgCounter({ host: url.hostname, port: Number(url.port || 5432) }) : undefined;
  if (counter) url.host = `127.0.0.1:${counter.port}`;
  const db = await createDb({ url: url.toString(), maxConnections: 10 });
  await db.migrate();
  const bench = await openRosterBench(db);
  try {
    const csv = await bench.connect({ kind: "csv", name: "Bench SIS (CSV)" });
    const run = (label: string, connection: typeof csv, mode: "full" | "delta", bytes?: Uint8Array) =>
      measureRun(bench, { label, connection, mode, ...(bytes ? { source: () => createCsvBundleSource(bytes) } : {}), ...(counter ? { counter } : {}) });
    report(await run("csv-first", csv, "full", fullBundle));
    report(await run("csv-resync", csv, "full", fullBundle));
    report(await run("csv-delta", csv, "full", deltaBundle));

    if (WITH_REST) {
      sis = Bun.spawn([process.execPath, join(import.meta.dir, "roster", "sis-server.ts")], { stdin: "pipe", stdout: "pipe", stderr: "inherit", env: process.env });
      const lines = sis.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const nextLine = async () => {
        const { value, done } = await lines.read();
        if (done) throw new Error("the SIS process ended");
        return value.trim();
      };
      const where = JSON.parse(await nextLine()) as { url: string; tokenUrl: string };
      // A second connection, on the same people: users match by SIS id/e-mail, classes are its own.
      const rest = await bench.connect({ kind: "oneroster_rest", name: "Bench SIS (REST)", baseUrl: where.url, tokenUrl: where.tokenUrl, ...SIS_CLIENT });
      report(await run("rest-first", rest, "full"));
      report(await run("rest-resync", rest, "full"));
      sis.stdin.write("changed\n");
      await sis.stdin.flush();
      if ((await nextLine()) !== "ok") throw new Error("the SIS process did not switch data");
      report(await run("rest-delta", rest, "delta"));
    }
  } finally {
    await bench.close();
    await db.close();
    await counter?.close();
  }
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  sis?.kill();
  await database.drop();
}

const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const resultsDir = join(import.meta.dir, "results");
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `roster-${stamp}.json`);
writeFileSync(
  file,
  `${JSON.stringify(
    {
      bench: "roster",
      at: new Date().toISOString(),
      machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), bun: Bun.version },
      load: { before: loadBefore, after: load() },
      size,
      pgCounted: PG_COUNT,
      runs: measured,
    },
    null,
    2,
  )}\n`,
);
log(`results: ${file}`);
process.exit(failed ? 1 : 0);
