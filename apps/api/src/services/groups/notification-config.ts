import { ValidationError } from "@raptscallions/core";
import { type DbOrTx, groups, SEVERITIES } from "@raptscallions/db";
import { asc, sql } from "drizzle-orm";
import { z } from "zod";
import type { Logger } from "../../lib/logger.ts";

/** Who a rule sends to: the class's teachers, the safety config's escalation list, the safeguarding list. */
export const AUDIENCES = ["teachers", "escalation", "safeguarding"] as const;
export type Audience = (typeof AUDIENCES)[number];
export type Severity = (typeof SEVERITIES)[number];

const severity = z.enum(SEVERITIES);
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM (24 h)");
const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, "must be an IANA time zone such as Europe/London");
const audiences = z.array(z.enum(AUDIENCES)).min(1).max(3);

/**
 * One group's `settings.notifications`. Every key is optional: a group sets only what differs
 * from its parent, and each key set here replaces the inherited value whole (lists are not merged,
 * so a school can narrow a district's list).
 */
export const notificationLayerSchema = z
  .object({
    /** The group's local time zone: quiet hours are read in it. */
    timeZone: timeZone.optional(),
    /** Non-critical alert notifications wait until `end`; critical alerts are never held. */
    quietHours: z.object({ start: clockTime, end: clockTime }).strict().nullable().optional(),
    /** Alerts at or above `minSeverity` are emailed to `to`. */
    email: z
      .object({ enabled: z.boolean().default(true), minSeverity: severity.default("high"), to: audiences.default(["teachers", "escalation"]) })
      .strict()
      .optional(),
    /** The district's (or school's) safeguarding team. */
    safeguardingList: z.array(z.email().max(320)).max(50).optional(),
    /** Signed outbound webhooks (Standard Webhooks, verifiable with `svix`). */
    webhooks: z
      .array(
        z
          .object({
            url: z.url({ protocol: /^https?$/ }).max(2000),
            secret: z.string().regex(/^whsec_[A-Za-z0-9+/=]{16,200}$/, "must be whsec_ followed by base64"),
            minSeverity: severity.default("high"),
          })
          .strict(),
      )
      .max(5)
      .optional(),
    /** Unacknowledged alerts at or above `minSeverity` go to the next step's audiences after `afterMinutes` each. */
    escalation: z
      .object({
        minSeverity: severity.default("critical"),
        afterMinutes: z
          .number()
          .min(0.01)
          .max(24 * 60)
          .default(15),
        steps: z
          .array(audiences)
          .min(1)
          .max(5)
          .default([["escalation"], ["safeguarding"]]),
      })
      .strict()
      .nullable()
      .optional(),
    /** Opt-in: alert emails carry a PII-redacted excerpt of the message. Off: no chat text in email. */
    includeExcerpt: z.boolean().optional(),
    /**
     * The daily digest to each teacher: findings at or above `minSeverity` that were not mailed on
     * their own (struggle signals among them), sent at `hour` local time when there is any.
     */
    digest: z
      .object({
        enabled: z.boolean().default(true),
        hour: z.number().int().min(0).max(23).default(16),
        minSeverity: severity.default("low"),
      })
      .strict()
      .optional(),
  })
  .strict();

export type NotificationLayer = z.infer<typeof notificationLayerSchema>;

/** The effective configuration of one group after inheritance, with defaults filled in. */
export interface NotificationConfig {
  timeZone: string;
  quietHours: { start: string; end: string } | null;
  email: { enabled: boolean; minSeverity: Severity; to: Audience[] };
  safeguardingList: string[];
  webhooks: { url: string; secret: string; minSeverity: Severity }[];
  escalation: { minSeverity: Severity; afterMinutes: number; steps: Audience[][] } | null;
  includeExcerpt: boolean;
  digest: { enabled: boolean; hour: number; minSeverity: Severity };
}

export const DEFAULT_NOTIFICATION_CONFIG: NotificationConfig = {
  timeZone: "UTC",
  quietHours: null,
  email: { enabled: true, minSeverity: "high", to: ["teachers", "escalation"] },
  safeguardingList: [],
  webhooks: [],
  escalation: { minSeverity: "critical", afterMinutes: 15, steps: [["escalation"], ["safeguarding"]] },
  includeExcerpt: false,
  digest: { enabled: true, hour: 16, minSeverity: "low" },
};

/** Checks `settings.notifications` when an admin saves a group: a bad layer is a 422 now. */
export function assertValidNotificationSettings(layer: unknown, opts: { allowRedacted?: boolean } = {}): void {
  // Before the stored secrets are at hand, a redacted marker stands for "unchanged"; the write
  // itself checks again once they are restored.
  const checked = opts.allowRedacted ? restoreNotificationSecrets({ notifications: layer }, {}, PLACEHOLDER_SECRET)?.notifications : layer;
  const parsed = notificationLayerSchema.safeParse(checked);
  if (!parsed.success) {
    throw new ValidationError(
      "Invalid notification settings",
      parsed.error.issues.map((i) => ({ path: ["settings", "notifications", ...i.path.map(String)].join("."), message: i.message })),
    );
  }
}

/**
 * Folds layers (root first) into one configuration. A stored layer that no longer parses is
 * skipped and logged rather than silencing every alert under that group.
 */
export function resolveNotificationConfig(layers: { id: string; layer: unknown }[], logger?: Logger): NotificationConfig {
  const config: NotificationConfig = structuredClone(DEFAULT_NOTIFICATION_CONFIG);
  for (const { id, layer } of layers) {
    if (layer === undefined || layer === null) continue;
    const parsed = notificationLayerSchema.safeParse(layer);
    if (!parsed.success) {
      logger?.error("invalid notification settings ignored", { groupId: id });
      continue;
    }
    const l = parsed.data;
    if (l.timeZone !== undefined) config.timeZone = l.timeZone;
    if (l.quietHours !== undefined) config.quietHours = l.quietHours;
    if (l.email !== undefined) config.email = l.email;
    if (l.safeguardingList !== undefined) config.safeguardingList = l.safeguardingList;
    if (l.webhooks !== undefined) config.webhooks = l.webhooks;
    if (l.escalation !== undefined) config.escalation = l.escalation;
    if (l.includeExcerpt !== undefined) config.includeExcerpt = l.includeExcerpt;
    if (l.digest !== undefined) config.digest = l.digest;
  }
  return config;
}

/** The group's effective notification configuration: root → … → the group, like module settings. */
export async function loadNotificationConfig(db: DbOrTx, groupId: string, logger?: Logger): Promise<NotificationConfig> {
  const chain = await db
    .select({ id: groups.id, settings: groups.settings })
    .from(groups)
    .where(sql`${groups.path} @> (select g.path from ${groups} g where g.id = ${groupId})`)
    .orderBy(asc(sql`nlevel(${groups.path})`));
  return resolveNotificationConfig(
    chain.map((g) => ({ id: g.id, layer: g.settings.notifications })),
    logger,
  );
}

export function atLeast(value: Severity, min: Severity): boolean {
  return SEVERITIES.indexOf(value) >= SEVERITIES.indexOf(min);
}

const PLACEHOLDER_SECRET = "whsec_cGxhY2Vob2xkZXJwbGFjZWhvbGRlcg==";

/** What group settings show instead of a webhook's secret. */
export const REDACTED_SECRET = "whsec_********";

function webhooksOf(settings: Record<string, unknown> | undefined): Record<string, unknown>[] | null {
  const n = settings?.notifications;
  if (typeof n !== "object" || n === null || !("webhooks" in n) || !Array.isArray(n.webhooks)) return null;
  return n.webhooks.filter((w): w is Record<string, unknown> => typeof w === "object" && w !== null);
}

/** Group settings as the API shows them: webhook secrets replaced by {@link REDACTED_SECRET}. */
export function redactNotificationSecrets(settings: Record<string, unknown>): Record<string, unknown> {
  if (!webhooksOf(settings)) return settings;
  const copy = structuredClone(settings);
  for (const hook of webhooksOf(copy) ?? []) if ("secret" in hook) hook.secret = REDACTED_SECRET;
  return copy;
}

/**
 * Settings read, edited and saved back carry the redacted marker: it keeps the stored secret of
 * the webhook with the same URL. A marker with no such webhook stays, and fails validation.
 */
export function restoreNotificationSecrets(
  next: Record<string, unknown> | undefined,
  stored: Record<string, unknown>,
  fallback?: string,
): Record<string, unknown> | undefined {
  const hooks = webhooksOf(next);
  if (!next || !hooks?.some((h) => h.secret === REDACTED_SECRET)) return next;
  const copy = structuredClone(next);
  const old = webhooksOf(stored) ?? [];
  for (const hook of webhooksOf(copy) ?? []) {
    if (hook.secret !== REDACTED_SECRET) continue;
    const match = old.find((o) => o.url === hook.url && typeof o.secret === "string");
    if (match) hook.secret = match.secret;
    else if (fallback) hook.secret = fallback;
  }
  return copy;
}
