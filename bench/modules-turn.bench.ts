/**
 * The content modules' CPU in one chat turn, module by module, as the live path runs them: the
 * student message through each module's `beforeGateway` (safety rules + classifier, PII
 * redaction, struggle signals), the provider history redacted (every earlier student message of
 * the window, a fresh redactor per turn as the gate builds one), and the finished answer through
 * `afterAnswer`. Default configs, a student with a name, ten earlier messages of a realistic chat.
 *
 * Reported: CPU µs per turn for each part (process CPU time over ROUNDS turns, after a warm-up),
 * which is steadier than wall time on a shared machine; and the whole modules share of a turn.
 * Needs nothing. Run: bun bench/modules-turn.bench.ts   Knobs: BENCH_MODULES_ROUNDS=2000
 *
 * `BENCH_MODULES_CORPUS=rotating` (default `hot`, the loop above; `both` runs the two) adds the
 * phase that reads as the live process does: every message a new one (each text of the modules'
 * data sets, three languages, then variations of them: packages/modules/scripts/corpus.ts) from a
 * new student, with other allocation and a walk over 2 MB between the modules so their code and
 * data are not hot in the caches. Reported per message and module: thread CPU µs
 * (`process.threadCpuUsage` around each call), and JavaScriptCore cells allocated (live-cell count
 * after a young collection, in batches no collection ran through). `BENCH_MODULES_MESSAGES=6000`.
 */
import {
  builtInModules,
  type ContentModule,
  createHistoryRedactor,
  type PiiConfig,
  resolveModuleConfig,
  runAfterAnswer,
  runBeforeGateway,
  type TurnContext,
} from "../packages/modules/src/index.ts";

import { runRotating } from "./modules/rotating.ts";

const ROUNDS = Number(process.env.BENCH_MODULES_ROUNDS ?? 2000);
const PHASE = process.env.BENCH_MODULES_CORPUS ?? "hot";
const WARMUP = Math.min(500, ROUNDS);

const QUESTIONS = [
  "How do fractions work? I never get the denominators right when I add them.",
  "Why is the sky blue during the day but red at sunset?",
  "Can you help me understand photosynthesis for my biology test tomorrow?",
  "What is the difference between a simile and a metaphor in poetry?",
  "i still dont get it, can you explain it again but simpler??",
  "ok so if I have 1/3 and 1/4 do I just add the bottoms to get 7?",
  "My teacher Mrs Patel said we need to show our work, how do I write that down",
  "this is so confusing i give up",
  "wait so the light scatters? what does scatter mean",
  "can you check my answer: 7/12",
];
const ANSWER =
  "Good question! Let's think about it together. When you add fractions, the pieces have to be the same size first. " +
  "What number could both 3 and 4 divide into evenly? Try listing a few multiples of each and see where they meet. " +
  "Once you have that common denominator, how many twelfths is one third? And how many twelfths is one quarter?";

const configs = resolveModuleConfig([]);
const now = new Date("2026-03-10T10:00:00Z");
const recent = QUESTIONS.slice(0, 9).map((text, i) => ({ text, at: new Date(now.getTime() - (10 - i) * 60_000) }));
const turn: TurnContext = {
  sessionId: "bench-session",
  student: { id: "bench-student", givenName: "Maya", familyName: "Okafor", displayName: "Maya Okafor" },
  recentStudentMessages: recent,
  now,
};
const history = QUESTIONS.slice(0, 9).flatMap((q) => [
  { role: "user" as const, content: q },
  { role: "assistant" as const, content: ANSWER },
]);

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function measure(name: string, fn: (i: number) => unknown): { name: string; usPerTurn: number } {
  let sink = 0;
  for (let i = 0; i < WARMUP; i++) sink += fn(i) ? 1 : 0;
  const before = cpuUs();
  for (let i = 0; i < ROUNDS; i++) sink += fn(i) ? 1 : 0;
  const us = (cpuUs() - before) / ROUNDS;
  if (sink < 0) console.log(sink);
  return { name, usPerTurn: Number(us.toFixed(1)) };
}

const only = (id: string): ContentModule[] => builtInModules.filter((m) => m.id === id);
const message = (i: number) => `${QUESTIONS[i % QUESTIONS.length]} (turn ${i})`;

if (PHASE === "hot" || PHASE === "both") hotPhase();
if (PHASE === "rotating" || PHASE === "both") runRotating(Number(process.env.BENCH_MODULES_MESSAGES ?? 6000));

function hotPhase(): void {
  const rows = [
    measure("safety-filter beforeGateway (rules + classifier)", (i) => runBeforeGateway(only("safety-filter"), configs, turn, message(i))),
    measure("pii-filter beforeGateway", (i) => runBeforeGateway(only("pii-filter"), configs, turn, message(i))),
    measure("struggle-detector beforeGateway", (i) => runBeforeGateway(only("struggle-detector"), configs, turn, message(i))),
    measure("all modules beforeGateway", (i) => runBeforeGateway(builtInModules, configs, turn, message(i))),
    measure("provider history redaction (18 messages, new redactor)", (i) => {
      const redact = createHistoryRedactor({ student: turn.student, now: turn.now, config: configs["pii-filter"]?.config as PiiConfig });
      return history.map((m) => (m.role === "assistant" ? m : { ...m, content: redact(`${m.content}${i % 2 === 0 ? "" : " "}`) }));
    }),
    measure("all modules afterAnswer", (i) => runAfterAnswer(builtInModules, configs, turn, `${ANSWER} ${i}`)),
  ];
  const total = rows[3] && rows[4] && rows[5] ? rows[3].usPerTurn + rows[4].usPerTurn + rows[5].usPerTurn : 0;
  console.log(`[modules-turn] ${ROUNDS} turns after ${WARMUP} warm-up, CPU µs per turn (process.cpuUsage):`);
  for (const r of rows) console.log(`  ${r.usPerTurn.toFixed(1).padStart(8)}  ${r.name}`);
  console.log(`  ${total.toFixed(1).padStart(8)}  a turn's modules in all (before + history + after)`);
}
