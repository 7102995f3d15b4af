// One burst of garbage with survivors in a fresh process, for memory-reducer.test.ts: run as
// `bun memory-burst.ts <youngGrowthBytes>`, it prints `{ grown, young, kept }` as JSON. Each burst
// gets a process of its own, so neither inherits the heap blocks another burst (or the test
// runner's earlier suites) took, which a second burst in the same process would simply reuse.
import { createLogger } from "../../src/lib/logger.ts";
import { startMemoryReducer } from "../../src/lib/memory-reducer.ts";

const youngGrowthBytes = Number(process.argv[2] ?? 0);
// The ballast makes the heap a server's size, so JavaScriptCore's own young-generation budget is a
// server's too.
const ballast = Array.from({ length: 400_000 }, (_, i) => ({ i, name: `ballast-${i}` }));
Bun.gc(true);
const reducer = startMemoryReducer({ quietMs: 0, growthBytes: 1, youngGrowthBytes, youngCheckMs: 5 }, createLogger({ level: "error" }));
const start = process.memoryUsage().heapTotal;
const kept: object[] = [];
for (let round = 0; round < 100; round++) {
  for (let i = 0; i < 2_000; i++) {
    const o = { id: `user-${round}-${i}-${"x".repeat(40)}`, roles: [i, i + 1], at: new Date() };
    if (i % 100 === 0) kept.push(o);
  }
  // Lets the pacer's timer run between rounds, as it runs between a burst's requests.
  await Bun.sleep(6);
}
const grown = process.memoryUsage().heapTotal - start;
reducer.stop();
console.log(JSON.stringify({ grown, young: reducer.stats.youngCollections, kept: kept.length, ballast: ballast.length }));
