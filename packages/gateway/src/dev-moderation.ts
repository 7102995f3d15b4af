import type { Hono } from "hono";
import { z } from "zod";
import type { Clock } from "./clock.ts";

/*
 * The dev model's moderation: a deterministic TEST DOUBLE, not a classifier. It flags nothing by
 * itself; it obeys marker words in the text so tests (and a developer at the console) can drive
 * every branch of the moderation stage:
 *
 *   [mod:self-harm]         flag that category with score 0.99 (any key below, or our own ids)
 *   [mod:violence=0.6]      that category with the given score (thresholds decide)
 *   [mod:slow]              answer only after 30 s (or never, once the caller gives up): a timeout
 *   [mod:error]             HTTP 500
 *   [mod:malformed]         HTTP 200 with a body that is not a moderation result
 *
 * Text without markers is clean (every score 0.01). `POST /moderations` answers OpenAI's shape
 * for model `dev-moderation`; the chat model `dev-guard` answers Llama Guard style ("safe", or
 * "unsafe" and a line of S-codes) from the same markers.
 */

export const DEV_MODERATION_MODEL = "dev-moderation";

/** OpenAI's moderation categories, in the order its API lists them. */
export const OPENAI_MODERATION_CATEGORIES = [
  "harassment",
  "harassment/threatening",
  "hate",
  "hate/threatening",
  "illicit",
  "illicit/violent",
  "self-harm",
  "self-harm/intent",
  "self-harm/instructions",
  "sexual",
  "sexual/minors",
  "violence",
  "violence/graphic",
] as const;

/** Llama Guard 3 hazard codes and the OpenAI-style category each stands for (unmapped ones keep their code). */
export const GUARD_CODES: Record<string, string> = {
  S1: "violence",
  S2: "illicit",
  S3: "sexual",
  S4: "sexual/minors",
  S5: "guard/defamation",
  S6: "guard/specialized-advice",
  S7: "guard/privacy",
  S8: "guard/intellectual-property",
  S9: "violence",
  S10: "hate",
  S11: "self-harm",
  S12: "sexual",
  S13: "guard/elections",
  S14: "guard/code-interpreter-abuse",
};

// Our own categories, accepted as markers so tests can reach the ones OpenAI has no name for.
const EXTRA_CATEGORIES = ["eating-disorder", "grooming", "abuse", "bullying"] as const;
const GUARD_FOR: Record<string, string> = {
  violence: "S1",
  "violence/graphic": "S1",
  illicit: "S2",
  "illicit/violent": "S2",
  sexual: "S12",
  "sexual/minors": "S4",
  grooming: "S4",
  abuse: "S1",
  hate: "S10",
  "hate/threatening": "S10",
  harassment: "S10",
  "harassment/threatening": "S10",
  bullying: "S10",
  "self-harm": "S11",
  "self-harm/intent": "S11",
  "self-harm/instructions": "S11",
  "eating-disorder": "S11",
};

/** What the markers in a text ask the double to do. */
export interface DevModerationScript {
  behaviour: "answer" | "slow" | "error" | "malformed";
  scores: Record<string, number>;
}

const MARKER = /\[mod:([a-z/_-]+)(?:=(0(?:\.\d+)?|1(?:\.0+)?))?\]/gi;
const KNOWN = new Set<string>([...OPENAI_MODERATION_CATEGORIES, ...EXTRA_CATEGORIES]);

/** Reads the markers of a text (see the comment at the top of this file). */
export function devModerationScript(text: string): DevModerationScript {
  const script: DevModerationScript = { behaviour: "answer", scores: {} };
  for (const m of text.matchAll(MARKER)) {
    const name = (m[1] ?? "").toLowerCase();
    if (name === "slow" || name === "error" || name === "malformed") script.behaviour = name;
    else if (KNOWN.has(name)) script.scores[name] = m[2] === undefined ? 0.99 : Number(m[2]);
  }
  return script;
}

/** The `dev-guard` chat reply for a text: "safe", "unsafe\nS1,S11", or nonsense for `[mod:malformed]`. */
export function devGuardReply(script: DevModerationScript): string {
  if (script.behaviour === "malformed") return "I am not sure about that one.";
  const codes = [
    ...new Set(
      Object.entries(script.scores)
        .filter(([, s]) => s >= 0.5)
        .map(([k]) => GUARD_FOR[k] ?? "S1"),
    ),
  ];
  return codes.length === 0 ? "safe" : `unsafe\n${codes.join(",")}`;
}

/** Waits as `[mod:slow]` asks: 30 s, or until the caller goes away. */
export async function devModerationDelay(clock: Clock, signal: AbortSignal): Promise<void> {
  await clock.sleep(30_000, signal);
}

const bodySchema = z.object({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()).min(1)]),
});

/** Mounts `POST /moderations` on the dev model app. */
export function mountDevModeration(app: Hono, clock: Clock): void {
  app.post("/moderations", async (c) => {
    let json: unknown;
    try {
      json = JSON.parse(await c.req.text());
    } catch {
      return c.json({ error: { message: "We could not parse the JSON body of your request.", type: "invalid_request_error", param: null, code: null } }, 400);
    }
    const parsed = bodySchema.safeParse(json);
    if (!parsed.success) {
      return c.json({ error: { message: "Invalid request: expected { model, input }", type: "invalid_request_error", param: null, code: null } }, 400);
    }
    if (parsed.data.model !== DEV_MODERATION_MODEL) {
      return c.json(
        { error: { message: `The model \`${parsed.data.model}\` does not exist`, type: "invalid_request_error", param: "model", code: "model_not_found" } },
        404,
      );
    }
    const inputs = Array.isArray(parsed.data.input) ? parsed.data.input : [parsed.data.input];
    const scripts = inputs.map(devModerationScript);
    const behaviours = new Set(scripts.map((s) => s.behaviour));
    if (behaviours.has("slow")) {
      try {
        await devModerationDelay(clock, c.req.raw.signal);
      } catch {
        return new Response(null, { status: 499 });
      }
    }
    if (behaviours.has("error")) {
      return c.json({ error: { message: "dev-moderation: simulated failure", type: "server_error", param: null, code: null } }, 500);
    }
    if (behaviours.has("malformed")) return c.json({ id: "modr-dev", model: DEV_MODERATION_MODEL, outcome: "unknown" });
    return c.json({
      id: `modr-dev-${crypto.randomUUID()}`,
      model: DEV_MODERATION_MODEL,
      results: scripts.map((s) => {
        const names = [...OPENAI_MODERATION_CATEGORIES, ...Object.keys(s.scores).filter((k) => !(OPENAI_MODERATION_CATEGORIES as readonly string[]).includes(k))];
        const scores = Object.fromEntries(names.map((k) => [k, s.scores[k] ?? 0.01]));
        const categories = Object.fromEntries(names.map((k) => [k, (scores[k] ?? 0) >= 0.5]));
        return { flagged: Object.values(categories).some(Boolean), categories, category_scores: scores };
      }),
    });
  });
}
