/**
 * Recall and false-alert rate of the safety filter on the labelled evaluation set, per category
 * and language, for four configurations:
 *
 *   rules          the built-in rules alone;
 *   fast-path      rules + the bundled classifier (the fast path every deployment runs by default);
 *   dev-model      the fast path + the moderation stage against the dev model's /moderations. The
 *                  dev model is a deterministic test double that flags only marker words, so on
 *                  real text this equals the fast path: it proves the wiring, not a classifier;
 *   scripted       the fast path + the moderation stage against a local fake /moderations server
 *                  that answers from a script written from the labels (every alert line flagged in
 *                  its category, look-alikes clean) and fails every 10th request with a 500. It
 *                  measures the plumbing — category mapping, thresholds, the fail-safe policy —
 *                  and is an upper bound, NOT the accuracy of any real moderation model.
 *
 *   bun packages/modules/scripts/evaluate-safety.ts [--dir packages/modules/evaluation]
 *       [--split dev|heldout|all] [--mode rules|fast-path|dev-model|scripted|all] [--misses]
 *
 * `--misses` lists the lines each mode got wrong, for the dev split only: nobody tunes on held-out lines.
 */
import { fileURLToPath } from "node:url";
import { createDevModelApp, createModerationClient, type ModerationClient } from "@raptscallions/gateway";
import {
  type ModerationClassifier,
  moderateTurn,
  resolveModuleConfig,
  runBeforeGateway,
  SAFETY_CATEGORIES,
  SAFETY_FILTER_ID,
  type SafetyCategory,
  type SafetyConfig,
  safetyFilter,
} from "../src/index.ts";
import { CATEGORY_MAP, type EvalLine, type EvalSplit, formatEvaluation, loadEvaluationSet, type Prediction, scoreEvaluation } from "./safety-eval-lib.ts";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const dir = arg("dir", fileURLToPath(new URL("../evaluation", import.meta.url)));
const split = arg("split", "dev") as EvalSplit | "all";
const mode = arg("mode", "all");
if (!["dev", "heldout", "all"].includes(split)) throw new Error("--split must be dev, heldout or all");
if (!["rules", "fast-path", "dev-model", "scripted", "all"].includes(mode)) throw new Error("--mode must be rules, fast-path, dev-model, scripted or all");
const showMisses = process.argv.includes("--misses") && split === "dev";

const lines = loadEvaluationSet(dir, split);
if (lines.length === 0) throw new Error(`no ${split} lines under ${dir}`);
const turn = { student: { id: "evaluation" }, recentStudentMessages: [], now: new Date("2026-01-15T12:00:00Z") };

const alertsOf = (findings: { module: string; kind: string; isAlert: boolean }[]): Set<SafetyCategory> =>
  new Set(
    findings.filter((f) => f.module === SAFETY_FILTER_ID && f.isAlert && (SAFETY_CATEGORIES as readonly string[]).includes(f.kind)).map((f) => f.kind as SafetyCategory),
  );

/**
 * Runs the safety module (and, with a client, the moderation stage) exactly as the live gate does;
 * `classifier: false` turns the fast path's classifier off to measure the rules alone.
 */
async function predict(client: ModerationClient | null, classifier = true): Promise<Prediction[]> {
  const settings = {
    ...(classifier ? {} : { classifier: { enabled: false } }),
    ...(client ? { moderation: { enabled: true, model: "dev-moderation", mode: "moderations", budgetMs: 2000 } } : {}),
  };
  const configs = resolveModuleConfig([{ [SAFETY_FILTER_ID]: settings }], [safetyFilter]);
  const config = configs[SAFETY_FILTER_ID]?.config as SafetyConfig;
  const out: Prediction[] = [];
  for (const line of lines) {
    const rules = runBeforeGateway([safetyFilter], configs, turn, line.text);
    if (!client) {
      out.push({ alerts: alertsOf(rules.findings) });
      continue;
    }
    const classify: ModerationClassifier = async (input, signal) => {
      try {
        return await client.moderate({ model: config.moderation.model, mode: "moderations", input, signal });
      } catch (err) {
        if (signal.aborted) throw err;
        return { failure: "error" };
      }
    };
    const { result, outcome } = await moderateTurn(rules, config, classify);
    out.push({ alerts: alertsOf(result.findings), unavailable: outcome?.status === "unavailable" });
  }
  return out;
}

// Our category → the key a moderation endpoint would report it under.
const UPSTREAM_KEY: Record<SafetyCategory, string> = {
  "self-harm": "self-harm/intent",
  "eating-disorder": "eating-disorder",
  violence: "violence",
  abuse: "abuse",
  grooming: "sexual/minors",
  sexual: "sexual",
  bullying: "harassment",
};

function startScriptedModeration(script: readonly EvalLine[]) {
  const table = new Map<string, EvalLine>(script.map((l) => [l.text, l]));
  let served = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const body = (await req.json()) as { input?: unknown };
      served++;
      if (served % 10 === 0) return Response.json({ error: { message: "scripted failure" } }, { status: 500 });
      const line = typeof body.input === "string" ? table.get(body.input) : undefined;
      const flagged = line?.label === "alert" ? CATEGORY_MAP[line.category].slice(0, 1).map((c) => UPSTREAM_KEY[c]) : [];
      const categories = Object.fromEntries(flagged.map((k) => [k, true]));
      const category_scores = Object.fromEntries(flagged.map((k) => [k, 0.95]));
      return Response.json({ id: "modr-scripted", model: "scripted", results: [{ flagged: flagged.length > 0, categories, category_scores }] });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/v1`, stop: () => server.stop(true) };
}

console.log(`Safety evaluation: ${lines.length} lines (${split} split) from ${dir}`);
console.log("recall = alert lines alerted in a matching category; any = alerted in any category;");
console.log("rate = look-alike lines that raised any alert (false alerts); unavail = moderation could not answer.\n");

const modes = mode === "all" ? ["rules", "fast-path", "dev-model", "scripted"] : [mode];
for (const m of modes) {
  let predictions: Prediction[];
  let title: string;
  if (m === "rules") {
    title = "(a) rules alone";
    predictions = await predict(null, false);
  } else if (m === "fast-path") {
    title = "(b) fast path: rules + the bundled classifier (the default)";
    predictions = await predict(null);
  } else if (m === "dev-model") {
    title = "(c1) fast path + moderation stage on the dev model (a marker-driven test double: equals the fast path on real text)";
    // Its routes are relative (`/moderations`), so the base URL has no `/v1` here.
    const dev = createDevModelApp({ tokensPerSecond: 0 });
    predictions = await predict(createModerationClient({ baseUrl: "http://dev.test", fetch: (u, i) => Promise.resolve(dev.request(u, i)) }));
  } else {
    title = "(c2) fast path + moderation stage on a scripted upstream (answers from the labels, every 10th call fails: plumbing, not a classifier)";
    const scripted = startScriptedModeration(lines);
    try {
      predictions = await predict(createModerationClient({ baseUrl: scripted.url }));
    } finally {
      scripted.stop();
    }
  }
  const report = scoreEvaluation(lines, predictions);
  console.log(`${title}\n${formatEvaluation(report)}\n`);
  if (showMisses) {
    for (const miss of report.misses) {
      console.log(`  MISS [${m}] ${miss.line.id} ${miss.line.category}/${miss.line.label} got=${miss.got.join(",") || "-"} ${JSON.stringify(miss.line.text)}`);
    }
  }
}
