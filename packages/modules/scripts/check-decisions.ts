/**
 * The modules' decisions over every text of the data sets and a generated corpus, recorded on one
 * build and compared on another: a change meant to make the modules cheaper must leave every
 * finding, redaction, block and reply exactly as it was.
 *
 *   bun packages/modules/scripts/check-decisions.ts --record /tmp/decisions.jsonl   # on the old build
 *   bun packages/modules/scripts/check-decisions.ts --check /tmp/decisions.jsonl    # on the new one
 *
 * Each line: a text's index and a SHA-256 of its outcome (runBeforeGateway's whole result under
 * default settings for its student and for an unnamed one, runAfterAnswer on the text as an
 * answer, and redactPii's whole result — redacted text, spans and counts — for its student, for no
 * student, and with each PII kind alone switched on, so a detector's own findings are compared even
 * where another detector's longer span would hide them). `--generated N` (default 20000) sets the
 * generated corpus' size.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { builtInModules, redactPii, resolveModuleConfig, runAfterAnswer, runBeforeGateway, type TurnContext } from "../src/index.ts";
import { type CorpusText, generatedCorpus, loadCorpus } from "./corpus.ts";

const args = process.argv.slice(2);
const record = args[args.indexOf("--record") + 1];
const check = args[args.indexOf("--check") + 1];
const generated = args.includes("--generated") ? Number(args[args.indexOf("--generated") + 1]) : 20000;
if (!args.includes("--record") && !args.includes("--check")) {
  console.error("usage: check-decisions.ts --record <file> | --check <file> [--generated N]");
  process.exit(2);
}

const base = loadCorpus();
const corpus: CorpusText[] = [...base, ...generatedCorpus(base, generated)];
const configs = resolveModuleConfig([]);
const now = new Date("2026-01-15T10:00:00Z");
const fallback = { id: "s-default", givenName: "Maya", familyName: "Okafor", displayName: "Maya Okafor" };
const KINDS = ["email", "phone", "address", "dob", "name", "person", "student_id", "handle"] as const;
// One config per kind with only that kind on: each detector's findings on their own.
const kindAlone = KINDS.map((only) => ({ kinds: Object.fromEntries(KINDS.map((k) => [k, k === only])) as Record<(typeof KINDS)[number], boolean> }));

/** What the modules decide on one text, as one string. */
export function outcome(c: CorpusText, i: number): string {
  const previous = corpus[i - 1]?.text ?? "";
  const turn = (student: TurnContext["student"]): TurnContext => ({
    sessionId: "check",
    student,
    recentStudentMessages: previous ? [{ text: previous, at: new Date(now.getTime() - 60_000) }] : [],
    now,
  });
  const student = { ...(c.student ?? fallback), id: "s-check" };
  return JSON.stringify([
    runBeforeGateway(builtInModules, configs, turn(student), c.text),
    runBeforeGateway(builtInModules, configs, turn({ id: "s-unnamed" }), c.text),
    runAfterAnswer(builtInModules, configs, turn(student), c.text),
    redactPii(c.text, { student, now }),
    redactPii(c.text, { now }),
    kindAlone.map((config) => redactPii(c.text, { student, now, config })),
  ]);
}

const digest = (s: string): string => createHash("sha256").update(s).digest("hex").slice(0, 32);
const lines = corpus.map((c, i) => `${i}\t${digest(c.text)}\t${digest(outcome(c, i))}`);

if (args.includes("--record") && record) {
  writeFileSync(record, `${lines.join("\n")}\n`);
  console.log(`[decisions] recorded ${lines.length} texts (${base.length} from the data sets) to ${record}`);
} else if (check) {
  const expected = readFileSync(check, "utf8").trim().split("\n");
  let differ = 0;
  if (expected.length !== lines.length) {
    console.error(`[decisions] ${expected.length} recorded texts, ${lines.length} now: not the same corpus`);
    process.exit(1);
  }
  lines.forEach((line, i) => {
    if (line === expected[i]) return;
    differ++;
    if (differ <= 10) console.error(`[decisions] text ${i} differs: ${JSON.stringify(corpus[i]?.text)}\n  now: ${outcome(corpus[i] as CorpusText, i)}`);
  });
  console.log(`[decisions] ${lines.length} texts (${base.length} from the data sets), ${differ} with a different outcome`);
  process.exit(differ === 0 ? 0 : 1);
}
