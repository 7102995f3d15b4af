import { describe, expect, test } from "bun:test";
import { parseEnv } from "../src/env.ts";

describe("env", () => {
  test("an empty environment parses to the embedded defaults", () => {
    const r = parseEnv({});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.env.PORT).toBe(3000);
    expect(r.env.DATABASE_URL).toBeUndefined();
    expect(r.env.DATA_DIR).toBe("./.data");
  });

  test("bad values are listed by key", () => {
    const r = parseEnv({ PORT: "eighty", DATABASE_URL: "not a url", CLERK_WEBHOOK_SIGNING_SECRET: "plain" });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const keys = r.problems.map((p) => p.split(":")[0]);
    expect(keys).toEqual(expect.arrayContaining(["PORT", "DATABASE_URL", "CLERK_WEBHOOK_SIGNING_SECRET"]));
  });

  test("the server exits non-zero listing bad keys", async () => {
    const proc = Bun.spawn(["bun", "src/server.ts"], {
      cwd: new URL("..", import.meta.url).pathname,
      env: { ...process.env, PORT: "-1", REDIS_URL: "nope" },
      stderr: "pipe",
      stdout: "pipe",
    });
    const code = await proc.exited;
    const err = await new Response(proc.stderr).text();
    expect(code).toBe(1);
    expect(err).toContain("PORT");
    expect(err).toContain("REDIS_URL");
  });

  test("production refuses to start without AI_GATEWAY_URL (the dev model is never served there)", async () => {
    const proc = Bun.spawn(["bun", "src/server.ts"], {
      cwd: new URL("..", import.meta.url).pathname,
      env: { ...process.env, NODE_ENV: "production", AI_GATEWAY_URL: "", PORT: "0", CLERK_SECRET_KEY: "sk_test_x", CLERK_PUBLISHABLE_KEY: "pk_test_x" },
      stderr: "pipe",
      stdout: "pipe",
    });
    const code = await proc.exited;
    expect(code).toBe(1);
    expect(await new Response(proc.stderr).text()).toContain("NODE_ENV=production needs AI_GATEWAY_URL");
  });
});
