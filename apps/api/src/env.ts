import { parseClusterNodes } from "@raptscallions/bus";
import { z } from "zod";

import { DEFAULT_TURN_SLICE_MS } from "./lib/cpu-slices.ts";
import { isRosterKey } from "./lib/roster-credentials.ts";

const optionalUrl = z.preprocess((v) => (v === "" ? undefined : v), z.url().optional());
const optionalString = z.preprocess((v) => (v === "" ? undefined : v), z.string().min(1).optional());
/**
 * A PEM public key. Many secret stores keep values on one line, so `\n` escapes (and `\r\n`,
 * and surrounding quotes copied from a .env file) are turned back into the line breaks PEM needs.
 */
const pemPublicKey = z.preprocess(
  (v) => (typeof v === "string" && v.trim() !== "" ? normalisePem(v) : undefined),
  z
    .string()
    .regex(/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PUBLIC KEY-----$/, "must be a PEM public key (-----BEGIN PUBLIC KEY----- …)")
    .optional(),
);

function normalisePem(value: string): string {
  let pem = value.trim();
  if ((pem.startsWith('"') && pem.endsWith('"')) || (pem.startsWith("'") && pem.endsWith("'"))) pem = pem.slice(1, -1).trim();
  return pem
    .replaceAll("\\r\\n", "\n")
    .replaceAll("\\n", "\n")
    .replaceAll("\r\n", "\n")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .join("\n");
}
// `host:port,host:port` → cluster nodes; unset or empty → none (single Redis or in-process).
const clusterNodes = z.preprocess(
  (v) => (v === "" ? undefined : v),
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return undefined;
      try {
        return parseClusterNodes(v);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: `must be host:port,host:port (${error instanceof Error ? error.message : "invalid"})` });
        return z.NEVER;
      }
    }),
);
const boolish = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .optional()
  .transform((v) => v === "true" || v === "1" || v === "yes");
const list = z
  .string()
  .optional()
  .transform((v) =>
    v
      ? v
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
  );

/**
 * Every variable the server reads, parsed once at start-up. Unset means the embedded default
 * (see README): no DATABASE_URL → PGlite in DATA_DIR, no REDIS_URL → in-process bus, no S3_* →
 * a directory, no AI_GATEWAY_URL → the built-in dev model, no CLERK_* → dev auth.
 */
export const envSchema = z
  .object({
    NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().default("0.0.0.0"),
    LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
    INSTANCE_ID: optionalString,
    JOBS_NAMESPACE: optionalString,
    DATA_DIR: z.string().default("./.data"),
    DATABASE_URL: optionalUrl,
    // The tables' owner, for migrations only; unset: DATABASE_URL's role migrates (and must own them).
    DATABASE_MIGRATION_URL: optionalUrl,
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    // 0 switches a limit off. The embedded database honours the statement limit only (a watchdog).
    DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(15_000),
    DATABASE_LOCK_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
    DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
    // Unset: seed an empty embedded database only; true/false: seed an empty one of either kind, or never.
    SEED_ON_EMPTY: z.preprocess(
      (v) => (v === "" ? undefined : v),
      z
        .enum(["true", "false"])
        .optional()
        .transform((v) => (v === undefined ? undefined : v === "true")),
    ),
    REDIS_URL: optionalUrl,
    // Redis Cluster instead of one Redis (see README): some nodes, the rest are discovered.
    REDIS_CLUSTER_NODES: clusterNodes,
    REDIS_CLUSTER_USERNAME: optionalString,
    REDIS_CLUSTER_PASSWORD: optionalString,
    S3_ENDPOINT: optionalUrl,
    S3_BUCKET: optionalString,
    S3_REGION: z.string().default("us-east-1"),
    S3_ACCESS_KEY_ID: optionalString,
    S3_SECRET_ACCESS_KEY: optionalString,
    S3_FORCE_PATH_STYLE: boolish,
    S3_CREATE_BUCKET: boolish,
    AI_GATEWAY_URL: optionalUrl,
    AI_API_KEY: optionalString,
    AI_DEFAULT_MODEL: z.string().default("dev-tutor"),
    AI_DEV_TOKENS_PER_SECOND: z.coerce.number().positive().max(100_000).default(40),
    AI_FIRST_TOKEN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(20_000),
    AI_IDLE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
    AI_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
    CLERK_SECRET_KEY: optionalString,
    CLERK_PUBLISHABLE_KEY: optionalString,
    CLERK_JWT_KEY: pemPublicKey,
    CLERK_AUTHORIZED_PARTIES: list,
    CLERK_WEBHOOK_SIGNING_SECRET: optionalString.refine((v) => v === undefined || v.startsWith("whsec_"), {
      message: "must start with whsec_",
    }),
    CLERK_ROLE_MAP: optionalString,
    CLERK_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
    CORS_ORIGINS: list,
    BODY_LIMIT_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(100 * 1024 * 1024)
      .default(1024 * 1024),
    UPLOAD_LIMIT_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(100 * 1024 * 1024)
      .default(2 * 1024 * 1024),
    METRICS_TOKEN: optionalString,
    LIVE_REPLAY_LIMIT: z.coerce.number().int().min(100).max(100_000).default(2000),
    LIVE_COALESCE_MS: z.coerce.number().int().min(0).max(1000).default(40),
    LIVE_COALESCE_GRID_MS: z.coerce.number().int().min(0).max(1000).default(5),
    LIVE_STALE_AFTER_MS: z.coerce.number().int().min(500).max(3_600_000).default(30_000),
    LIVE_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
    LIVE_HEARTBEAT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
    LIVE_PRESENCE_TTL_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
    LIVE_ACCESS_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
    LIVE_FEED_LINGER_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
    LIVE_TURN_SLICE_MS: z.coerce.number().int().min(0).max(1000).default(DEFAULT_TURN_SLICE_MS),
    LIVE_VIEW_AUDIT_FLUSH_MS: z.coerce.number().int().min(10).max(10_000).default(250),
    LIVE_MAX_BUFFERED_BYTES: z.coerce
      .number()
      .int()
      .min(16 * 1024)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
    // A full collection once the process is quiet after growing (lib/memory-reducer.ts); 0: off.
    MEMORY_REDUCER_QUIET_MS: z.coerce.number().int().min(0).max(600_000).default(1_000),
    // …after RSS grew by this share of the JavaScript heap's blocks, at least MEMORY_REDUCER_GROWTH_MB.
    MEMORY_REDUCER_GROWTH_MB: z.coerce.number().int().min(1).max(65_536).default(2),
    MEMORY_REDUCER_GROWTH_PERCENT: z.coerce.number().min(0).max(1_000).default(6),
    // A young-generation collection whenever the heap took this many KB of new blocks (0: off).
    MEMORY_REDUCER_YOUNG_KB: z.coerce.number().int().min(0).max(1_048_576).default(1024),
    // Unset: message contents are kept unless a group sets settings.retention.days.
    RETENTION_DAYS: z.preprocess((v) => (v === "" ? undefined : v), z.coerce.number().int().min(1).max(36_500).optional()),
    // An under-13 student's records are never kept longer than this (groups: settings.privacy.under13RetentionDays).
    RETENTION_UNDER13_DAYS: z.coerce.number().int().min(1).max(36_500).default(90),
    RETENTION_MODE: z
      .enum(["anonymise", "anonymize", "delete"])
      .default("anonymise")
      .transform((v) => (v === "delete" ? "delete" : "anonymise")),
    RETENTION_INTERVAL_MS: z.coerce
      .number()
      .int()
      .min(1000)
      .max(7 * 86_400_000)
      .default(3_600_000),
    // Unset: alert emails are rendered, logged and kept in the dev outbox (GET /api/notifications/outbox).
    SMTP_URL: z.preprocess((v) => (v === "" ? undefined : v), z.url({ protocol: /^smtps?$/ }).optional()),
    MAIL_FROM: z.string().min(3).max(320).default("raptscallions <alerts@localhost>"),
    // Open SMTP connections per instance (pooled: an alert mail does not wait for connect + EHLO).
    SMTP_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(5),
    // Where the console is reached from outside, for links in emails.
    PUBLIC_URL: optionalUrl,
    NOTIFY_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(500),
    NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6),
    NOTIFY_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
    // Teacher insights (docs/insights.md): the summary job's pace, the attention list's thresholds.
    SUMMARY_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(3_000),
    SUMMARY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
    ATTENTION_STUCK_AFTER_SECONDS: z.coerce.number().int().min(5).max(3_600).default(60),
    ATTENTION_SILENT_AFTER_SECONDS: z.coerce.number().int().min(30).max(86_400).default(300),
    ATTENTION_DEBOUNCE_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
    // Unset: a public development key encrypts roster connection secrets (never in production).
    ROSTER_CREDENTIALS_KEY: optionalString.refine((v) => v === undefined || isRosterKey(v), "must be 32 random bytes, base64-encoded"),
    // Keys that encrypted secrets before the current one (comma-separated): they still decrypt.
    ROSTER_CREDENTIALS_PREVIOUS_KEYS: z
      .string()
      .default("")
      .transform((v) =>
        v
          .split(",")
          .map((k) => k.trim())
          .filter(Boolean),
      )
      .refine((keys) => keys.every(isRosterKey), "each key must be 32 random bytes, base64-encoded"),
    ROSTER_UPLOAD_LIMIT_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024 * 1024)
      .default(50 * 1024 * 1024),
    ROSTER_POLL_INTERVAL_MS: z.coerce.number().int().min(1000).max(86_400_000).default(60_000),
  })
  .superRefine((env, ctx) => {
    if (env.REDIS_URL && env.REDIS_CLUSTER_NODES) {
      ctx.addIssue({ code: "custom", path: ["REDIS_CLUSTER_NODES"], message: "set either REDIS_URL or REDIS_CLUSTER_NODES, not both" });
    }
  });

export type Env = z.infer<typeof envSchema>;

/** Parses the environment or returns the list of bad keys with reasons. */
export function parseEnv(source: Record<string, string | undefined>): { ok: true; env: Env } | { ok: false; problems: string[] } {
  const result = envSchema.safeParse(source);
  if (result.success) return { ok: true, env: result.data };
  return {
    ok: false,
    problems: result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`),
  };
}
