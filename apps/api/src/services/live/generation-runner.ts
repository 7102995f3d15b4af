import { type Bus, decodeEventFrame, type KeyValueStore, type Unsubscribe } from "@raptscallions/bus";
import { AppError, isEventFrameOfType } from "@raptscallions/core";
import { aiUsage, type Db, type MessageMeta, messages, preparedOn } from "@raptscallions/db";
import { and, eq, getTableColumns, type SQL, sql } from "drizzle-orm";
import type { LiveConfig } from "../../deps.ts";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Metrics } from "../../lib/metrics.ts";
import { recordBudgetAlerts } from "../ai/budget-alerts.ts";
import type { AdmittedGeneration, AnswerRunner, Generation, GenerationStatus, StartGenerationInput, UsageRow } from "../../lib/ai-service.ts";
import type { FinishedAnswer } from "../modules/hooks.ts";
import { toMessageDto } from "../sessions/dto.ts";
import { sessionRoom } from "../rooms.ts";
import { publishAnswerFinalised } from "./answer-events.ts";

const STOP_REQUESTED = "generation.stop-requested";

export interface RunnerDeps {
  db: Db;
  bus: Bus;
  kv: KeyValueStore;
  logger: Logger;
  clock: Clock;
  metrics: Metrics;
  live: LiveConfig;
  instanceId: string;
  /** Called with the finished answer (modules hook: flag answers, alerts). */
  onAnswerFinished?: (info: FinishedAnswer) => Promise<void>;
}

interface Running {
  sessionId: string;
  abort: AbortController;
  stopRequested: boolean;
  done: Promise<void>;
}

/**
 * Runs assistant answers on this instance, independent of any socket: a student who closes the
 * tab gets the full answer on return. Deltas are coalesced on a short window into one publish,
 * the text is checkpointed to the row (with the room offset it reaches) so late joiners can resume
 * exactly, and the row is finalised once — the conditional update makes the sweeper and this
 * runner unable to both finalise.
 */
export class GenerationRunner implements AnswerRunner {
  private readonly running = new Map<string, Running>();
  private closed = false;

  constructor(private readonly deps: RunnerDeps) {}

  /** Message ids of answers streaming on this instance. */
  active(): string[] {
    return [...this.running.keys()];
  }

  /** Resolves when the given answer (or every answer) finished on this instance. */
  async settled(messageId?: string): Promise<void> {
    if (messageId) return this.running.get(messageId)?.done;
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /** Aborts a local generation; false when it does not run here. */
  stopLocal(messageId: string): boolean {
    const r = this.running.get(messageId);
    if (!r) return false;
    r.stopRequested = true;
    r.abort.abort(new AppError("CONFLICT", "stopped"));
    return true;
  }

  /** Refuses new answers while shutting down (before any upstream call is made). */
  assertAccepting(): void {
    if (this.closed) throw new AppError("SERVICE_UNAVAILABLE", "This instance is shutting down", { retryAfterSeconds: 1 });
  }

  /** Streams an admitted generation in the background; never tied to the caller's socket. */
  start(input: StartGenerationInput, admitted: AdmittedGeneration): void {
    const entry: Running = { sessionId: input.sessionId, abort: admitted.abort, stopRequested: false, done: Promise.resolve() };
    this.running.set(input.messageId, entry);
    entry.done = this.run(input, entry, admitted.generation).finally(() => this.running.delete(input.messageId));
  }

  /** The gateway refused before streaming (limits, model): the answer row ends `failed`, saying why. */
  async failBeforeStart(input: StartGenerationInput, err: unknown): Promise<void> {
    const error =
      err instanceof AppError
        ? { code: err.code, message: err.message, retryAfterSeconds: err.retryAfterSeconds, details: err.details }
        : { code: "UPSTREAM_ERROR", message: "The AI service failed" };
    await this.finalize(input, "failed", "", { error });
  }

  /**
   * Stops accepting work; answers still streaming get `graceMs` to finish, then are aborted and
   * finalised as interrupted (a restarted client resumes from the row).
   */
  async shutdown(graceMs: number): Promise<void> {
    this.closed = true;
    const all = this.settled();
    const timer = new Promise<void>((r) => setTimeout(r, graceMs));
    await Promise.race([all, timer]);
    for (const r of this.running.values()) r.abort.abort(new AppError("SERVICE_UNAVAILABLE", "shutting down"));
    await this.settled();
  }

  private async run(input: StartGenerationInput, entry: Running, generation: Generation): Promise<void> {
    const { bus, logger, live, clock } = this.deps;
    const room = sessionRoom(input.sessionId);
    let text = "";
    let pending = "";
    let lastOffset: number | null = input.offset ?? null;
    let lastEpoch: string | null = input.epoch ?? null;
    let lastCheckpoint = clock.now().getTime();
    let flushTimer: ReturnType<typeof setTimeout> | undefined;
    let chain: Promise<void> = Promise.resolve();
    let model: string | null = null;
    let status: GenerationStatus = "complete";
    let error: MessageMeta["error"] | undefined;

    // The owner learns of stop requests made on other instances through the session room.
    let unsubscribe: Unsubscribe | undefined;
    try {
      // Every frame of the room passes here (the answer's own deltas too): only a stop request
      // is decoded, the rest is skipped by its type.
      unsubscribe = await bus.subscribeFrames(room, {
        frame: (epoch, offset, frame) => {
          if (!isEventFrameOfType(frame, STOP_REQUESTED)) return;
          const p = decodeEventFrame(room, epoch, offset, frame).payload as { messageId?: string } | null;
          if (p?.messageId === input.messageId) this.stopLocal(input.messageId);
        },
        resync: () => {},
      });
    } catch (err) {
      logger.warn("stop listener unavailable", { room, err });
    }

    const flush = (): Promise<void> => {
      flushTimer = undefined;
      chain = chain.then(async () => {
        if (!pending) return;
        const chunk = pending;
        pending = "";
        const charOffset = text.length;
        text += chunk;
        try {
          const ev = await bus.publish(room, {
            type: "message.delta",
            payload: { messageId: input.messageId, charOffset, text: chunk },
          });
          const renumbered = lastEpoch !== null && ev.epoch !== lastEpoch;
          lastOffset = ev.offset;
          lastEpoch = ev.epoch;
          if (renumbered) {
            lastCheckpoint = clock.now().getTime();
            const announced = await this.reannounce(input, text, ev.offset, ev.epoch, model);
            if (announced) lastOffset = announced.offset;
            return;
          }
        } catch (err) {
          logger.warn("delta publish failed", { room, err });
        }
        const now = clock.now().getTime();
        if (now - lastCheckpoint >= live.checkpointMs) {
          lastCheckpoint = now;
          await this.checkpoint(input.messageId, text, lastOffset, lastEpoch, model);
        }
      });
      return chain;
    };

    const heartbeat = setInterval(() => {
      chain = chain.then(async () => {
        await this.checkpoint(input.messageId, text, lastOffset, lastEpoch, model);
      });
    }, live.heartbeatMs);

    // Recorded before the first token, so an answer cut off by a crash is still accounted for;
    // with the `message.started` offset as the first checkpoint, written before any delta is
    // published (every flush is chained after this).
    const started = input.offset !== undefined && input.offset !== null ? { checkpointOffset: input.offset, checkpointEpoch: input.epoch ?? null } : {};
    chain = chain.then(async () => {
      const recorded =
        "checkpointOffset" in started
          ? preparedOn(this.deps.db, "answer_started", prepareStarted).execute({
              id: input.messageId,
              meta: JSON.stringify({ model: generation.model }),
              offset: started.checkpointOffset,
              epoch: started.checkpointEpoch,
            })
          : this.deps.db
              .update(messages)
              .set({ meta: mergeMeta({ model: generation.model }) })
              .where(and(eq(messages.id, input.messageId), eq(messages.state, "streaming")));
      await recorded.catch((err: unknown) => logger.warn("recording the model failed", { err }));
    });
    try {
      model = generation.model;
      for await (const ev of generation.events) {
        if (ev.type === "start") model = ev.model;
        if (ev.type === "delta" && ev.text) {
          pending += ev.text;
          flushTimer ??= setTimeout(() => void flush(), live.coalesceMs);
        }
      }
    } catch (err) {
      if (entry.stopRequested) status = "stopped";
      else if (entry.abort.signal.aborted) status = "interrupted";
      else {
        status = "failed";
        error = err instanceof AppError ? { code: err.code, message: err.message } : { code: "UPSTREAM_ERROR", message: "The AI service failed" };
        if (!(err instanceof AppError)) logger.error("generation failed", { messageId: input.messageId, err });
      }
    } finally {
      clearInterval(heartbeat);
      if (flushTimer) clearTimeout(flushTimer);
      await flush();
      await chain.catch(() => {});
      unsubscribe?.();
    }

    let meta: MessageMeta = { model: model ?? undefined };
    let usage: UsageRow | undefined;
    try {
      // The usage row is written by the finalisation below, in the same statement.
      const result = await generation.finish(status, text, { deferUsageRow: true });
      usage = result.usageRow;
      meta = {
        model: result.model,
        inputTokens: result.inputTokens,
        outputTokens: result.outputTokens,
        costUsd: result.costUsd,
        ttftMs: result.ttftMs ?? undefined,
        latencyMs: result.latencyMs,
        estimated: result.estimated,
      };
      if (result.budgetAlerts.length > 0) {
        await recordBudgetAlerts({ db: this.deps.db, kv: this.deps.kv, logger, now: clock.now() }, result.budgetAlerts).catch((err) =>
          logger.error("recording budget alerts failed", { err }),
        );
      }
    } catch (err) {
      logger.error("settling usage failed", { messageId: input.messageId, err });
    }
    if (error) meta.error = error;
    await this.finalize(input, status, text, meta, usage);
  }

  /**
   * The room's numbering restarted under this answer (Redis lost, regained, or the room expired):
   * a watcher told to reload would get a checkpoint from the old numbering, and the deltas that
   * follow would not fit it. So the text is checkpointed at once in the new numbering, then the
   * answer is announced again with its text so far: a client that reloaded a stale text takes the
   * whole text from this event, and every later delta fits. Happens once per renumbering, never
   * per token.
   */
  private async reannounce(input: StartGenerationInput, text: string, offset: number, epoch: string, model: string | null) {
    const row = await this.checkpoint(input.messageId, text, offset, epoch, model);
    if (!row) return null;
    try {
      return await this.deps.bus.publish(sessionRoom(input.sessionId), { type: "message.started", payload: { message: toMessageDto(row) } });
    } catch (err) {
      this.deps.logger.warn("re-announcing a streaming answer failed", { messageId: input.messageId, err });
      return null;
    }
  }

  /** The model is recorded too, so a sweeper finalising this row after a crash can account for it. */
  private async checkpoint(messageId: string, text: string, offset: number | null, epoch: string | null, model: string | null) {
    try {
      const [row] = await preparedOn(this.deps.db, "answer_checkpoint", prepareCheckpoint).execute({
        id: messageId,
        content: text,
        offset,
        epoch,
        heartbeatAt: this.deps.clock.now().toISOString(),
        meta: JSON.stringify(model ? { model } : {}),
      });
      return row ?? null;
    } catch (err) {
      this.deps.logger.warn("checkpoint failed", { messageId, err });
      return null;
    }
  }

  /**
   * Finalises once: only a row still `streaming` is updated, so a sweeper that got there first
   * wins. The generation's usage row, when there is one, is written by the same statement (and
   * written whether or not the update still found the row: the call was made either way).
   */
  private async finalize(input: StartGenerationInput, state: GenerationStatus, content: string, meta: MessageMeta, usage?: UsageRow) {
    const { db, bus, logger, clock } = this.deps;
    const values = { id: input.messageId, state, content, meta: JSON.stringify(meta), now: clock.now().toISOString() };
    const [row] = usage ? await this.finalizeWithUsage(values, usage) : await preparedOn(db, "answer_finalize", prepareFinalize).execute(values);
    if (!row) return;
    await publishAnswerFinalised(bus, logger, row, input.classId);
    const hook = input.afterAnswer ?? this.deps.onAnswerFinished;
    if (hook) {
      try {
        await hook({ sessionId: input.sessionId, classId: input.classId, messageId: row.id, state, content });
      } catch (err) {
        logger.error("answer hook failed", { messageId: row.id, err });
      }
    }
  }

  /** The finalisation and the usage row in one statement; apart if that fails (a lost usage row must not leave the answer streaming). */
  private async finalizeWithUsage(values: { id: string; state: GenerationStatus; content: string; meta: string; now: string }, usage: UsageRow) {
    const { db, logger } = this.deps;
    try {
      return await preparedOn(db, "answer_finalize_usage", prepareFinalizeWithUsage).execute({ ...values, usage: usageJson(usage) });
    } catch (err) {
      logger.warn("finalising with the usage row failed; writing them apart", { messageId: values.id, err });
    }
    await db
      .insert(aiUsage)
      .values(usage)
      .catch((err: unknown) => logger.error("writing the ai_usage row failed", { err, messageId: usage.messageId, model: usage.model }));
    return preparedOn(db, "answer_finalize", prepareFinalize).execute(values);
  }
}

/** Adds to the row's meta instead of replacing it: what the answer was created with (a retry's links) stays. */
function mergeMeta(meta: MessageMeta): SQL {
  return sql`${messages.meta} || ${JSON.stringify(meta)}::jsonb`;
}

// The runner's updates run once or more per answer: prepared once per database (values as
// placeholders), each conditional on the row still streaming so a sweeper that finalised it wins.
const streamingRow = and(eq(messages.id, sql.placeholder("id")), eq(messages.state, "streaming"));
// Values in `set` go through `sql` (drizzle takes no bare placeholder there), so nothing maps
// them by column: timestamps are passed as ISO strings, as drizzle would send them.
const value = (name: string) => sql`${sql.placeholder(name)}`;
const mergePlaceholder = sql`${messages.meta} || ${sql.placeholder("meta")}::jsonb`;

function prepareStarted(db: Db) {
  return db
    .update(messages)
    .set({ meta: mergePlaceholder, checkpointOffset: value("offset"), checkpointEpoch: value("epoch") })
    .where(streamingRow)
    .prepare("answer_started");
}

function prepareCheckpoint(db: Db) {
  return db
    .update(messages)
    .set({
      content: value("content"),
      checkpointOffset: value("offset"),
      checkpointEpoch: value("epoch"),
      heartbeatAt: value("heartbeatAt"),
      meta: mergePlaceholder,
    })
    .where(streamingRow)
    .returning()
    .prepare("answer_checkpoint");
}

function prepareFinalize(db: Db) {
  return db
    .update(messages)
    .set({
      state: value("state"),
      content: value("content"),
      meta: mergePlaceholder,
      finalizedAt: value("now"),
      streamOwner: null,
      heartbeatAt: value("now"),
    })
    .where(streamingRow)
    .returning()
    .prepare("answer_finalize");
}

// The usage row travels as one JSON parameter (column names as keys) and is inserted by a
// data-modifying WITH, which Postgres runs to completion whether or not the update matched.
const usageColumns = Object.entries(getTableColumns(aiUsage)).filter(([key]) => key !== "id" && key !== "createdAt");
const usageColumnList = sql.raw(usageColumns.map(([, c]) => `"${c.name}"`).join(", "));

function usageJson(row: UsageRow): string {
  const out: Record<string, unknown> = {};
  for (const [key, column] of usageColumns) out[column.name] = row[key as keyof UsageRow] ?? null;
  return JSON.stringify(out);
}

function prepareFinalizeWithUsage(db: Db) {
  const usage = db
    .$with("usage", {})
    .as(sql`insert into ${aiUsage} (${usageColumnList}) select ${usageColumnList} from jsonb_populate_record(null::${aiUsage}, ${sql.placeholder("usage")}::jsonb)`);
  return db
    .with(usage)
    .update(messages)
    .set({
      state: value("state"),
      content: value("content"),
      meta: mergePlaceholder,
      finalizedAt: value("now"),
      streamOwner: null,
      heartbeatAt: value("now"),
    })
    .where(streamingRow)
    .returning()
    .prepare("answer_finalize_usage");
}
