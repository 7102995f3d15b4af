// Scoped statements share the tenant pool's connections (packages/db/src/tenant-lanes.ts): a
// connection keeps the reach it was last set to and many persons' statements are pipelined on
// few connections. Whatever the interleaving, a failure or a lost connection, no statement may
// run under another person's reach. The mixed-scope tests run on PGlite and Postgres; the
// connection-level ones need Postgres (TEST_DATABASE_URL).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { createDb, type Db, type DbHandle } from "../src/client.ts";
import { databaseErrorFrom } from "../src/errors.ts";
import { groups } from "../src/schema/index.ts";
import { APP_ROLE, scopeSettings, type TenantScope } from "../src/scope.ts";
import { openTenantLanes, ReachLostError, type TenantLanes } from "../src/tenant-lanes.ts";
import { createTestDb } from "../src/testing/index.ts";
import { makeGroup } from "../src/testing/factories.ts";

const url = process.env.TEST_DATABASE_URL || undefined;
let handle: DbHandle;

interface Person {
  scope: TenantScope;
  reach: string;
  district: string;
  db: Db;
}
const persons: Person[] = [];

/** Raw rows from either driver (postgres-js returns an array, PGlite `{ rows }`). */
async function rows<T>(query: Promise<unknown>): Promise<T[]> {
  const result = (await query) as T[] | { rows: T[] };
  return Array.isArray(result) ? result : result.rows;
}

beforeAll(async () => {
  // Two connections for eight persons: every connection changes hands all the time.
  handle = url ? await createDb({ url, maxConnections: 2 }) : await createTestDb();
  if (url) await handle.migrate();
  for (let i = 0; i < 8; i += 1) {
    const district = await makeGroup(handle.db, { kind: "district" });
    await makeGroup(handle.db, { kind: "school", parent: district });
    const scope = { tenantIds: [district.id], userId: null };
    persons.push({ scope, reach: scopeSettings(scope).reach, district: district.id, db: handle.scoped(scope) });
  }
}, 60_000);

afterAll(async () => {
  await handle.close();
});

/** What a statement sees: the reach it ran under and which of the test's districts it can read. */
async function seen(db: Db | Parameters<Parameters<Db["transaction"]>[0]>[0]) {
  const [row] = await rows<{ reach: string | null; districts: string[] }>(
    db.execute(
      sql`select current_setting('rapt.reach', true) as reach, array(select tenant_id::text from ${groups} where tenant_id::text in (select jsonb_array_elements_text(${JSON.stringify(persons.map((p) => p.district))}::jsonb)) group by tenant_id order by 1) as districts`,
    ),
  );
  if (!row) throw new Error("no row");
  return { reach: row.reach, districts: [...row.districts] };
}

describe("scoped statements on shared connections", () => {
  test("many persons' standalone statements and transactions, interleaved, each see only their own reach", async () => {
    const work: Promise<{ who: Person; got: { reach: string | null; districts: string[] } }>[] = [];
    for (let round = 0; round < 25; round += 1) {
      for (const [i, who] of persons.entries()) {
        const kind = (round + i) % 3;
        if (kind === 0) {
          work.push(seen(who.db).then((got) => ({ who, got })));
        } else if (kind === 1) {
          work.push(
            who.db.transaction(async (tx) => {
              const first = await seen(tx);
              await Bun.sleep(1);
              const second = await seen(tx);
              expect(second).toEqual(first);
              return { who, got: second };
            }),
          );
        } else {
          // A standalone statement right behind a transaction of the same person.
          work.push(who.db.transaction(async (tx) => seen(tx)).then(() => seen(who.db).then((got) => ({ who, got }))));
        }
      }
    }
    const results = await Promise.all(work);
    expect(results.length).toBe(200);
    for (const { who, got } of results) expect(got).toEqual({ reach: who.reach, districts: [who.district] });
  }, 60_000);

  test("a failed statement fails alone: the statements around it, its own person's included, keep their reach", async () => {
    const work = persons.flatMap((who, i) => {
      const before = seen(who.db);
      const failing = (i % 2 === 0 ? who.db.execute(sql`select 1 / (0 * ${i})`) : who.db.transaction(async (tx) => tx.execute(sql`select 1 / (0 * ${i})`))).then(
        () => undefined,
        (e: unknown) => e,
      );
      const after = seen(who.db);
      return [{ who, before, failing, after }];
    });
    for (const { who, before, failing, after } of work) {
      const err = (await failing) as { cause?: { code?: string } } | undefined;
      // 22012: division_by_zero, from either driver, under drizzle's wrapper.
      expect(err?.cause?.code).toBe("22012");
      expect(await before).toEqual({ reach: who.reach, districts: [who.district] });
      expect(await after).toEqual({ reach: who.reach, districts: [who.district] });
    }
  }, 60_000);
});

// A lane-level view: one connection, so which statements shared it is known.
describe.skipIf(!url)("a lane of the tenant pool (Postgres)", () => {
  let lanes: TenantLanes;
  let admin: postgres.Sql;
  const a = { key: "a", set: "" };
  const b = { key: "b", set: "" };

  beforeAll(() => {
    const target = url as string;
    lanes = openTenantLanes(target, 1, { onnotice: () => {}, connection: { role: APP_ROLE } });
    // The test login may end its own role's backends (the lanes log in as it too).
    admin = postgres(target, { max: 1, onnotice: () => {} });
    const [first, second] = persons;
    if (!first || !second) throw new Error("no persons");
    a.set = `select set_config('rapt.reach', '${first.reach}', false), set_config('rapt.user', '', false)`;
    b.set = `select set_config('rapt.reach', '${second.reach}', false), set_config('rapt.user', '', false)`;
  });

  afterAll(async () => {
    await lanes.end({ timeout: 5 });
    await admin.end({ timeout: 5 });
  });

  const reachOn = async (who: { key: string; set: string }) => {
    const [row] = (await lanes.run(who.key, who.set, "select current_setting('rapt.reach', true) as reach, pg_backend_pid() as pid", [], {}, false)) as {
      reach: string;
      pid: number;
    }[];
    if (!row) throw new Error("no row");
    return row;
  };
  const reachOf = (who: { key: string }) => (who === a ? persons[0]?.reach : persons[1]?.reach);

  test("a statement for the reach the connection holds goes without a set_config; a transaction's own reach ends with it", async () => {
    expect((await reachOn(a)).reach).toBe(reachOf(a) as string);
    expect(lanes.snapshot()).toEqual([{ reach: "a", inFlight: 0, transactions: 0 }]);
    // Session-level `a` would not show through: the transaction sets b locally.
    const inside = await lanes.begin(async (tx) => {
      await tx.unsafe(b.set.replaceAll("false", "true"));
      return (await tx.unsafe("select current_setting('rapt.reach', true) as reach"))[0]?.reach;
    });
    expect(inside).toBe(reachOf(b) as string);
    expect(lanes.snapshot()[0]?.reach).toBe("a");
    // Sent with no set_config (the lane still holds a), and a is what it sees.
    const pending = reachOn(a);
    expect(lanes.snapshot()[0]?.inFlight).toBe(1);
    expect((await pending).reach).toBe(reachOf(a) as string);
    // A change of reach: set_config and statement together.
    const other = reachOn(b);
    expect(lanes.snapshot()[0]).toEqual({ reach: "b", inFlight: 2, transactions: 0 });
    expect((await other).reach).toBe(reachOf(b) as string);
  });

  test("a failed statement makes the lane set its reach again", async () => {
    await reachOn(a);
    await expect(lanes.run("a", a.set, "select 1 / 0", [], {}, false)).rejects.toThrow();
    expect(lanes.snapshot()[0]?.reach).toBe(null);
    expect((await reachOn(a)).reach).toBe(reachOf(a) as string);
  });

  test("a connection lost under queued statements: the one relying on the lost reach fails, none runs reach-less, the next ones are set again", async () => {
    const { pid } = await reachOn(a);
    // A statement with a parameter is described first, which holds the connection: what follows
    // waits in postgres-js' queue, unsent, and runs on whatever connection comes next.
    const sleeping = lanes.run("a", a.set, "select pg_sleep($1)", [2], {}, false);
    const queuedA = lanes.run("a", a.set, "select current_setting('rapt.reach', true) as reach", [], {}, false);
    const queuedB = reachOn(b);
    await Bun.sleep(300);
    await admin`select pg_terminate_backend(${pid})`;
    const sleepErr = await sleeping.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(databaseErrorFrom(sleepErr)?.code).toBe("DATABASE_UNAVAILABLE");
    // Ran on the new connection, which has no reach: refused, never an empty answer.
    const queuedErr = await queuedA.then(
      (r) => r,
      (e: unknown) => e,
    );
    expect(queuedErr).toBeInstanceOf(ReachLostError);
    expect(databaseErrorFrom(queuedErr)?.code).toBe("DATABASE_UNAVAILABLE");
    // Its own set_config went along with it to the new connection.
    const after = await queuedB;
    expect(after.reach).toBe(reachOf(b) as string);
    expect(after.pid).not.toBe(pid);
    expect((await reachOn(a)).reach).toBe(reachOf(a) as string);
  }, 30_000);

  test("a connection closed while idle is forgotten, so the next statement sets its reach again", async () => {
    const { pid } = await reachOn(a);
    await admin`select pg_terminate_backend(${pid})`;
    for (let i = 0; i < 50 && lanes.snapshot()[0]?.reach !== null; i += 1) await Bun.sleep(20);
    expect(lanes.snapshot()[0]?.reach).toBe(null);
    const again = await reachOn(a);
    expect(again).toEqual({ reach: reachOf(a) as string, pid: again.pid });
    expect(again.pid).not.toBe(pid);
  }, 30_000);

  test("a lane stuck behind a lock is avoided: the next statements go to another lane and finish meanwhile", async () => {
    const two = openTenantLanes(url as string, 2, { onnotice: () => {}, connection: { role: APP_ROLE } });
    const holder = postgres(url as string, { max: 1, onnotice: () => {} });
    try {
      await holder`select pg_advisory_lock(727274102)`;
      let blockedDone = false;
      const blocked = two.run("a", a.set, "select pg_advisory_xact_lock(727274102)", [], {}, false).finally(() => {
        blockedDone = true;
      });
      // Longer than a lane may go without finishing anything before it counts as stalled.
      await Bun.sleep(100);
      const [row] = (await two.run("a", a.set, "select current_setting('rapt.reach', true) as reach", [], {}, false)) as { reach: string }[];
      expect(row?.reach).toBe(reachOf(a) as string);
      expect(blockedDone).toBe(false);
      expect(two.snapshot().map((l) => l.inFlight)).toEqual([1, 0]);
      await holder`select pg_advisory_unlock(727274102)`;
      await blocked;
    } finally {
      await two.end({ timeout: 5 });
      await holder.end({ timeout: 5 });
    }
  }, 30_000);
});
