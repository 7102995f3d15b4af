// The system pool's lanes (packages/db/src/system-lanes.ts): the statements of one event-loop
// turn share a connection (one socket write), a connection in a transaction is left alone, and
// every connection carries the system reach, a reconnected one too. Lanes are Postgres only
// (TEST_DATABASE_URL); on PGlite the system scope is the plain client.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { createDb, type DbHandle } from "../src/client.ts";
import { groups } from "../src/schema/index.ts";
import { APP_ROLE } from "../src/scope.ts";
import { openSystemLanes, type SystemLanes } from "../src/system-lanes.ts";
import { JOIN_DEPTH } from "../src/lane-load.ts";
import { makeGroup } from "../src/testing/factories.ts";

const url = process.env.TEST_DATABASE_URL || undefined;

describe.skipIf(!url)("the system pool's lanes (Postgres)", () => {
  let lanes: SystemLanes;
  let admin: postgres.Sql;

  beforeAll(() => {
    const target = url as string;
    lanes = openSystemLanes(target, 3, { onnotice: () => {}, connection: { role: APP_ROLE } });
    // The test login may end its own role's backends (the lanes log in as it too).
    admin = postgres(target, { max: 1, onnotice: () => {} });
  });

  afterAll(async () => {
    await lanes.end({ timeout: 5 });
    await admin.end({ timeout: 5 });
  });

  const pidOf = async (query: PromiseLike<unknown>) => ((await query) as { pid: number }[])[0]?.pid;

  test("statements handed over in one event-loop turn share one connection, up to the join depth", async () => {
    const n = JOIN_DEPTH + 2;
    // values() hands the statement over at once (awaiting the query would hand it over a microtask later).
    const pids = Array.from({ length: n }, async () => ((await lanes.sql.unsafe("select pg_backend_pid()").values()) as unknown as number[][])[0]?.[0]);
    // Handed over synchronously: one lane holds the first JOIN_DEPTH, the rest went elsewhere.
    const inFlight = lanes
      .snapshot()
      .map((l) => l.inFlight)
      .sort((a, b) => b - a);
    expect(inFlight[0]).toBe(JOIN_DEPTH);
    expect(inFlight.reduce((a, b) => a + b, 0)).toBe(n);
    const got = await Promise.all(pids);
    expect(new Set(got.slice(0, JOIN_DEPTH)).size).toBe(1);
    expect(got[JOIN_DEPTH]).not.toBe(got[0]);
    expect(lanes.snapshot().every((l) => l.inFlight === 0)).toBe(true);
  });

  test("a statement of a later turn does not queue behind a lane in a transaction", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let txPid = 0;
    const tx = lanes.sql.begin(async (t) => {
      txPid = ((await t`select pg_backend_pid() as pid`) as unknown as { pid: number }[])[0]?.pid ?? 0;
      await held;
    });
    while (txPid === 0) await Bun.sleep(1);
    const pids = await Promise.all([1, 2, 3].map(() => pidOf(lanes.sql.unsafe("select pg_backend_pid() as pid"))));
    for (const pid of pids) expect(pid).not.toBe(txPid);
    release();
    await tx;
  });

  test("array rows with values(), objects when awaited, and a failed statement fails alone", async () => {
    const arrays = lanes.sql.unsafe("select 1 as one, 2 as two").values();
    const failing = Promise.resolve(lanes.sql.unsafe("select 1 / 0 as x")).then(
      () => null,
      (e: unknown) => e as { code?: string },
    );
    const objects = lanes.sql.unsafe("select $1::int as three", [3]);
    expect(await arrays).toEqual([[1, 2]] as never);
    expect((await failing)?.code).toBe("22012");
    expect((await objects) as unknown).toEqual([{ three: 3 }]);
  });
});

describe.skipIf(!url)("the system scope on lanes, through drizzle (Postgres)", () => {
  let handle: DbHandle;
  let admin: postgres.Sql;

  beforeAll(async () => {
    handle = await createDb({ url: url as string, maxConnections: 2 });
    await handle.migrate();
    admin = postgres(url as string, { max: 1, onnotice: () => {} });
  }, 60_000);

  // A connection whose backend was ended and that no statement touched again closes only when
  // `end` gives up waiting for it (its timeout is 5 s).
  afterAll(async () => {
    await handle.close();
    await admin.end({ timeout: 5 });
  }, 15_000);

  const reachAndPid = async () => {
    const rows = (await handle.db.execute(sql`select current_setting('rapt.reach', true) as reach, pg_backend_pid() as pid`)) as unknown as {
      reach: string;
      pid: number;
    }[];
    const row = rows[0];
    if (!row) throw new Error("no row");
    return row;
  };

  test("transactions commit and roll back on the lanes", async () => {
    const district = await makeGroup(handle.db, { kind: "district" });
    const kept = await handle.db.transaction(async (tx) => makeGroup(tx, { kind: "school", parent: district }));
    const undone = await handle.db
      .transaction(async (tx) => {
        await makeGroup(tx, { kind: "school", parent: district });
        throw new Error("roll back");
      })
      .catch((e: Error) => e.message);
    expect(undone).toBe("roll back");
    const rows = await handle.db.select({ id: groups.id }).from(groups).where(sql`${groups.parentId} = ${district.id}`);
    expect(rows.map((r) => r.id)).toEqual([kept.id]);
  });

  test("every statement runs under the system reach, on reconnected connections too", async () => {
    const first = await Promise.all([reachAndPid(), reachAndPid(), reachAndPid()]);
    for (const r of first) expect(r.reach).toBe("*");
    for (const pid of new Set(first.map((r) => r.pid))) await admin`select pg_terminate_backend(${pid})`;
    // The statements that meet an ended connection fail (those sent to it in one write, on each of
    // the two); every later statement runs, on new connections, under the system reach, none hangs.
    const outcomes: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      // One round on the first lane, the next spread over both (a lane joined this turn takes all).
      const round = i % 2 === 0 ? [reachAndPid(), reachAndPid()] : [reachAndPid(), Bun.sleep(0).then(reachAndPid)];
      const got = await Promise.all(round.map((p) => p.catch(() => null)));
      for (const r of got) outcomes.push(r === null ? "failed" : r.reach);
    }
    expect(outcomes.filter((o) => o === "failed").length).toBeLessThanOrEqual(4);
    expect(outcomes.filter((o) => o !== "failed").every((o) => o === "*")).toBe(true);
    expect(outcomes.slice(8)).toEqual(Array.from({ length: 16 }, () => "*"));
  }, 30_000);
});

describe.skipIf(!url)("warming the pools (Postgres)", () => {
  test("warm() opens every lane of both pools before any statement needs one", async () => {
    const admin = postgres(url as string, { max: 1, onnotice: () => {} });
    const name = `warm-${process.pid}-${Date.now()}`;
    const opened = async () => ((await admin`select count(*)::int as n from pg_stat_activity where application_name = ${name}`) as unknown as { n: number }[])[0]?.n;
    // postgres-js sends a URL's unknown parameters as connection settings: every lane carries the name.
    const named = new URL(url as string);
    named.searchParams.set("application_name", name);
    const handle = await createDb({ url: named.toString(), maxConnections: 3 });
    try {
      expect(await opened()).toBe(0);
      await handle.warm();
      expect(await opened()).toBe(6);
    } finally {
      await handle.close();
      await admin.end({ timeout: 5 });
    }
  });
});
