/**
 * Where a crisis message's time goes, per sample, for the alerts bench. Every stamp is epoch ms on
 * this machine's clock (the bench and the API instances share it): the REST answer and the
 * deliveries' arrival are stamped in the bench; the alert's class-room event carries the publishing
 * instance's `at` (taken right after the alert's transaction committed); the dispatchers' claim and
 * send start come from their `notification sent` log lines (LOG_LEVEL=info).
 */
import { readFileSync } from "node:fs";
import { percentile } from "../live/clients.ts";

/** One sample's stamps; a stage the run could not see stays undefined. */
export interface SampleStamps {
  sentAt: number;
  restAt?: number;
  /** The class-room `alert` event's `at`: published after the alert committed. */
  alertPublishedAt?: number;
  hook: { claimedAt?: number; startedAt?: number; receivedAt?: number };
  mail: { claimedAt?: number; startedAt?: number; connectedAt?: number; mailFromAt?: number; acceptedAt?: number };
}

export interface DispatchStamp {
  deliveryId: string;
  channel: string;
  claimedAt: number;
  startedAt: number;
}

/** The `notification sent` lines of the instances' logs, by delivery id. */
export function readDispatchStamps(logFiles: string[]): Map<string, DispatchStamp> {
  const out = new Map<string, DispatchStamp>();
  for (const file of logFiles) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      if (!line.includes('"notification sent"')) continue;
      try {
        const l = JSON.parse(line) as Record<string, unknown>;
        if (typeof l.deliveryId !== "string" || typeof l.claimedAt !== "string" || typeof l.startedAt !== "string") continue;
        out.set(l.deliveryId, { deliveryId: l.deliveryId, channel: String(l.channel), claimedAt: Date.parse(l.claimedAt), startedAt: Date.parse(l.startedAt) });
      } catch {
        // not a log line
      }
    }
  }
  return out;
}

type Stage = { name: string; of: (s: SampleStamps) => number | undefined; after?: string };
/** In order; each step is measured from `after` (default: the stage before it; none: since sent). */
const STAGES: Stage[] = [
  { name: "alert committed (class-room event published)", of: (s) => s.alertPublishedAt, after: "" },
  { name: "REST 201 received", of: (s) => s.restAt, after: "" },
  { name: "webhook row claimed", of: (s) => s.hook.claimedAt, after: "alert committed (class-room event published)" },
  { name: "webhook send started", of: (s) => s.hook.startedAt },
  { name: "webhook verified by the endpoint", of: (s) => s.hook.receivedAt },
  { name: "mail row claimed", of: (s) => s.mail.claimedAt, after: "alert committed (class-room event published)" },
  { name: "mail send started", of: (s) => s.mail.startedAt },
  { name: "SMTP connection opened (for this mail or reused)", of: (s) => s.mail.connectedAt },
  { name: "SMTP MAIL FROM", of: (s) => s.mail.mailFromAt },
  { name: "SMTP accepted (DATA done)", of: (s) => s.mail.acceptedAt },
];

/**
 * Lines of a table: each stage's p50/p99 since the message was sent, and the p50/p99 of the step
 * from the stage before it in the same sample (n = samples that saw both stamps).
 */
export function stageTable(samples: SampleStamps[]): string[] {
  const fmt = (xs: number[], q: number) => (xs.length === 0 ? "  n/a" : percentile(xs, q).toFixed(0).padStart(5));
  const lines = [`${"stage".padEnd(50)}  since sent: p50   p99 |  step: p50   p99 (n)`];
  STAGES.forEach((stage, i) => {
    const prevName = stage.after ?? STAGES[i - 1]?.name ?? "";
    const prev = STAGES.find((x) => x.name === prevName);
    const since: number[] = [];
    const step: number[] = [];
    for (const s of samples) {
      const t = stage.of(s);
      if (t === undefined || !Number.isFinite(t) || t === 0) continue;
      since.push(t - s.sentAt);
      const p = prev ? prev.of(s) : s.sentAt;
      if (p !== undefined && Number.isFinite(p) && p !== 0) step.push(t - p);
    }
    lines.push(`${stage.name.padEnd(50)}  ${fmt(since, 0.5)} ${fmt(since, 0.99)} |  ${fmt(step, 0.5)} ${fmt(step, 0.99)} (${since.length})`);
  });
  return lines;
}
