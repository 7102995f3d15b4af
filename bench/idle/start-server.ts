/**
 * The set-up server-rss.ts and setup-alloc.ts share: a bench database, a scene of `students`
 * users seeded by a child process (so the measuring process holds only the server, as the live
 * bench's instance B does: seeding here would compile and grow what a measured burst then finds
 * ready), then the real server (`server.ts`'s `main`) in this process on Postgres and Redis, and a
 * way to start clients (bench/idle/heap-client.ts) with some of the users' tokens.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevKeys } from "../../apps/api/src/auth/dev-keys.ts";
import { RUNTIME_ENV, runtimeEnvMismatches } from "../../apps/api/src/runtime-options.ts";
import { main } from "../../apps/api/src/server.ts";
import { createBenchDatabase } from "../live/infra.ts";
import { seedScene } from "../live/scene.ts";
import { spawnHeapClient } from "./drive-client.ts";

export const BENCH_REDIS = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6396";

// The seeding child: `bun start-server.ts --seed <dir> <database url> <students>`.
if (import.meta.main && process.argv[2] === "--seed") {
  const [dir, url, students] = [process.argv[3] ?? "", process.argv[4] ?? "", Number(process.argv[5] ?? 0)];
  const keys = await loadOrCreateDevKeys(join(dir, "data"));
  const scene = await seedScene({ databaseUrl: url, keys, students, watchersPerSession: 1, rates: [] });
  await Bun.write(join(dir, "tokens.txt"), scene.students.map((s) => s.user.token).join("\n"));
  process.exit(0);
}

export interface IdleServer {
  url: string;
  /** The bench database's URL (for probes of its connections). */
  databaseUrl: string;
  /** One token per seeded student, each a user of their own. */
  tokens: string[];
  server: Awaited<ReturnType<typeof main>>;
  /** A client process holding `tokens` (one socket each), driven by `ask("open" | "close" | "tickets", answer)`. */
  client(tokens: string[]): ReturnType<typeof spawnHeapClient>;
  /** Stops the server, drops the database and removes the directory. */
  close(): Promise<void>;
}

/**
 * The server runs in this process, and JavaScriptCore reads its options only at start: a process
 * started without production's runtime options (apps/api/src/runtime-options.ts) runs itself again
 * with them and exits with that run's code, so what is measured is the product as it is started.
 */
export function rerunWithRuntimeOptions(): void {
  if (runtimeEnvMismatches(process.env).length === 0) return;
  const run = Bun.spawnSync([process.execPath, ...process.argv.slice(1)], { env: { ...process.env, ...RUNTIME_ENV }, stdio: ["inherit", "inherit", "inherit"] });
  process.exit(run.exitCode ?? 1);
}

/** Null (and the reason printed) when there is no bench database. */
export async function startIdleServer(name: string, students: number, env: Record<string, string> = {}): Promise<IdleServer | null> {
  rerunWithRuntimeOptions();
  const db = await createBenchDatabase();
  if ("error" in db) {
    console.log(`SKIP ${name}: ${db.error}`);
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), `rapt-${name.replaceAll(" ", "-")}-`));
  let server: Awaited<ReturnType<typeof main>> | null = null;
  const close = async () => {
    await server?.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const seeder = Bun.spawn([process.execPath, import.meta.path, "--seed", dir, db.url, String(students)], { stdout: "inherit", stderr: "inherit" });
    if ((await seeder.exited) !== 0) throw new Error("seeding failed");
    const tokens = (await Bun.file(join(dir, "tokens.txt")).text()).split("\n");
    server = await main({
      env: {
        ...process.env,
        NODE_ENV: "development",
        HOST: "127.0.0.1",
        PORT: "0",
        LOG_LEVEL: "warn",
        DATA_DIR: join(dir, "data"),
        DATABASE_URL: db.url,
        REDIS_URL: BENCH_REDIS,
        SEED_ON_EMPTY: "false",
        ...env,
      },
    });
    const url = server.url;
    return {
      url,
      databaseUrl: db.url,
      tokens,
      server,
      client: (list) => spawnHeapClient(dir, url, url.replace("http", "ws"), list),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
