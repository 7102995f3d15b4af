import { describe, expect, test } from "bun:test";
import { users } from "@raptscallions/db";
import { makeUser } from "@raptscallions/db/testing";
import { eq } from "drizzle-orm";
import { createLogger } from "../src/lib/logger.ts";
import { useHarness } from "./helpers/harness.ts";

const h = useHarness();

/** The line a real logger writes for `err`, as text (what a log pipeline stores). */
function logged(err: unknown): string {
  const lines: string[] = [];
  createLogger({ sink: (line) => lines.push(line) }).error("request failed", { err });
  expect(lines).toHaveLength(1);
  return lines[0] ?? "";
}

async function failure(run: () => Promise<unknown>): Promise<unknown> {
  return run().then(
    () => {
      throw new Error("the query was expected to fail");
    },
    (err: unknown) => err,
  );
}

describe("failed queries in the log", () => {
  test("a unique violation logs the SQL and the database's code, never the values it carried", async () => {
    const existing = await makeUser(h.db.db);
    const email = `private.person.${crypto.randomUUID().slice(0, 8)}@example.org`;
    const err = await failure(() => h.db.db.insert(users).values({ clerkUserId: existing.clerkUserId, email, name: "Private Person Secretname" }));
    // The thrown error itself does carry them: that is what must not reach the log.
    expect(String((err as Error).message)).toContain(email);

    const line = logged(err);
    const parsed = JSON.parse(line) as { err: { query: string; paramCount: number; cause?: { code?: string } } };
    expect(parsed.err.query).toContain('insert into "users"');
    expect(parsed.err.paramCount).toBeGreaterThan(2);
    expect(parsed.err.cause?.code).toBe("23505");
    expect(line).not.toContain(email);
    expect(line).not.toContain("Secretname");
    expect(line).not.toContain(existing.clerkUserId ?? "no clerk id");
  });

  test("a value the driver quotes back in its own message is masked too", async () => {
    const email = `quoted.${crypto.randomUUID().slice(0, 8)}@example.org`;
    const err = await failure(() => h.db.db.select().from(users).where(eq(users.id, email)));
    const line = logged(err);
    const parsed = JSON.parse(line) as { err: { cause?: { code?: string; message?: string } } };
    expect(parsed.err.cause?.code).toBe("22P02");
    expect(parsed.err.cause?.message).toContain("[param]");
    expect(line).not.toContain(email);
  });

  test("other errors keep their message and stack", () => {
    const parsed = JSON.parse(logged(new TypeError("plain failure"))) as { err: { name: string; message: string; stack: string } };
    expect(parsed.err).toMatchObject({ name: "TypeError", message: "plain failure" });
    expect(parsed.err.stack).toContain("plain failure");
  });
});
