import { describe, expect, test } from "bun:test";
import { RUNTIME_ENV } from "../../apps/api/src/runtime-options.ts";
import { apiProcessEnv } from "../live/targets.ts";

/** The benches start the API as production does (package.json's `start`, the Dockerfile), or their figures are not the product's. */
describe("a bench's API process", () => {
  const opts = { childName: "api", instanceId: "i", databaseUrl: "postgres://x", redisUrl: "redis://x", dataDir: "/tmp/x", logDir: "/tmp/x" };

  test("runs with the server's runtime options", () => {
    const env = apiProcessEnv(opts, 1234);
    for (const [name, value] of Object.entries(RUNTIME_ENV)) expect(env[name]).toBe(value);
    expect(env.PORT).toBe("1234");
  });

  test("a run may turn one against the default, as a before/after", () => {
    const [name] = Object.keys(RUNTIME_ENV);
    const env = apiProcessEnv({ ...opts, env: { [name ?? ""]: "turned" } }, 1);
    expect(env[name ?? ""]).toBe("turned");
  });
});
