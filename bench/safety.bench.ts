/**
 * What the safety layers add to a student's turn before the provider call.
 *
 *   rules       assessStudentMessage over every line of the module fixtures (English) plus
 *               Spanish/Vietnamese lines: p50 / p99 / max µs per chat-sized message, and a 2 kB
 *               run-on apart (cost grows with length: every rule scans every normalised form);
 *   classifier  the bundled classifier alone (features + scoring) and the whole fast path
 *               (rules + classifier, assessFastPath): best-of-rounds p50 / p99 µs per chat-sized
 *               message, plus the one-off cost of parsing the committed weights;
 *   moderation  fast path + the moderation stage against the dev model's /moderations over HTTP on
 *               loopback (Bun.serve, port 0): p50 / p99 ms per turn — the cost of the wiring (a
 *               real moderation model adds its own latency, bounded by the group's budgetMs).
 * Goal noted in docs/modules.md: the rules stay well under a millisecond per message, so running
 * the moderation stage after them (not in parallel) costs nothing measurable.
 * Needs nothing. Run: bun bench/safety.bench.ts
 */
import { readFileSync } from "node:fs";
import { createDevModelApp, createModerationClient } from "../packages/gateway/src/index.ts";
import {
  assessFastPath,
  assessStudentMessage,
  bundledClassifier,
  classifyText,
  moderateTurn,
  runBeforeGateway,
  safetyConfigSchema,
  safetyFilter,
} from "../packages/modules/src/index.ts";

const fixtures = readFileSync(new URL("../packages/modules/fixtures/safety.jsonl", import.meta.url), "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => (JSON.parse(l) as { text: string }).text);
const extra = [
  "quiero morirme, ya no aguanto más en esta casa",
  "mi papá me va a matar cuando vea mis calificaciones jajaja",
  "tôi không muốn sống nữa, tối nay tôi sẽ kết thúc tất cả",
  "bài tập hóa này khó muốn chết luôn á",
  `${"can you help me with the causes of the french revolution and also ".repeat(30)}i havent eaten in days`,
];
const texts = [...fixtures, ...extra];

function quantiles(samples: number[]): { p50: number; p99: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1] ?? 0 };
}

const ROUNDS = 20;
for (const t of texts) assessStudentMessage(t); // warm-up
const short: number[] = [];
const long: number[] = [];
// Each text's fastest round is its own cost without scheduler noise (on a loaded machine a
// 60 µs call is sometimes descheduled for tens of ms, which the wall-clock p99 shows).
const best = new Map<string, number>();
for (let i = 0; i < ROUNDS; i++) {
  for (const t of texts) {
    const start = performance.now();
    assessStudentMessage(t);
    const us = (performance.now() - start) * 1000;
    (t.length <= 280 ? short : long).push(us);
    best.set(t, Math.min(best.get(t) ?? Number.POSITIVE_INFINITY, us));
  }
}
const r = quantiles(short);
const l = quantiles(long);
const intrinsic = quantiles(texts.filter((t) => t.length <= 280).map((t) => best.get(t) ?? 0));
console.log(`rules, chat-sized messages (<= 280 chars), wall clock: ${short.length}, p50 ${r.p50.toFixed(0)} µs, p99 ${r.p99.toFixed(0)} µs, max ${r.max.toFixed(0)} µs`);
console.log(
  `rules, chat-sized messages, each text's best of ${ROUNDS}: p50 ${intrinsic.p50.toFixed(0)} µs, p99 ${intrinsic.p99.toFixed(0)} µs, max ${intrinsic.max.toFixed(0)} µs`,
);
console.log(`rules, a 2 kB run-on: ${long.length}, p50 ${(l.p50 / 1000).toFixed(1)} ms, max ${(l.max / 1000).toFixed(1)} ms`);
console.log(`${intrinsic.p99 < 1000 ? "MET" : "MISS"} rules under 1 ms per chat-sized message (p99 of best-of-${ROUNDS}: ${intrinsic.p99.toFixed(0)} µs)`);

const loadStart = performance.now();
const model = bundledClassifier();
console.log(`classifier: weights parsed on first use in ${(performance.now() - loadStart).toFixed(1)} ms (${model.weights.size} features)`);
const chat = texts.filter((t) => t.length <= 280);
function bestOf(fn: (t: string) => unknown): { p50: number; p99: number; max: number } {
  for (const t of chat) fn(t); // warm-up
  const fastest = new Map<string, number>();
  for (let i = 0; i < ROUNDS; i++) {
    for (const t of chat) {
      const start = performance.now();
      fn(t);
      const us = (performance.now() - start) * 1000;
      fastest.set(t, Math.min(fastest.get(t) ?? Number.POSITIVE_INFINITY, us));
    }
  }
  return quantiles([...fastest.values()]);
}
const cls = bestOf((t) => classifyText(model, t));
const fast = bestOf((t) => assessFastPath(t));
console.log(
  `classifier alone, chat-sized messages, each text's best of ${ROUNDS}: p50 ${cls.p50.toFixed(0)} µs, p99 ${cls.p99.toFixed(0)} µs, max ${cls.max.toFixed(0)} µs`,
);
console.log(`fast path (rules + classifier), each text's best of ${ROUNDS}: p50 ${fast.p50.toFixed(0)} µs, p99 ${fast.p99.toFixed(0)} µs, max ${fast.max.toFixed(0)} µs`);
console.log(`${fast.p99 < 1000 ? "MET" : "MISS"} fast path under 1 ms per chat-sized message (p99 of best-of-${ROUNDS}: ${fast.p99.toFixed(0)} µs)`);

const dev = createDevModelApp({ tokensPerSecond: 0 });
const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: dev.fetch });
try {
  const client = createModerationClient({ baseUrl: `http://127.0.0.1:${server.port}` });
  const config = safetyConfigSchema.parse({ moderation: { enabled: true, budgetMs: 2000 } });
  const configs = { "safety-filter": { enabled: true, config } };
  const turn = { student: { id: "bench" }, recentStudentMessages: [], now: new Date() };
  const stage: number[] = [];
  for (let i = 0; i < 5; i++) {
    for (const t of texts) {
      const start = performance.now();
      const result = runBeforeGateway([safetyFilter], configs, turn, t);
      await moderateTurn(result, config, (input, signal) => client.moderate({ model: "dev-moderation", mode: "moderations", input, signal }));
      stage.push(performance.now() - start);
    }
  }
  const m = quantiles(stage);
  console.log(
    `fast path + moderation stage (dev model over loopback HTTP): ${stage.length} turns, p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms, max ${m.max.toFixed(2)} ms`,
  );
} finally {
  server.stop(true);
}
