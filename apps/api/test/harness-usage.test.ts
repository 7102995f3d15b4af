import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/**
 * Every suite gets its database and app from the harness (helpers/harness.ts), its API instances
 * on a shared transport from the deployment helper (helpers/deployment.ts) and its sockets from
 * helpers/socket.ts, so setup and teardown live in one place. This fails when a test file builds
 * them by hand.
 */
const root = join(import.meta.dir, "..", "..", "..");

/** What only the harness (and the helpers it builds on) may call. */
const HAND_SETUP = [/\bcreateTestDb\(/, /\bcreateApp\(/, /\btestDeps\(/, /\bcreateDb\(/];
/**
 * Instances on a standard transport come from useDeployment (a suite that injects faults into its
 * own shared parts still calls startInstance with them); sockets from connect/openSocket.
 */
const HAND_DEPLOYMENT = [/\bmemoryShared\(/, /\btransports\(/, /\bnew TestClient\(/];
/** Types a suite takes from `@raptscallions/core` instead of declaring its own copy. */
const REDECLARED = [/^\s*(?:export\s+)?(?:type|interface)\s+Page\s*</m];

/**
 * Suites that are allowed to: packages/db's own tests check `createDb` and `createTestDb`
 * themselves, below the app the harness builds; the shutdown suite opens the data directory a
 * server process wrote, to read what that process stored.
 */
const EXEMPT = ["packages/db/test/", "apps/api/test/shutdown.test.ts"];

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "helpers") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...testFiles(path));
    else if (entry.name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

/** The hand-made setup calls and redeclared types in one file's source (comments included). */
export function findings(source: string): string[] {
  return [...HAND_SETUP, ...HAND_DEPLOYMENT, ...REDECLARED].filter((re) => re.test(source)).map((re) => re.source);
}

function suites(): string[] {
  const dirs = [join(root, "apps", "api", "test")];
  for (const pkg of readdirSync(join(root, "packages"))) dirs.push(join(root, "packages", pkg, "test"));
  return dirs.flatMap((d) => {
    try {
      return testFiles(d);
    } catch {
      return [];
    }
  });
}

describe("test harness usage", () => {
  test("the scan recognises hand-made setup and a redeclared Page<T>", () => {
    expect(findings("const db = await createTestDb();")).toHaveLength(1);
    expect(findings("a = await startInstance(h.db, memoryShared(dev.url));")).toHaveLength(1);
    expect(findings("for (const [name, makeShared, skip] of transports(() => dev.url))")).toHaveLength(1);
    expect(findings("const client = new TestClient(new WebSocket(url));")).toHaveLength(1);
    expect(findings("const d = useDeployment(h, dev, name);\nconst client = await connect(a, scene.teacher);")).toEqual([]);
    expect(findings("const app = createApp(await testDeps(db));")).toHaveLength(2);
    expect(findings("type Page<T> = { items: T[] };")).toHaveLength(1);
    expect(findings("const h = useHarness();\nconst { app } = await h.withApp();")).toEqual([]);
  });

  test("no suite builds its database or app by hand", () => {
    const files = suites().filter((f) => !EXEMPT.some((e) => relative(root, f).startsWith(e)));
    expect(files.length).toBeGreaterThan(40);
    const offenders = files
      .map((f) => ({ file: relative(root, f), found: findings(readFileSync(f, "utf8")) }))
      .filter((o) => o.found.length > 0 && o.file !== relative(root, import.meta.path));
    expect(offenders).toEqual([]);
  });
});
