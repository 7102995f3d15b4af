import { z } from "zod";
import type { ContentModule, Finding, HistoryMessage, ModuleContext, Severity } from "../types.ts";
import { featureSimilarity, type SimilarityFeatures, similarityFeatures } from "./similarity.ts";

export const STRUGGLE_DETECTOR_ID = "struggle-detector";

export const struggleConfigSchema = z
  .strictObject({
    /** How many of the latest student messages (including the current one) to look at. */
    windowSize: z.number().int().min(2).max(50).default(8),
    /** Similarity (0..1) at or above which two questions count as the same question. */
    similarityThreshold: z.number().min(0.3).max(1).default(0.6),
    /** A gap longer than this between two student messages counts as an idle gap. */
    idleMinutes: z.number().min(1).max(240).default(5),
    /** A message of at most this many characters counts as a very short turn. */
    shortTurnMaxChars: z.number().int().min(1).max(100).default(12),
    /** Score at which the level becomes `mild`. */
    mildAt: z.number().min(0).max(1).default(0.3),
    /** Score at which the level becomes `struggling` (and teachers are alerted). */
    strugglingAt: z.number().min(0).max(1).default(0.6),
    /** Extra frustration phrases for this school (matched case-insensitively as substrings of words). */
    extraFrustrationPhrases: z.array(z.string().min(2).max(100)).max(100).default([]),
  })
  .refine((c) => c.mildAt < c.strugglingAt, { message: "mildAt must be below strugglingAt", path: ["mildAt"] });
export type StruggleConfig = z.output<typeof struggleConfigSchema>;

export type StruggleLevel = "none" | "mild" | "struggling";
export type StruggleReasonCode = "repetition" | "frustration" | "idle-gaps" | "short-turns";

/** One contributing signal, teacher-facing, never quoting the student. */
export interface StruggleReason {
  code: StruggleReasonCode;
  /** This signal's strength, 0..1, before weighting. */
  strength: number;
  detail: string;
}

/** A per-session struggle signal. */
export interface StruggleSignal {
  score: number;
  level: StruggleLevel;
  reasons: StruggleReason[];
}

const FRUSTRATION_PATTERNS: RegExp[] = [
  /\bi (?:still )?(?:do ?n'?t|dont|do not|don't) (?:get|understand) (?:it|this|that|any of this)?/,
  /\bi (?:still )?(?:do ?n'?t|dont|do not) understand\b/,
  /\b(?:this|that|it) (?:is|s) (?:so )?(?:stupid|dumb|pointless|impossible|too hard)\b/,
  /\bi give up\b/,
  /\bi (?:can ?not|can'?t|cant) do (?:this|it)\b/,
  /\bi(?:'?m| am) (?:so |really |completely )?(?:confused|lost|stuck)\b/,
  /\bmakes? no sense\b/,
  /\bi hate (?:this|math|maths|it)\b/,
  /\b(?:still )?(?:no idea|idk|wtf|ugh+)\b/,
  /\bwhat\?{2,}/,
  // A message that is nothing but question marks, or a run of three.
  /^\s*\?+\s*$|\?{3,}/,
  /\bhuh\s*\?/,
  /\b(?:still )?not getting it\b/,
  /\bthat doesn'?t help\b/,
];

function lowerForPhrases(text: string): string {
  return text.toLowerCase().replace(/[’]/g, "'");
}

/** What scoring needs of one message's text, worked out once (see `factsOf`). */
export interface StruggleTextFacts {
  features: SimilarityFeatures;
  /** The text as the frustration phrases are matched against it. */
  lower: string;
  /** Whether a built-in frustration pattern matches (a school's extra phrases are checked per config). */
  frustrated: boolean;
  /** Similarity to messages this one was compared with (as the later message of the pair). */
  similar: WeakMap<StruggleTextFacts, number>;
}

// A student's recent messages are scored again on every turn, twice (without and with the new
// message), so each text's facts and each pair's similarity are remembered per process, bounded;
// the first remembered is the first dropped. Longer texts are worked out per call.
const MEMO_TEXTS = 2000;
const MEMO_MAX_CHARS = 1000;
const memo = new Map<string, StruggleTextFacts>();

function factsOf(text: string, local: Map<string, StruggleTextFacts>): StruggleTextFacts {
  const store = text.length <= MEMO_MAX_CHARS ? memo : local;
  let facts = store.get(text);
  if (!facts) {
    const lower = lowerForPhrases(text);
    facts = { features: similarityFeatures(text), lower, frustrated: FRUSTRATION_PATTERNS.some((re) => re.test(lower)), similar: new WeakMap() };
    store.set(text, facts);
    if (store === memo && memo.size > MEMO_TEXTS) {
      const oldest = memo.keys().next();
      if (!oldest.done) memo.delete(oldest.value);
    }
  }
  return facts;
}

function similarity(later: StruggleTextFacts, earlier: StruggleTextFacts): number {
  let s = later.similar.get(earlier);
  if (s === undefined) {
    s = featureSimilarity(later.features, earlier.features);
    later.similar.set(earlier, s);
  }
  return s;
}

function isFrustrated(facts: StruggleTextFacts, extra: readonly string[]): boolean {
  return facts.frustrated || extra.some((p) => facts.lower.includes(p.toLowerCase()));
}

// Weights of a noisy-OR: score = 1 − Π(1 − weight × strength). One strong signal alone reaches
// `mild`; it takes two kinds of evidence (or a strong repeat/frustration) to reach `struggling`.
const WEIGHTS: Record<StruggleReasonCode, number> = {
  repetition: 0.6,
  frustration: 0.6,
  "idle-gaps": 0.3,
  "short-turns": 0.3,
};

function times(n: number): string {
  return n === 1 ? "once" : n === 2 ? "twice" : `${n} times`;
}

/**
 * Scores how much a student seems to be struggling from their latest messages (oldest first):
 * near-duplicate questions, frustration phrases, long idle gaps between messages and runs of
 * very short turns.
 */
export function scoreStruggle(
  messages: readonly HistoryMessage[],
  config: StruggleConfig,
  /** Facts of texts too long to remember per process, shared by calls that score overlapping windows (a turn scores two). */
  local: Map<string, StruggleTextFacts> = new Map(),
): StruggleSignal {
  const window = [...messages].sort((a, b) => a.at.getTime() - b.at.getTime()).slice(-config.windowSize);
  const reasons: StruggleReason[] = [];

  // A message "repeats" when it closely matches any earlier substantive message in the window.
  const windowFacts = window.map((m) => factsOf(m.text, local));
  const substantive = windowFacts.map(({ features: f }) => f.tokenCount >= 2 && f.normalized.length >= 8);
  let repeats = 0;
  windowFacts.forEach((f, i) => {
    if (!substantive[i]) return;
    for (let j = 0; j < i; j++) {
      const earlier = windowFacts[j];
      if (earlier && substantive[j] && similarity(f, earlier) >= config.similarityThreshold) {
        repeats++;
        return;
      }
    }
  });
  if (repeats > 0) {
    reasons.push({ code: "repetition", strength: Math.min(1, repeats / 2), detail: `Asked nearly the same question again ${times(repeats)}` });
  }

  const frustrated = windowFacts.filter((f) => isFrustrated(f, config.extraFrustrationPhrases)).length;
  if (frustrated > 0) {
    reasons.push({ code: "frustration", strength: Math.min(1, frustrated / 2), detail: `Expressed frustration or confusion ${times(frustrated)}` });
  }

  let idle = 0;
  let longestMinutes = 0;
  for (let i = 1; i < window.length; i++) {
    const prev = window[i - 1];
    const cur = window[i];
    if (!prev || !cur) continue;
    const minutes = (cur.at.getTime() - prev.at.getTime()) / 60_000;
    if (minutes > config.idleMinutes) {
      idle++;
      longestMinutes = Math.max(longestMinutes, minutes);
    }
  }
  if (idle > 0) {
    reasons.push({
      code: "idle-gaps",
      strength: Math.min(1, idle / 2),
      detail: `Went quiet for more than ${config.idleMinutes} minutes ${times(idle)} (longest ${Math.round(longestMinutes)} min)`,
    });
  }

  const short = window.filter((m) => m.text.trim().length <= config.shortTurnMaxChars).length;
  if (short >= 3 && short / window.length >= 0.5) {
    reasons.push({ code: "short-turns", strength: Math.min(1, (short - 2) / 3), detail: `${short} of the last ${window.length} messages were very short` });
  }

  const score = 1 - reasons.reduce((acc, r) => acc * (1 - WEIGHTS[r.code] * r.strength), 1);
  const rounded = Math.round(score * 1000) / 1000;
  const level: StruggleLevel = rounded >= config.strugglingAt ? "struggling" : rounded >= config.mildAt ? "mild" : "none";
  return { score: rounded, level, reasons };
}

const LEVEL_SEVERITY: Record<StruggleLevel, Severity> = { none: "info", mild: "low", struggling: "medium" };

function finding(signal: StruggleSignal, previous: StruggleLevel, phase: "turn" | "session-end"): Finding {
  const crossed = phase === "turn" && signal.level === "struggling" && previous !== "struggling";
  const summary = signal.reasons.map((r) => r.detail.charAt(0).toLowerCase() + r.detail.slice(1)).join("; ");
  const headline =
    signal.level === "struggling"
      ? "Student may be struggling"
      : signal.level === "mild"
        ? "Student shows some signs of difficulty"
        : "Student no longer shows signs of struggling";
  return {
    module: STRUGGLE_DETECTOR_ID,
    kind: "struggle",
    severity: LEVEL_SEVERITY[signal.level],
    isAlert: crossed,
    message: summary ? `${headline}: ${summary}.` : `${headline}.`,
    data: { score: signal.score, level: signal.level, previousLevel: previous, reasons: signal.reasons, phase },
  };
}

function history(ctx: ModuleContext<StruggleConfig>): HistoryMessage[] {
  return ctx.recentStudentMessages;
}

/**
 * Emits a `struggle` finding on a student message only when the level changes (so the
 * extractions table gets transitions, not a row per message), alerting when it crosses into
 * `struggling`. At session end it emits the final signal if it is not `none`.
 */
export const struggleDetector: ContentModule<typeof struggleConfigSchema> = {
  id: STRUGGLE_DETECTOR_ID,
  description: "Notices when a student keeps asking the same thing, gets frustrated or stalls.",
  configSchema: struggleConfigSchema,
  beforeGateway(ctx, text) {
    const local = new Map<string, StruggleTextFacts>();
    const before = scoreStruggle(history(ctx), ctx.config, local);
    const after = scoreStruggle([...history(ctx), { text, at: ctx.now }], ctx.config, local);
    const findings = after.level === before.level ? [] : [finding(after, before.level, "turn")];
    return { action: "allow", text, findings };
  },
  onSessionEnd(ctx) {
    const signal = scoreStruggle(history(ctx), ctx.config);
    return signal.level === "none" ? [] : [finding(signal, signal.level, "session-end")];
  },
};
