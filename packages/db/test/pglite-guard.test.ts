import { afterAll, describe, expect, test } from "bun:test";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { createDb, databaseErrorFrom, type DbHandle } from "../src/index.ts";
import { embeddedTemplate } from "../src/testing/index.ts";

/*
 * The input that wedged the embedded server: a jsonb value nested deeply enough that the JS
 * engine's stack runs out inside the wasm backend (see src/pglite/guarded.ts), then any statement
 * that raises an error. These run PGlite whatever TEST_DATABASE_URL says: the bug is PGlite's.
 */
// How deep is deep enough depends on how far the engine has optimised the wasm (optimised frames
// take less native stack), so each test climbs until the value stops parsing.
const NESTINGS = [10_000, 40_000, 160_000, 640_000];
const deepJson = (n: number) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;
const nulText = "\u0000";

const opened: DbHandle[] = [];
afterAll(async () => {
  await Promise.all(opened.map((h) => h.close()));
});

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return databaseErrorFrom(err)?.code ?? "OTHER";
  }
}

/** Sends ever deeper values until one does not parse; the error code of that one. */
async function poisonedCode(handle: DbHandle): Promise<string | undefined> {
  for (const n of NESTINGS) {
    const code = await codeOf(handle.db.execute(sql`select ${deepJson(n)}::jsonb is not null as ok`));
    if (code !== undefined) return code;
  }
  return undefined;
}

describe("PGlite without the guard (what the guard is for)", () => {
  test("swallows the backend abort: the statement 'succeeds' with no rows and no error", async () => {
    // When this starts failing, PGlite reports the abort itself and the guard can be revisited.
    const pg = await PGlite.create({ loadDataDir: await embeddedTemplate() });
    let result: { rows: unknown[] } = { rows: [{ ok: true }] };
    for (const n of NESTINGS) {
      result = await pg.query("select $1::jsonb is not null as ok", [deepJson(n)]);
      if (result.rows.length === 0) break;
    }
    expect(result.rows).toEqual([]);
    // Deliberately not closed, and no failing statement sent: either would spin forever.
  }, 180_000);
});

describe("the guarded in-thread PGlite", () => {
  test("ordinary errors pass through; the poisoned statement and every later one fail with DATABASE_UNAVAILABLE", async () => {
    const handle = await createDb({ embedded: "in-thread", loadDataDir: await embeddedTemplate() });
    opened.push(handle);
    const ordinary = await handle.db.execute(sql`select ${nulText}::text`).catch((e: unknown) => e);
    expect(databaseErrorFrom(ordinary)).toBeUndefined();
    expect((ordinary as { cause?: { code?: string } }).cause?.code).toBe("22021");
    await handle.ping();

    expect(await poisonedCode(handle)).toBe("DATABASE_UNAVAILABLE");
    // Before the guard this statement never returned and blocked the thread.
    expect(await codeOf(handle.db.execute(sql`select ${nulText}::text`))).toBe("DATABASE_UNAVAILABLE");
    expect(await codeOf(handle.ping())).toBe("DATABASE_UNAVAILABLE");
  }, 180_000);
});

describe("PGlite in its own process", () => {
  test("transactions, SQLSTATEs and drizzle's parsers cross the boundary; the poison leaves it down, not hung", async () => {
    const handle = await createDb({ embedded: "process", statementTimeoutMs: 10_000, loadDataDir: await embeddedTemplate() });
    opened.push(handle);
    await handle.db.execute(sql`create table t (v text primary key)`);
    await handle.db.transaction(async (tx) => {
      await tx.execute(sql`insert into t values ('committed')`);
    });
    await handle.db
      .transaction(async (tx) => {
        await tx.execute(sql`insert into t values ('rolled back')`);
        throw new Error("abandon");
      })
      .catch(() => {});
    const dup = await handle.db.execute(sql`insert into t values ('committed')`).catch((e: unknown) => e);
    expect((dup as { cause?: { code?: string; constraint?: string } }).cause).toMatchObject({ code: "23505", constraint: "t_pkey" });
    // PGlite results carry `rows` (postgres-js ones are arrays); this handle is PGlite.
    const rows = (await handle.db.execute(sql`select v, now() as at from t`)) as unknown as { rows: { v: string; at: unknown }[] };
    expect(rows.rows.map((r) => r.v)).toEqual(["committed"]);
    // drizzle keeps timestamps as text; the parsers it asks for are applied on this side.
    expect(typeof rows.rows[0]?.at).toBe("string");

    expect(await poisonedCode(handle)).toBe("DATABASE_UNAVAILABLE");
    expect(await codeOf(handle.db.execute(sql`select ${nulText}::text`))).toBe("DATABASE_UNAVAILABLE");
    // In memory there is nothing to restart from: it stays down and says why.
    expect(handle.embeddedState?.()).toMatchObject({ state: "failed" });
    expect(handle.embeddedState?.().problem).toContain("aborted");
  }, 180_000);
});
