import { extractions, type NotificationDeliveryRow, notificationAttempts, notificationDeliveries } from "@raptscallions/db";
import { and, eq, inArray, lt, lte, or, sql } from "drizzle-orm";
import type { Unsubscribe } from "@raptscallions/bus";
import type { AppDeps } from "../../deps.ts";
import { recordAudit } from "../audit/record.ts";
import type { SystemActor } from "../context.ts";
import { loadNotificationConfig } from "../groups/notification-config.ts";
import { cancelDeliveries, escalationStopReason } from "../alerts/escalation-stop.ts";
import { digestExcerpts } from "./digest.ts";
import { redactedExcerpt, renderMail } from "./render.ts";
import type { NotificationSettings } from "../../lib/notify/settings.ts";
import { postWebhook } from "../../lib/notify/webhook.ts";
import { listenForWakeUps } from "./wake.ts";

const ACTOR: SystemActor = { kind: "system", name: "notifications" };

export interface NotificationDispatcher {
  /**
   * Listens for wake-ups on the bus (an alert committed: claim now), claims what is already due,
   * then polls every `pollMs` as the fallback for a lost wake-up. Resolves once the first claim is
   * made; a bus it cannot subscribe to is retried at each poll. Idempotent.
   */
  start(): Promise<void>;
  /** Claims and sends one batch of due rows, waiting for the sends; returns how many it claimed. */
  drainOnce(): Promise<number>;
  /** Stops listening and polling, and waits (bounded) for sends in flight; what is left is retried after its lease. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * The outbox's sender. Every instance runs one: each claim takes due rows (pending and due, or
 * `sending` with an expired lease — a sender that died) with `FOR UPDATE SKIP LOCKED`, marks them
 * `sending` with a lease and commits before any I/O, so two instances never hold the same row and
 * a slow endpoint holds no database lock. Up to `batchSize` rows are in flight at once, each on its
 * own: a slow endpoint holds its slot, never the next alert's claim. Each outcome is written back
 * only while the claim is still ours (same attempt number), logged per attempt, and audited when
 * final (sent or dead). An escalation step whose alert is no longer `open` is cancelled, not sent:
 * the alert's state is read after the claim, right before the send.
 */
export function createNotificationDispatcher(deps: AppDeps, settings: NotificationSettings): NotificationDispatcher {
  const db = deps.db.db;
  const logger = deps.logger.child({ component: "notifications" });

  async function claim(limit: number): Promise<NotificationDeliveryRow[]> {
    const now = deps.clock.now();
    const claimable = or(
      and(eq(notificationDeliveries.status, "pending"), lte(notificationDeliveries.nextAttemptAt, now)),
      and(eq(notificationDeliveries.status, "sending"), lt(notificationDeliveries.leaseUntil, now)),
    );
    // One statement, so the claim is atomic on every driver (the embedded database shares one
    // session between callers, where a separate SELECT and UPDATE could interleave). On Postgres
    // a row another dispatcher claimed meanwhile is skipped while locked and fails the re-checked
    // condition once committed.
    const due = db
      .select({ id: notificationDeliveries.id })
      .from(notificationDeliveries)
      .where(claimable)
      .orderBy(notificationDeliveries.nextAttemptAt)
      .limit(limit)
      .for("update", { skipLocked: true });
    return db
      .update(notificationDeliveries)
      .set({ status: "sending", attempts: sql`${notificationDeliveries.attempts} + 1`, leaseUntil: new Date(now.getTime() + settings.leaseMs) })
      .where(and(inArray(notificationDeliveries.id, due), claimable))
      .returning();
  }

  async function send(row: NotificationDeliveryRow): Promise<void> {
    if (row.channel === "webhook") {
      if (!row.signingSecret) throw new Error("webhook delivery without a signing secret");
      await postWebhook({
        url: row.recipient,
        secret: row.signingSecret,
        messageId: `msg_${row.id}`,
        event: { type: row.purpose === "escalation" ? "alert.escalated" : "alert.created", timestamp: deps.clock.now().toISOString(), data: webhookData(row.payload) },
        at: deps.clock.now(),
        timeoutMs: settings.webhookTimeoutMs,
        fetch: settings.fetch,
      });
      return;
    }
    let excerpt: string | null = null;
    let excerpts: Map<string, string> | undefined;
    if (row.purpose === "digest") {
      excerpts = await digestExcerpts(db, row.payload, deps.clock.now(), logger);
    } else if (row.groupId) {
      const config = await loadNotificationConfig(db, row.groupId, logger);
      const messageId = typeof row.payload.messageId === "string" ? row.payload.messageId : null;
      if (config.includeExcerpt) excerpt = await redactedExcerpt(db, messageId, deps.clock.now());
    }
    const mail = renderMail(row, { publicUrl: settings.publicUrl, excerpt, excerpts });
    await settings.mail.send({ from: settings.from, to: row.recipient, deliveryId: row.id, ...mail });
  }

  /**
   * An acknowledgement or dismissal committed before this read stops the step (the one that
   * commits during the send cannot: the mail is already on its way). Returns whether it stopped.
   */
  async function stopIfAcknowledged(row: NotificationDeliveryRow): Promise<boolean> {
    if (row.purpose !== "escalation" || !row.alertId) return false;
    const [alert] = await db.select({ status: extractions.status, resolvedAt: extractions.resolvedAt }).from(extractions).where(eq(extractions.id, row.alertId));
    if (!alert || alert.status === "open") return false;
    const reason = escalationStopReason(alert);
    await db.transaction(async (tx) => {
      const mine = and(eq(notificationDeliveries.id, row.id), eq(notificationDeliveries.status, "sending"), eq(notificationDeliveries.attempts, row.attempts));
      const cancelled = await cancelDeliveries(tx, mine, { reason, now: deps.clock.now(), instanceId: deps.config.instanceId, claimed: true });
      if (cancelled.length === 0) return;
      await recordAudit(
        tx,
        { actor: ACTOR, requestId: null },
        {
          action: "notification.cancel",
          targetType: "alert",
          targetId: row.alertId,
          groupId: row.groupId,
          details: { deliveryId: row.id, purpose: row.purpose, step: row.step, channel: row.channel, recipient: row.recipient, reason },
        },
      );
    });
    logger.info("escalation step cancelled: the alert is no longer open", { deliveryId: row.id, alertId: row.alertId, step: row.step });
    return true;
  }

  async function deliver(row: NotificationDeliveryRow, claimedAt: Date): Promise<void> {
    if (await stopIfAcknowledged(row)) return;
    const startedAt = deps.clock.now();
    const started = performance.now();
    let error: string | null = null;
    try {
      await send(row);
    } catch (err) {
      error = (err instanceof Error ? err.message : String(err)).slice(0, 500);
    }
    const durationMs = Math.round(performance.now() - started);
    const now = deps.clock.now();
    const outcome = error === null ? "sent" : row.attempts >= settings.maxAttempts ? "dead" : "failed";
    const backoff = settings.backoffMs[Math.min(row.attempts - 1, settings.backoffMs.length - 1)] ?? 60_000;
    // Up to a fifth more, so rows that failed together do not retry together.
    const retryAt = new Date(now.getTime() + backoff * (1 + Math.random() / 5));
    await db.transaction(async (tx) => {
      const mine = and(eq(notificationDeliveries.id, row.id), eq(notificationDeliveries.status, "sending"), eq(notificationDeliveries.attempts, row.attempts));
      const updated = await tx
        .update(notificationDeliveries)
        .set(
          outcome === "sent"
            ? { status: "sent", sentAt: now, leaseUntil: null, lastError: null }
            : outcome === "dead"
              ? { status: "dead", leaseUntil: null, lastError: error }
              : { status: "pending", leaseUntil: null, lastError: error, nextAttemptAt: retryAt },
        )
        .where(mine)
        .returning({ id: notificationDeliveries.id });
      await tx
        .insert(notificationAttempts)
        .values({ deliveryId: row.id, attempt: row.attempts, outcome, error, durationMs, instanceId: deps.config.instanceId, createdAt: now });
      if (updated.length === 0) {
        logger.warn("notification finished after its claim expired", { deliveryId: row.id, outcome });
        return;
      }
      if (outcome !== "failed") {
        await recordAudit(
          tx,
          { actor: ACTOR, requestId: null },
          {
            action: outcome === "sent" ? "notification.sent" : "notification.dead",
            targetType: row.alertId ? "alert" : "notification",
            targetId: row.alertId ?? row.id,
            groupId: row.groupId,
            details: { deliveryId: row.id, purpose: row.purpose, step: row.step, channel: row.channel, recipient: row.recipient, attempts: row.attempts, error },
          },
        );
      }
    });
    // queuedMs (queued → claimed) is the outbox's wait; the timestamps let the alerts bench split a
    // delivery's latency into its stages.
    if (outcome === "sent")
      logger.info("notification sent", {
        deliveryId: row.id,
        alertId: row.alertId,
        channel: row.channel,
        purpose: row.purpose,
        attempt: row.attempts,
        queuedMs: claimedAt.getTime() - row.nextAttemptAt.getTime(),
        durationMs,
        claimedAt: claimedAt.toISOString(),
        startedAt: startedAt.toISOString(),
      });
    else
      logger.warn(outcome === "dead" ? "notification dead-lettered" : "notification failed; retrying", {
        deliveryId: row.id,
        channel: row.channel,
        attempt: row.attempts,
        error,
      });
  }

  const settle = (row: NotificationDeliveryRow, claimedAt: Date) =>
    deliver(row, claimedAt).catch((err: unknown) => logger.error("notification bookkeeping failed; retried after its lease", { deliveryId: row.id, err }));

  let started = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let unsubscribe: Unsubscribe | null = null;
  let subscribing: Promise<void> | null = null;
  let claiming: Promise<void> | null = null;
  const inFlight = new Set<Promise<void>>();
  // Set by a wake-up, a poll or a full claim: claim (again) as soon as no claim runs and a slot is free.
  let wanted = false;

  function pump(): void {
    if (stopped) return;
    wanted = true;
    const free = settings.batchSize - inFlight.size;
    // A running claim re-pumps when it ends (a wake-up during it may be for rows it did not see);
    // with every slot taken, the next send to finish does.
    if (claiming || free <= 0) return;
    wanted = false;
    claiming = (async () => {
      const rows = await claim(free);
      const claimedAt = deps.clock.now();
      if (rows.length === free) wanted = true;
      for (const row of rows) {
        const sending: Promise<void> = settle(row, claimedAt).finally(() => {
          inFlight.delete(sending);
          if (wanted) pump();
        });
        inFlight.add(sending);
      }
    })()
      .catch((err: unknown) => logger.error("notification claim failed; retried at the next poll", { err }))
      .finally(() => {
        claiming = null;
        if (wanted) pump();
      });
  }

  function listen(): Promise<void> {
    if (unsubscribe || stopped) return Promise.resolve();
    subscribing ??= listenForWakeUps(deps.bus, pump)
      .then((off) => {
        if (stopped) off();
        else unsubscribe = off;
      })
      .catch((err: unknown) => logger.warn("no outbox wake-ups (the bus is unavailable); polling until it is back", { err }))
      .finally(() => {
        subscribing = null;
      });
    return subscribing;
  }

  function schedulePoll() {
    if (stopped) return;
    // ±10 %, so instances started together do not poll together.
    timer = setTimeout(
      () => {
        timer = null;
        void listen();
        pump();
        schedulePoll();
      },
      settings.pollMs * (0.9 + Math.random() / 5),
    );
  }

  return {
    async start() {
      if (started || stopped) return;
      started = true;
      // Listening first: an alert committed after the first claim's snapshot still wakes us.
      await listen();
      pump();
      schedulePoll();
      await claiming;
    },
    async drainOnce() {
      const rows = await claim(settings.batchSize);
      const claimedAt = deps.clock.now();
      await Promise.all(rows.map((row) => settle(row, claimedAt)));
      return rows.length;
    },
    async stop(timeoutMs = 5_000) {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      // A subscription still being made is dropped when it resolves (see listen).
      unsubscribe?.();
      unsubscribe = null;
      const busy = Promise.allSettled([subscribing, claiming, ...inFlight]);
      await Promise.race([busy, new Promise((r) => setTimeout(r, timeoutMs))]);
    },
  };
}

/** Webhook payloads carry ids, category and severity; the receiver fetches details itself. */
function webhookData(p: Record<string, unknown>): Record<string, unknown> {
  const { summary: _summary, ...rest } = p;
  return rest;
}
