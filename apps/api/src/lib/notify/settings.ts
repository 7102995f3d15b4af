import type { MailTransport } from "./mail.ts";
import type { WebhookFetch } from "./webhook.ts";

/** How this instance delivers notifications (parsed from the environment in server.ts). */
export interface NotificationSettings {
  mail: MailTransport;
  /** `From:` of every email. */
  from: string;
  /** The console's public origin, for links in emails (no trailing slash). */
  publicUrl: string;
  /** How often an idle dispatcher looks for due rows. */
  pollMs: number;
  /** Rows claimed per round (and sent concurrently). */
  batchSize: number;
  /** A claimed row not finished within this is retried by any dispatcher (the sender died). */
  leaseMs: number;
  /** Attempts before a row is dead-lettered. */
  maxAttempts: number;
  /** Wait after the n-th failure (the last value repeats), before jitter. */
  backoffMs: number[];
  webhookTimeoutMs: number;
  /** For tests: how webhooks reach the network. */
  fetch?: WebhookFetch | undefined;
}

export function defaultNotificationSettings(mail: MailTransport, overrides: Partial<NotificationSettings> = {}): NotificationSettings {
  return {
    mail,
    from: "raptscallions <alerts@localhost>",
    publicUrl: "http://localhost:3000",
    pollMs: 500,
    batchSize: 20,
    leaseMs: 60_000,
    maxAttempts: 6,
    backoffMs: [10_000, 60_000, 5 * 60_000, 15 * 60_000, 60 * 60_000],
    webhookTimeoutMs: 10_000,
    ...overrides,
  };
}
