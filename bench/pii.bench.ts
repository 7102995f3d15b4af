/**
 * Cost of redactPii per student message on the live path (it runs on every message before the
 * AI provider is called, and again over stored history when a school keeps original text).
 *
 * Messages: the texts of packages/modules/fixtures/pii.jsonl ("typical": short chat lines, with
 * and without PII) and 4000-character messages built by joining those texts ("long"; 4000 is the
 * message size limit). Each message is redacted once as warm-up, then every message ROUNDS times in
 * shuffled order; each call is timed on its own.
 * Reported: wall-clock µs per message, p50 / p99 / max, and CPU µs per message (process CPU time
 * over the timed rounds / messages), which is steadier than wall time on a shared machine.
 * "new student": each typical message for a student not seen before (unique given and family
 * names), as on a live instance where most sessions are a student's first: what is remembered per
 * name (once, compiled patterns) is paid on every message here.
 * Run: bun bench/pii.bench.ts
 */
import { readFileSync } from "node:fs";
import { redactPii, type StudentInfo } from "../packages/modules/src/index.ts";

const ROUNDS = Number(process.env.BENCH_PII_ROUNDS ?? 20);
const LONG_MESSAGES = 40;
const now = new Date("2026-01-15T12:00:00Z");
const student: StudentInfo = { id: "bench", givenName: "Maya", familyName: "Okafor", displayName: "Maya O." };

const typical = readFileSync(new URL("../packages/modules/fixtures/pii.jsonl", import.meta.url), "utf8")
  .split("\n")
  .filter((l) => l.trim().length > 0)
  .map((l) => (JSON.parse(l) as { text: string }).text);

// Deterministic shuffles so runs compare: a small LCG instead of Math.random.
let seed = 42;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const shuffled = <T>(items: readonly T[]): T[] => {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
};

const long: string[] = [];
for (let i = 0; i < LONG_MESSAGES; i++) {
  let text = "";
  for (const line of shuffled(typical)) {
    if (text.length + line.length + 1 > 4000) break;
    text += `${line} `;
  }
  long.push(text.padEnd(4000, " ok").slice(0, 4000));
}

const GIVEN = ["Amara", "Bilal", "Carmen", "Dmitri", "Esther", "Farid", "Greta", "Hiroshi", "Ingrid", "Javier", "Keanu", "Leila", "Mateo", "Nadia", "Oskar", "Priya"];
const FAMILY = [
  "Abernathy",
  "Bergstrom",
  "Castellano",
  "Dubois",
  "Eriksen",
  "Fonseca",
  "Gallagher",
  "Haddad",
  "Ivanova",
  "Jablonski",
  "Kowalczyk",
  "Lindqvist",
  "Moreau",
  "Nakamura",
  "Okonkwo",
  "Petrovic",
];
const SUFFIX = ["", "son", "ez", "ini", "ova", "berg", "stein", "ley"];
let newStudents = 0;
/** A student whose names were never seen by this process. */
function nextNewStudent(): StudentInfo {
  const n = newStudents++;
  const given = `${GIVEN[n % GIVEN.length]}${SUFFIX[Math.floor(n / GIVEN.length) % SUFFIX.length]}`;
  const family = `${FAMILY[Math.floor(n / (GIVEN.length * SUFFIX.length)) % FAMILY.length]}${SUFFIX[Math.floor(n / (GIVEN.length * SUFFIX.length * FAMILY.length)) % SUFFIX.length]}`;
  return { id: `new-${n}`, givenName: given, familyName: family, displayName: `${given} ${family.slice(0, 1)}.` };
}

function measure(messages: readonly string[], who: () => StudentInfo = () => student): { p50: number; p99: number; max: number; n: number; cpu: number } {
  for (const m of messages) redactPii(m, { student: who(), now });
  const samples: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < ROUNDS; r++) {
    for (const m of shuffled(messages)) {
      const s = who();
      const t = performance.now();
      redactPii(m, { student: s, now });
      samples.push((performance.now() - t) * 1000);
    }
  }
  const cpu = process.cpuUsage(cpu0);
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: samples[samples.length - 1] ?? 0, n: samples.length, cpu: (cpu.user + cpu.system) / samples.length };
}

const [load1] = (await import("node:os")).loadavg();
console.log(`redactPii cost per message (µs), ${ROUNDS} rounds, load average ${load1?.toFixed(1)}`);
for (const [name, messages, who] of [
  ["typical", typical, undefined],
  ["4000-char", long, undefined],
  ["new student", typical, nextNewStudent],
] as const) {
  const r = measure(messages, who);
  console.log(
    `  ${name.padEnd(10)} n=${String(r.n).padStart(5)}  p50 ${r.p50.toFixed(0).padStart(6)}  p99 ${r.p99.toFixed(0).padStart(6)}  max ${r.max.toFixed(0).padStart(6)}  cpu/msg ${r.cpu.toFixed(0).padStart(6)}`,
  );
}
