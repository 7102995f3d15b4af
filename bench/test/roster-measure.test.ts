import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DbHandle } from "../../packages/db/src/index.ts";
import { createTestDb } from "../../packages/db/src/testing/index.ts";
import { createCsvBundleSource } from "../../packages/oneroster/src/index.ts";
import { buildCsvBundle, generateDistrict, mutateDistrict } from "../../packages/oneroster/src/testing/index.ts";
import { measureRun, openRosterBench, type RosterBench, wroteNothing } from "../roster/measure.ts";

// The roster bench's measuring function on a tiny district (PGlite, or TEST_DATABASE_URL).
let db: DbHandle;
let bench: RosterBench;

beforeAll(async () => {
  db = await createTestDb();
  bench = await openRosterBench(db);
}, 60_000);
afterAll(async () => {
  await bench?.close();
  await db?.close();
});

describe("roster bench measurement", () => {
  test("a first sync, a no-change re-sync and a delta are measured through the run path", async () => {
    // A prefix of its own: on a shared Postgres the people must not match another run's.
    const data = generateDistrict({ seed: 5, users: 30, classes: 3, enrollments: 40, idPrefix: `rb${crypto.randomUUID().slice(0, 6)}-` });
    const connection = await bench.connect({ kind: "csv", name: "Measured SIS" });
    const bundle = buildCsvBundle(data);
    const source = () => createCsvBundleSource(bundle);

    const first = await measureRun(bench, { label: "first", connection, mode: "full", source });
    expect(bench.errors()).toEqual([]);
    expect(first).toMatchObject({ status: "succeeded", error: null, rejectedCount: 0 });
    // Created, or adopted when a shared Postgres already holds the same SIS ids (they carry no prefix).
    expect((first.counts.users?.created ?? 0) + (first.counts.users?.updated ?? 0)).toBe(30);
    expect(first.tables.users?.written).toBe(30);
    expect(first.counts.enrollments?.created).toBe(40);
    expect(first.tables.class_members).toMatchObject({ written: 40, net: 40 });
    expect(first.tables.roster_runs?.net).toBe(1);
    expect(first.rowsWritten).toBeGreaterThan(30 + 40 + 3);
    expect(first.wallMs).toBeGreaterThan(0);
    expect(first.cpuMs.total).toBeGreaterThan(0);
    expect(wroteNothing(first)).toBe(false);

    const again = await measureRun(bench, { label: "again", connection, mode: "full", source });
    expect(again.counts.enrollments).toMatchObject({ created: 0, updated: 0, removed: 0, unchanged: 40 });
    expect(again.rowsWritten).toBe(0);
    expect(wroteNothing(again)).toBe(true);

    const changed = mutateDistrict(data, { seed: 6, at: new Date("2026-09-01T00:00:00Z"), renameUsers: 2, moveStudents: 1, removeEnrollments: 1 });
    const delta = buildCsvBundle(changed.data, { since: new Date("2026-08-31T00:00:00Z") });
    const after = await measureRun(bench, { label: "delta", connection, mode: "full", source: () => createCsvBundleSource(delta) });
    expect(after.status).toBe("succeeded");
    expect(after.counts.users?.updated).toBe(2);
    expect(after.counts.enrollments).toMatchObject({ created: 1, removed: 2 });
    expect(after.tables.class_members?.net).toBe(-1);
    expect(wroteNothing(after)).toBe(false);
  }, 60_000);
});
