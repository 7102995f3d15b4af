/**
 * What a connection setup allocates on the server, by cell type: the real server (`server.ts`'s
 * `main`) in this process on Postgres and Redis, as server-rss.ts runs it; a client process asks
 * for `BENCH_ALLOC_SETUPS` tickets of users not seen before (the ticket route alone), then opens
 * sockets for as many other new users (ticket, upgrade, `hello`); the set-up is server-rss.ts's
 * (bench/idle/start-server.ts). Between a young-generation
 * collection and the reading no collection may run (checked with a WeakRef; the round is
 * repeated if one did), so JavaScriptCore's live-cell counts grow by everything allocated —
 * garbage and survivors alike. Per setup, the types that grew most, and the heap's new blocks.
 *   BENCH_DATABASE_URL=postgres://… [BENCH_REDIS_URL=redis://…] bun bench/idle/setup-alloc.ts
 */
import { edenGC, heapStats } from "bun:jsc";
import { startIdleServer } from "./start-server.ts";

const SETUPS = Number(process.env.BENCH_ALLOC_SETUPS ?? 100);
const WARM = 300;

type Counts = Record<string, number>;
function diff(a: Counts, b: Counts): [string, number][] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].map((k): [string, number] => [k, ((b[k] ?? 0) - (a[k] ?? 0)) / SETUPS]).sort((x, y) => y[1] - x[1]);
}

// Up to four attempts at each of the two rounds, each with users of its own.
const idle = await startIdleServer("setup allocations", WARM + 8 * SETUPS, {
  // Its young-generation collections would clear the counts this reads.
  MEMORY_REDUCER_YOUNG_KB: "0",
  MEMORY_REDUCER_QUIET_MS: "0",
});
if (!idle) process.exit(0);
try {
  const { tokens, client } = idle;
  const warm = client(tokens.slice(0, WARM));
  await warm.ask("open", "opened");
  await warm.ask("close", "closed");
  warm.proc.kill();
  await Bun.sleep(500);

  let next = WARM;
  async function round(name: string, command: string, answer: string) {
    for (let attempt = 0; attempt < 4; attempt++) {
      const c = client(tokens.slice(next, next + SETUPS));
      next += SETUPS;
      await Bun.sleep(300);
      edenGC();
      let sentinel: WeakRef<object> | null = new WeakRef({});
      const before = heapStats();
      const blocksBefore = process.memoryUsage().heapTotal;
      await c.ask(command, answer);
      const after = heapStats();
      const blocks = process.memoryUsage().heapTotal - blocksBefore;
      const collected = sentinel.deref() === undefined;
      sentinel = null;
      if (command === "open") await c.ask("close", "closed");
      c.proc.kill();
      if (collected) {
        console.log(`[setup-alloc] ${name}: a collection ran during the round; again`);
        continue;
      }
      const types = diff(before.objectTypeCounts, after.objectTypeCounts);
      // heapStats' objectCount does not move between these readings on Bun 1.4.5: the cells are the types' sum.
      const cells = types.reduce((sum, [, n]) => sum + n, 0);
      // Nor does the heap's size: JavaScriptCore's is the bytes marked at the last collection plus
      // the external memory, so without a collection its growth is the external memory's (the
      // figure this printed as "heap" until 2026-12-02). The cells' bytes: the new blocks, and
      // what a young collection now finds still live (the round's survivors, sockets included).
      edenGC();
      const survived = heapStats();
      const kept = survived.heapSize - survived.extraMemorySize - (before.heapSize - before.extraMemorySize);
      console.log(
        `[setup-alloc] ${name}, per setup: ${cells.toFixed(1)} cells, new blocks ${(blocks / SETUPS / 1024).toFixed(1)} KB, external +${((after.extraMemorySize - before.extraMemorySize) / SETUPS / 1024).toFixed(1)} KB, live after a young collection +${(kept / SETUPS / 1024).toFixed(2)} KB`,
      );
      console.log(
        `[setup-alloc]   ${types
          .filter(([, n]) => n >= 0.5)
          .map(([k, n]) => `${k} ${n.toFixed(1)}`)
          .join(", ")}`,
      );
      return;
    }
  }
  await round("ticket route only", "tickets", "ticketed");
  await round("ticket, upgrade, hello (whole setup)", "open", "opened");
} finally {
  await idle.close();
}
