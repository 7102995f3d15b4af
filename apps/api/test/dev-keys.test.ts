import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importSPKI, jwtVerify } from "jose";
import { loadOrCreateDevKeys } from "../src/auth/dev-keys.ts";

const dirs: string[] = [];
function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "rapt-devkeys-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const apiDir = new URL("..", import.meta.url).pathname;

describe("dev auth key pair in DATA_DIR", () => {
  test("creations racing in one process all get the one pair that was stored", async () => {
    const dataDir = freshDataDir();
    const pairs = await Promise.all(Array.from({ length: 6 }, () => loadOrCreateDevKeys(dataDir)));
    const stored = await loadOrCreateDevKeys(dataDir);
    expect(new Set(pairs.map((p) => p.kid))).toEqual(new Set([stored.kid]));
    expect(pairs.every((p) => p.publicPem === stored.publicPem)).toBe(true);
    // No candidate temp files are left behind.
    expect(readdirSync(join(dataDir, "dev-auth"))).toEqual(["keys.json"]);
  });

  test("`bun run token` processes racing on a fresh DATA_DIR mint tokens the stored key verifies", async () => {
    const dataDir = freshDataDir();
    const procs = Array.from({ length: 4 }, (_, i) =>
      Bun.spawn(["bun", "src/cli/token.ts", `racer${i}`], {
        cwd: apiDir,
        env: { ...process.env, DATA_DIR: dataDir },
        stdout: "pipe",
        stderr: "pipe",
      }),
    );
    const tokens = await Promise.all(
      procs.map(async (p) => {
        const out = await new Response(p.stdout).text();
        expect(await p.exited).toBe(0);
        return out.trim();
      }),
    );
    const stored = await loadOrCreateDevKeys(dataDir);
    const key = await importSPKI(stored.publicPem, "RS256");
    const subjects = await Promise.all(tokens.map(async (t) => (await jwtVerify(t, key)).payload.sub));
    expect(subjects).toEqual(["user_dev_racer0", "user_dev_racer1", "user_dev_racer2", "user_dev_racer3"]);
  }, 60_000);

  test("a file that is not a key pair is refused with a message naming it, not replaced", async () => {
    const dataDir = freshDataDir();
    mkdirSync(join(dataDir, "dev-auth"));
    writeFileSync(join(dataDir, "dev-auth", "keys.json"), "");
    const err = await loadOrCreateDevKeys(dataDir).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain("keys.json is not a dev key pair");
  });
});
