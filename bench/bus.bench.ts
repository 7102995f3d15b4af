/**
 * Publish → receive latency of the bus, node A publishing and node B receiving:
 * - in-process bus (always);
 * - two Redis bus nodes (stream + counter + PUBLISH in one script, then fan-out), and raw ioredis
 *   PUBLISH/SUBSCRIBE on the same server for comparison (when BENCH_REDIS_URL or TEST_REDIS_URL
 *   is set).
 * Sequential runs keep one event in flight (pure latency); the burst run keeps 64 in flight.
 *
 *   BENCH_REDIS_URL=redis://127.0.0.1:6379 bun bench/bus.bench.ts
 */
// The root package does not depend on workspace packages (or on ioredis), so the bench reaches
// the bus by path; its `connectRedis` hands out plain ioredis clients for the raw comparison.
import { connectRedis, createMemoryBus, createRedisBus, type Bus } from "../packages/bus/src/index.ts";

const WARMUP = 200;
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 3000);
const BURST = 64;
const url = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL;

interface Row {
  name: string;
  samples: number;
  p50: number;
  p99: number;
  max: number;
  perSecond: number;
}

function summarise(name: string, latencies: number[], elapsedMs: number): Row {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { name, samples: sorted.length, p50: at(0.5), p99: at(0.99), max: at(1), perSecond: (sorted.length / elapsedMs) * 1000 };
}

/** Generic driver: `send(i)` publishes message i, `onReceive` is wired by the caller to `received(i)`. */
async function measure(name: string, send: (i: number) => Promise<unknown>, wire: (received: (i: number) => void) => void, inFlight: number): Promise<Row> {
  const sentAt = new Map<number, number>();
  const waiters = new Map<number, () => void>();
  const latencies: number[] = [];
  wire((i) => {
    const start = sentAt.get(i);
    if (start !== undefined && i >= WARMUP) latencies.push(performance.now() - start);
    sentAt.delete(i);
    waiters.get(i)?.();
    waiters.delete(i);
  });
  const total = WARMUP + SAMPLES;
  let next = 0;
  let measuredStart = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      if (i === WARMUP) measuredStart = performance.now();
      const arrived = new Promise<void>((resolve) => waiters.set(i, resolve));
      sentAt.set(i, performance.now());
      await send(i);
      await arrived;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return summarise(name, latencies, performance.now() - measuredStart);
}

async function benchBus(label: string, a: Bus, b: Bus, inFlight: number): Promise<Row> {
  const room = `session:${crypto.randomUUID()}`;
  let wired: (i: number) => void = () => undefined;
  const stop = await b.subscribe(room, (signal) => {
    if (signal.kind === "event") wired(signal.event.payload as number);
  });
  const row = await measure(
    label,
    (i) => a.publish(room, { type: "bench", payload: i }),
    (r) => (wired = r),
    inFlight,
  );
  stop();
  return row;
}

async function benchRawRedis(redisUrl: string, inFlight: number): Promise<Row> {
  const pub = connectRedis(redisUrl, "commands");
  const sub = connectRedis(redisUrl, "subscriber");
  await Promise.all([new Promise((r) => pub.once("ready", r)), new Promise((r) => sub.once("ready", r))]);
  const channel = `bench:raw:${crypto.randomUUID()}`;
  let wired: (i: number) => void = () => undefined;
  sub.on("message", (_channel: string, message: string) => wired(Number(message)));
  await sub.subscribe(channel);
  const row = await measure(
    `raw ioredis pub/sub${inFlight > 1 ? ` (${inFlight} in flight)` : ""}`,
    (i) => pub.publish(channel, String(i)),
    (r) => (wired = r),
    inFlight,
  );
  pub.disconnect();
  sub.disconnect();
  return row;
}

const rows: Row[] = [];
const hub = createMemoryBus();
rows.push(await benchBus("memory bus, 2 nodes", hub.node(), hub.node(), 1));

if (url) {
  const keyPrefix = `bench:bus:${crypto.randomUUID()}:`;
  const a = createRedisBus({ url, keyPrefix });
  const b = createRedisBus({ url, keyPrefix });
  await Promise.all([a.ready(), b.ready()]);
  rows.push(await benchRawRedis(url, 1));
  rows.push(await benchBus("redis bus, 2 nodes", a, b, 1));
  rows.push(await benchRawRedis(url, BURST));
  rows.push(await benchBus(`redis bus, 2 nodes (${BURST} in flight)`, a, b, BURST));
  await Promise.all([a.close(), b.close()]);
  const admin = connectRedis(url, "commands");
  await new Promise((r) => admin.once("ready", r));
  const keys = await admin.keys(`${keyPrefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  admin.disconnect();
} else {
  console.log("BENCH_REDIS_URL / TEST_REDIS_URL not set: Redis runs skipped.");
}

console.log(`\npublish → receive latency (ms), ${SAMPLES} samples after ${WARMUP} warm-up, Bun ${Bun.version}`);
console.table(
  rows.map((r) => ({
    run: r.name,
    p50: r.p50.toFixed(3),
    p99: r.p99.toFixed(3),
    max: r.max.toFixed(3),
    "events/s": Math.round(r.perSecond),
  })),
);
