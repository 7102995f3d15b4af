/**
 * modules-turn.bench.ts's rotating phase: each message new, from a new student, between other
 * work — what a turn's modules cost in the live process, where the same text is never seen twice.
 */
import { edenGC, heapStats } from "bun:jsc";
import { type CorpusText, generatedCorpus, loadCorpus } from "../../packages/modules/scripts/corpus.ts";
import { builtInModules, type ContentModule, resolveModuleConfig, runAfterAnswer, runBeforeGateway, type TurnContext } from "../../packages/modules/src/index.ts";

const NAMES: Array<[string, string]> = [
  ["Maya", "Okafor"],
  ["Liam", "Nguyen"],
  ["Sofía", "Ramírez"],
  ["Trần", "Minh Anh"],
  ["Noah", "Kim"],
  ["Grace", "Walker"],
  ["Diego", "Hernández"],
  ["Lan", "Phạm"],
];

// Shuffled once with a fixed seed so the three languages and the sets interleave.
function shuffled<T>(items: T[]): T[] {
  let seed = 7;
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

// Other work between the modules: short-lived objects and strings (a turn's frames, rows and
// JSON), and a walk over more memory than the caches hold.
const SCRATCH = new Float64Array(256 * 1024);
let churnSink = 0;
function churn(i: number): void {
  const rows: Array<{ id: string; seq: number; body: string }> = [];
  for (let k = 0; k < 100; k++) rows.push({ id: `row-${i}-${k}`, seq: k, body: `{"delta":"${k}"}` });
  churnSink += JSON.stringify(rows).length;
  for (let k = i & 7; k < SCRATCH.length; k += 8) SCRATCH[k] = (SCRATCH[k] ?? 0) + k;
}

const threadUs = (): number => {
  const u = process.threadCpuUsage();
  return u.user + u.system;
};

// The live-cell count by type: liveCells() is only refreshed by a collection.
const liveCells = (): number => {
  let n = 0;
  for (const c of Object.values(heapStats().objectTypeCounts)) n += c;
  return n;
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

// The churn alone, as many calls as the measured loop made, by the thread's CPU clock.
function churnCost(calls: number): number {
  const t0 = threadUs();
  for (let i = 0; i < calls; i++) churn(i);
  return threadUs() - t0;
}

export function runRotating(messages: number): void {
  const base = loadCorpus();
  const corpus = shuffled([...base, ...generatedCorpus(base, Math.max(0, messages - base.length))]).slice(0, messages);
  // Frozen, as the gate hands them out (apps/api/src/services/modules/config.ts): the PII config is then checked once, not per message.
  const configs = deepFreeze(resolveModuleConfig([]));
  const now = new Date("2026-03-10T10:00:00Z");
  const only = (id: string): ContentModule[] => builtInModules.filter((m) => m.id === id);
  const parts: Array<{ name: string; run: (ctx: TurnContext, c: CorpusText, i: number) => unknown }> = [
    { name: "safety-filter beforeGateway (rules + classifier)", run: (ctx, c) => runBeforeGateway(only("safety-filter"), configs, ctx, c.text) },
    { name: "pii-filter beforeGateway", run: (ctx, c) => runBeforeGateway(only("pii-filter"), configs, ctx, c.text) },
    { name: "struggle-detector beforeGateway", run: (ctx, c) => runBeforeGateway(only("struggle-detector"), configs, ctx, c.text) },
    {
      name: "all modules afterAnswer (another corpus text as the answer)",
      run: (ctx, _c, i) => runAfterAnswer(builtInModules, configs, ctx, corpus[(i + 7) % corpus.length]?.text ?? ""),
    },
  ];
  const context = (c: CorpusText, i: number): TurnContext => {
    const [given, family] = NAMES[i % NAMES.length] ?? ["Maya", "Okafor"];
    const student = c.student ?? { id: `s-${i}`, givenName: given, familyName: family, displayName: `${given} ${family}` };
    const recent = [1, 2, 3].map((k) => ({ text: corpus[(i + corpus.length - k) % corpus.length]?.text ?? "", at: new Date(now.getTime() - k * 60_000) }));
    return { sessionId: `session-${i}`, student: { ...student, id: `student-${i}` }, recentStudentMessages: recent, now };
  };

  // CPU: every message once through each part, churn before each call.
  const warm = Math.min(300, corpus.length);
  const us = parts.map(() => [] as number[]);
  let sink = 0;
  let cpu = 0;
  let wall = 0;
  for (let i = 0; i < corpus.length; i++) {
    const c = corpus[i] as CorpusText;
    const ctx = context(c, i);
    if (i === warm) cpu = threadUs();
    parts.forEach((part, p) => {
      churn(i + p);
      // Wall time per call: the thread's CPU clock ticks too coarsely here for one call.
      const t0 = performance.now();
      sink += part.run(ctx, c, i) ? 1 : 0;
      const t = (performance.now() - t0) * 1000;
      if (i >= warm) {
        us[p]?.push(t);
        wall += t;
      }
    });
  }
  cpu = threadUs() - cpu;

  // Allocation: batches of ten messages per part between young collections; a batch that a
  // collection ran through (its WeakRef cleared) is not counted.
  const cells = parts.map(() => ({ cells: 0, messages: 0 }));
  for (let start = 0; start + 10 <= Math.min(corpus.length, 2000); start += 10) {
    parts.forEach((part, p) => {
      const batch = corpus.slice(start, start + 10);
      const ctxs = batch.map((c, k) => context(c, start + k));
      edenGC();
      let sentinel: WeakRef<object> | null = new WeakRef({});
      const before = liveCells();
      for (let k = 0; k < batch.length; k++) sink += part.run(ctxs[k] as TurnContext, batch[k] as CorpusText, start + k) ? 1 : 0;
      const after = liveCells();
      const collected = sentinel.deref() === undefined;
      sentinel = null;
      const row = cells[p];
      if (!collected && row) {
        row.cells += after - before;
        row.messages += batch.length;
      }
    });
  }
  if (sink < 0 || churnSink < 0) console.log(sink, churnSink);

  const measured = Math.max(0, corpus.length - warm);
  const churnUs = churnCost(measured * parts.length);
  console.log(
    `[modules-turn] rotating corpus: ${corpus.length} messages (${base.length} from the data sets, the rest generated), each new, churn between calls; ${measured} measured after ${warm}`,
  );
  console.log("   mean µs   median µs   p90 µs   cells/msg  part");
  let total = 0;
  parts.forEach((part, p) => {
    const xs = us[p] ?? [];
    const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    total += mean;
    const sorted = [...xs].sort((a, b) => a - b);
    const p90 = sorted[Math.floor(sorted.length * 0.9)] ?? 0;
    const row = cells[p];
    const perMsg = row && row.messages > 0 ? row.cells / row.messages : Number.NaN;
    console.log(`  ${mean.toFixed(1).padStart(8)}  ${median(xs).toFixed(1).padStart(9)}  ${p90.toFixed(0).padStart(7)}  ${perMsg.toFixed(0).padStart(9)}  ${part.name}`);
  });
  console.log(`  ${total.toFixed(1).padStart(8)}  a message's modules in all (before + after), wall inside the calls`);
  console.log(
    `  ${((cpu - churnUs) / measured).toFixed(1).padStart(8)}  the same by the thread's CPU clock (the loop's CPU less the churn's alone: ${(churnUs / measured).toFixed(1)} µs a message; wall inside the calls ${(wall / measured).toFixed(1)})`,
  );
}
