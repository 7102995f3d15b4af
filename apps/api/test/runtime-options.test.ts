import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { JSC_OPTIONS, RUNTIME_ENV, runtimeEnvMismatches } from "../src/runtime-options.ts";

const ROOT = join(import.meta.dir, "..", "..", "..");
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");
const SERVER = "apps/api/src/server.ts";

/** `K=V` pairs of every `ENV` instruction of the Dockerfile's last stage (the image that runs). */
function dockerfileEnv(text: string): Record<string, string> {
  const lastStage = text.slice(text.lastIndexOf("\nFROM "));
  const env: Record<string, string> = {};
  for (const line of lastStage.split("\n")) {
    const m = /^ENV\s+(.*)$/.exec(line.trim());
    for (const pair of m?.[1]?.split(/\s+/) ?? []) {
      const eq = pair.indexOf("=");
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

describe("the API's runtime options: one list, every way the server starts", () => {
  test("package.json's start script sets exactly them before starting the server", () => {
    const start = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts.start ?? "";
    const expected = `${Object.entries(RUNTIME_ENV)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")} bun ${SERVER}`;
    expect(start).toBe(expected);
  });

  test("the Docker image (and so docker-compose, which builds it) sets them and starts the server", () => {
    const dockerfile = read("Dockerfile");
    const env = dockerfileEnv(dockerfile);
    const set = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith("BUN_JSC_")));
    expect(set).toEqual({ ...RUNTIME_ENV });
    expect(dockerfile).toContain(`CMD ["bun", "${SERVER}"]`);
    // compose must not set them differently for its API services.
    expect(read("docker-compose.yml")).not.toContain("BUN_JSC_");
  });

  test("each is an option this Bun's JavaScriptCore knows, set away from its default", () => {
    // An unknown name or a bad value stops Bun at start ("invalid JSC environment variable"); the
    // dump lists the options that differ from the defaults, so an option equal to its default fails too.
    const run = Bun.spawnSync([process.execPath, "-e", "0"], { env: { ...process.env, ...RUNTIME_ENV, BUN_JSC_dumpOptions: "1" }, stderr: "pipe", stdout: "pipe" });
    const out = `${run.stdout.toString()}${run.stderr.toString()}`;
    expect(run.exitCode).toBe(0);
    for (const [option, value] of Object.entries(JSC_OPTIONS)) expect(out).toMatch(new RegExp(`^\\s+${option}=${value} \\(default: `, "m"));
  });

  test("a process started another way is told apart", () => {
    expect(runtimeEnvMismatches({ ...RUNTIME_ENV })).toEqual([]);
    const [name] = Object.keys(RUNTIME_ENV);
    expect(runtimeEnvMismatches({})).toHaveLength(Object.keys(RUNTIME_ENV).length);
    expect(runtimeEnvMismatches({ ...RUNTIME_ENV, [name ?? ""]: "something else" })).toEqual([expect.stringContaining("(found something else)")]);
  });
});
