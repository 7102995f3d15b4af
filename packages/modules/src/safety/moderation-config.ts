import { z } from "zod";

/**
 * How the moderation stage reaches its model through the gateway: an OpenAI-compatible
 * `POST /moderations` endpoint, or a guard model (Llama Guard style) asked through
 * `/chat/completions` that answers "safe" or "unsafe\nS11".
 */
export const MODERATION_MODES = ["moderations", "chat-guard"] as const;
export type ModerationMode = (typeof MODERATION_MODES)[number];

export const DEFAULT_HOLD_REPLY =
  "I couldn't check your message just now, so I haven't sent it on yet. Please try again in a " +
  "moment. If something is worrying you, talk to your teacher or another adult you trust.";

const score = z.number().min(0).max(1);

/** Scores from the model at or above `alert` raise an alert; at or above `block` the turn is blocked. */
const thresholdSchema = z
  .strictObject({ alert: score.default(0.5), block: score.default(0.8) })
  .refine((t) => t.alert <= t.block, { message: "alert must not be above block" });

export const moderationConfigSchema = z.strictObject({
  /** Off by default: a group (or tool) turns it on and names its model. */
  enabled: z.boolean().default(false),
  /** The moderation model, as the gateway names it (e.g. `omni-moderation-latest`, `meta-llama/llama-guard-3-8b`). */
  model: z.string().min(1).max(200).default("dev-moderation"),
  mode: z.enum(MODERATION_MODES).default("moderations"),
  /** Longest the student waits for the model before the fail-safe policy applies. */
  budgetMs: z.number().int().min(50).max(10_000).default(1500),
  /**
   * When the model times out or errors: `false` lets the rules' verdict stand (the turn is
   * flagged `moderation-unavailable` for teachers); `true` also holds the message (no provider call).
   */
  failClosed: z.boolean().default(false),
  /** Reply to a held message. */
  holdReply: z.string().min(1).max(2000).default(DEFAULT_HOLD_REPLY),
  thresholds: z
    .strictObject({
      "self-harm": thresholdSchema.prefault({}),
      "eating-disorder": thresholdSchema.prefault({}),
      violence: thresholdSchema.prefault({}),
      abuse: thresholdSchema.prefault({}),
      grooming: thresholdSchema.prefault({}),
      sexual: thresholdSchema.prefault({}),
      bullying: thresholdSchema.prefault({}),
    })
    .prefault({}),
});
export type ModerationConfig = z.output<typeof moderationConfigSchema>;
