/**
 * Does a burst's memory go back to the kernel, and when? One million small objects with native
 * strings and typed arrays (one in twenty kept), then a full collection and RSS at 1, 3, 6, 9, 12
 * and 15 s. Run it under the allocator settings to compare (bench/README.md, turn.bench.ts,
 * "Fourteenth pass"):
 *
 *   bun bench/idle/allocator-return.ts
 *   MIMALLOC_PURGE_HOLES_MIN_INTERVAL=10000 bun bench/idle/allocator-return.ts   (paced: tried, not the server's default)
 *   MIMALLOC_PURGE_HOLES=0 bun bench/idle/allocator-return.ts                    (nothing comes back)
 */
export {};

const rss = () => Math.round(process.memoryUsage().rss / 1024 / 1024);
const kept: unknown[] = [];
let burst: unknown[] = [];
for (let round = 0; round < 5; round++) {
  for (let i = 0; i < 200_000; i++) {
    const item = { text: Buffer.alloc(64 + (i % 7) * 40).toString("hex"), n: i, bytes: new Uint8Array(100 + (i % 5) * 30) };
    burst.push(item);
    if (i % 20 === 0) kept.push(item);
  }
  burst = [];
}
const start = performance.now();
const line = [`after the burst ${rss()} MB`];
Bun.gc(true);
for (const s of [1, 3, 6, 9, 12, 15]) {
  await Bun.sleep(Math.max(0, s * 1000 - (performance.now() - start)));
  Bun.gc(true);
  line.push(`${s} s: ${rss()} MB`);
}
console.log(
  `${line.join(", ")} (${kept.length} kept; MIMALLOC_PURGE_HOLES_MIN_INTERVAL=${process.env.MIMALLOC_PURGE_HOLES_MIN_INTERVAL ?? "default"}, MIMALLOC_PURGE_HOLES=${process.env.MIMALLOC_PURGE_HOLES ?? "default"})`,
);
