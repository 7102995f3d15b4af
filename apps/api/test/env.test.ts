import { describe, expect, test } from "bun:test";
import { defaultLiveConfig } from "../src/deps.ts";
import { parseEnv } from "../src/env.ts";
import { turnStartSlices } from "../src/lib/cpu-slices.ts";

describe("env", () => {
  test("an empty environment parses to the embedded defaults", () => {
    const r = parseEnv({});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.env.PORT).toBe(3000);
    expect(r.env.DATABASE_URL).toBeUndefined();
    expect(r.env.DATA_DIR).toBe("./.data");
    expect(r.env.SMTP_POOL_SIZE).toBe(5);
  });

  test("LIVE_TURN_SLICE_MS: the turns' modules run in 16 ms slices unless set; 0 runs them where they stand", () => {
    const defaults = parseEnv({});
    expect(defaults.ok && defaults.env.LIVE_TURN_SLICE_MS).toBe(16);
    // What an app built without the environment (tests, tools) and a gate built without slices get.
    expect(defaultLiveConfig().turnSliceMs).toBe(16);
    expect(turnStartSlices.inline).toBe(false);
    const off = parseEnv({ LIVE_TURN_SLICE_MS: "0" });
    expect(off.ok && off.env.LIVE_TURN_SLICE_MS).toBe(0);
  });

  test("SMTP_POOL_SIZE: a whole number from 1 to 100", () => {
    const ok = parseEnv({ SMTP_POOL_SIZE: "12" });
    expect(ok.ok && ok.env.SMTP_POOL_SIZE).toBe(12);
    for (const bad of ["0", "101", "2.5", "many"]) {
      const r = parseEnv({ SMTP_POOL_SIZE: bad });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.problems.map((p) => p.split(":")[0])).toEqual(["SMTP_POOL_SIZE"]);
    }
  });

  test("MEMORY_REDUCER_*: on by default, 0 switches it off, bad values are listed by key", () => {
    const defaults = parseEnv({});
    expect(
      defaults.ok && [
        defaults.env.MEMORY_REDUCER_QUIET_MS,
        defaults.env.MEMORY_REDUCER_GROWTH_MB,
        defaults.env.MEMORY_REDUCER_GROWTH_PERCENT,
        defaults.env.MEMORY_REDUCER_YOUNG_KB,
      ],
    ).toEqual([1000, 2, 6, 1024]);
    const off = parseEnv({ MEMORY_REDUCER_QUIET_MS: "0", MEMORY_REDUCER_YOUNG_KB: "0", MEMORY_REDUCER_GROWTH_PERCENT: "0" });
    expect(off.ok && [off.env.MEMORY_REDUCER_QUIET_MS, off.env.MEMORY_REDUCER_YOUNG_KB, off.env.MEMORY_REDUCER_GROWTH_PERCENT]).toEqual([0, 0, 0]);
    const share = parseEnv({ MEMORY_REDUCER_GROWTH_PERCENT: "2.5" });
    expect(share.ok && share.env.MEMORY_REDUCER_GROWTH_PERCENT).toBe(2.5);
    for (const [key, bad] of [
      ["MEMORY_REDUCER_QUIET_MS", "-1"],
      ["MEMORY_REDUCER_QUIET_MS", "soon"],
      ["MEMORY_REDUCER_GROWTH_MB", "0"],
      ["MEMORY_REDUCER_GROWTH_MB", "1.5"],
      ["MEMORY_REDUCER_GROWTH_PERCENT", "-1"],
      ["MEMORY_REDUCER_GROWTH_PERCENT", "1001"],
      ["MEMORY_REDUCER_GROWTH_PERCENT", "half"],
      ["MEMORY_REDUCER_YOUNG_KB", "-1"],
      ["MEMORY_REDUCER_YOUNG_KB", "0.5"],
      ["MEMORY_REDUCER_YOUNG_KB", "a lot"],
    ] as const) {
      const r = parseEnv({ [key]: bad });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.problems.map((p) => p.split(":")[0])).toEqual([key]);
    }
  });

  test("bad values are listed by key", () => {
    const r = parseEnv({ PORT: "eighty", DATABASE_URL: "not a url", CLERK_WEBHOOK_SIGNING_SECRET: "plain" });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const keys = r.problems.map((p) => p.split(":")[0]);
    expect(keys).toEqual(expect.arrayContaining(["PORT", "DATABASE_URL", "CLERK_WEBHOOK_SIGNING_SECRET"]));
  });

  test("REDIS_CLUSTER_NODES: a host:port list, refused when malformed or next to REDIS_URL", () => {
    const r = parseEnv({ REDIS_CLUSTER_NODES: " 10.0.0.1:7000, redis-b:7001 ,[::1]:7002", REDIS_CLUSTER_PASSWORD: "s3cret" });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.env.REDIS_CLUSTER_NODES).toEqual([
      { host: "10.0.0.1", port: 7000 },
      { host: "redis-b", port: 7001 },
      { host: "::1", port: 7002 },
    ]);
    expect(parseEnv({ REDIS_CLUSTER_NODES: "" })).toMatchObject({ ok: true, env: { REDIS_CLUSTER_NODES: undefined } });
    for (const bad of ["10.0.0.1", "host:0", "host:70000", "redis://host:7000", ","]) {
      const refused = parseEnv({ REDIS_CLUSTER_NODES: bad });
      expect(refused.ok).toBe(false);
      if (!refused.ok) expect(refused.problems[0]).toStartWith("REDIS_CLUSTER_NODES:");
    }
    const both = parseEnv({ REDIS_URL: "redis://127.0.0.1:6379", REDIS_CLUSTER_NODES: "127.0.0.1:7000" });
    expect(both.ok).toBe(false);
    if (!both.ok) expect(both.problems).toEqual(["REDIS_CLUSTER_NODES: set either REDIS_URL or REDIS_CLUSTER_NODES, not both"]);
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
