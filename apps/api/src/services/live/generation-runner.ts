import { type Bus, decodeEventFrame, type KeyValueStore, type Unsubscribe } from "@raptscallions/bus";
import { AppError, isEventFrameOfType } from "@raptscallions/core";
import type { Db, MessageMeta } from "@raptscallions/db";
import type { LiveConfig } from "../../deps.ts";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Metrics } from "../../lib/metrics.ts";
import { recordBudgetAlerts } from "../ai/budget-alerts.ts";
import type { AdmittedGeneration, AnswerRunner, Generation, GenerationStatus, StartGenerationInput, UsageRow } from "../../lib/ai-service.ts";
import type { FinishedAnswer } from "../modules/hooks.ts";
import { type CancelFlush, FlushGrid } from "./flush-grid.ts";
import { answerTarget, type StreamTarget } from "./stream-target.ts";

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
  id: string;
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

  // The coalescing windows of every answer on this instance end on one grid (`flush-grid.ts`).
  private readonly grid: FlushGrid;

  constructor(private readonly deps: RunnerDeps) {
    this.grid = new FlushGrid(deps.live.coalesceMs, deps.live.coalesceGridMs, (err) => deps.logger.error("delta flush failed", { err }));
  }

  /** Ids of the answers (message ids) and runs streaming on this instance. */
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

  /** Streams an admitted chat answer in the background; never tied to the caller's socket. */
  start(input: StartGenerationInput, admitted: AdmittedGeneration): void {
    this.startTarget(answerTarget(this.deps, input), admitted);
  }

  /** Streams an admitted generation into any target (a chat answer, a product tool's run). */
  startTarget(target: StreamTarget, admitted: AdmittedGeneration): void {
    const entry: Running = { id: target.id, abort: admitted.abort, stopRequested: false, done: Promise.resolve() };
    this.running.set(target.id, entry);
    entry.done = this.run(target, entry, admitted.generation).finally(() => this.running.delete(target.id));
  }

  /** The gateway refused before streaming (limits, model): the answer row ends `failed`, saying why. */
  async failBeforeStart(input: StartGenerationInput, err: unknown): Promise<void> {
    await answerTarget(this.deps, input).finalize("failed", "", { error: errorOf(err) }, this.deps.clock.now());
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

  private async run(target: StreamTarget, entry: Running, generation: Generation): Promise<void> {
    const { bus, logger, live, clock } = this.deps;
    const room = target.room;
    let text = "";
    let pending = "";
    let lastOffset: number | null = target.offset;
    let lastEpoch: string | null = target.epoch;
    let lastCheckpoint = clock.now().getTime();
    // The room offset the row's text was last checkpointed at (the started event's at first).
    let checkpointedOffset: number | null = target.offset;
    let cancelFlush: CancelFlush | undefined;
    let chain: Promise<void> = Promise.resolve();
    let model: string | null = null;
    let status: GenerationStatus = "complete";
    let error: MessageMeta["error"] | undefined;

    const checkpoint = async (): Promise<void> => {
      lastCheckpoint = clock.now().getTime();
      checkpointedOffset = lastOffset;
      await this.checkpoint(target, text, lastOffset, lastEpoch, model);
    };
    // Text is written every `checkpointMs`, or sooner once the room moved `checkpointEvents` past
    // the last checkpoint: a crashed answer is rebuilt from its checkpoint plus the replay buffer,
    // and a late joiner replays from it, so it only has to stay within the buffer's reach.
    const checkpointDue = (now: number): boolean =>
      now - lastCheckpoint >= live.checkpointMs || (lastOffset !== null && checkpointedOffset !== null && lastOffset - checkpointedOffset >= live.checkpointEvents);

    // The owner learns of stop requests made on other instances through the row's room.
    let unsubscribe: Unsubscribe | undefined;
    try {
      // Every frame of the room passes here (the answer's own deltas too): only a stop request
      // is decoded, the rest is skipped by its type.
      unsubscribe = await bus.subscribeFrames(room, {
        frame: (epoch, offset, frame) => {
          if (!isEventFrameOfType(frame, target.stopType)) return;
          if (target.isStopRequest(decodeEventFrame(room, epoch, offset, frame))) this.stopLocal(target.id);
        },
        resync: () => {},
      });
    } catch (err) {
      logger.warn("stop listener unavailable", { room, err });
    }

    // Made once per answer, chained once per coalescing window.
    const publishPending = async (): Promise<void> => {
      if (!pending) return;
      const chunk = pending;
      pending = "";
      const charOffset = text.length;
      text += chunk;
      try {
        const ev = await bus.publish(room, target.delta(charOffset, chunk));
        const renumbered = lastEpoch !== null && ev.epoch !== lastEpoch;
        lastOffset = ev.offset;
        lastEpoch = ev.epoch;
        if (renumbered) {
          lastCheckpoint = clock.now().getTime();
          checkpointedOffset = ev.offset;
          const announced = await this.reannounce(target, text, ev.offset, ev.epoch, model);
          if (announced) lastOffset = announced.offset;
          return;
        }
      } catch (err) {
        logger.warn("delta publish failed", { room, err });
      }
      if (checkpointDue(clock.now().getTime())) await checkpoint();
    };
    const flush = (): Promise<void> => {
      cancelFlush = undefined;
      chain = chain.then(publishPending);
      return chain;
    };
    const requestedFlush = (): void => void flush();

    // The heartbeat proves this instance alive while upstream stalls; a checkpoint written in the
    // last half interval already did (it sets the heartbeat too).
    const heartbeat = setInterval(() => {
      chain = chain.then(async () => {
        if (clock.now().getTime() - lastCheckpoint < live.heartbeatMs / 2) return;
        await checkpoint();
      });
    }, live.heartbeatMs);

    // Recorded before the first token, so an answer cut off by a crash is still accounted for;
    // with the started event's offset as the first checkpoint, written before any delta is
    // published (every flush is chained after this).
    chain = chain.then(async () => {
      await target.recordStarted(generation.model).catch((err: unknown) => logger.warn("recording the model failed", { err }));
    });
    try {
      model = generation.model;
      for await (const ev of generation.events) {
        if (ev.type === "start") model = ev.model;
        if (ev.type === "delta" && ev.text) {
          pending += ev.text;
          cancelFlush ??= this.grid.request(requestedFlush);
        }
      }
    } catch (err) {
      if (entry.stopRequested) status = "stopped";
      else if (entry.abort.signal.aborted) status = "interrupted";
      else {
        status = "failed";
        error = errorOf(err);
        if (!(err instanceof AppError)) logger.error("generation failed", { id: target.id, err });
      }
    } finally {
      clearInterval(heartbeat);
      cancelFlush?.();
      await flush();
      await chain.catch(() => {});
      unsubscribe?.();
    }

    let meta: MessageMeta = { model: model ?? undefined };
    let usage: UsageRow | undefined;
    try {
      // The usage row is written by the target's finalisation (for an answer, in the same statement).
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
      logger.error("settling usage failed", { id: target.id, err });
    }
    if (error) meta.error = error;
    await target.finalize(status, text, meta, clock.now(), usage);
  }

  /**
   * The room's numbering restarted under this answer (Redis lost, regained, or the room expired):
   * a watcher told to reload would get a checkpoint from the old numbering, and the deltas that
   * follow would not fit it. So the text is checkpointed at once in the new numbering, then the
   * answer is announced again with its text so far: a client that reloaded a stale text takes the
   * whole text from this event, and every later delta fits. Happens once per renumbering, never
   * per token.
   */
  private async reannounce(target: StreamTarget, text: string, offset: number, epoch: string, model: string | null) {
    let started: Awaited<ReturnType<StreamTarget["checkpointForAnnounce"]>>;
    try {
      started = await target.checkpointForAnnounce(text, offset, epoch, model, this.deps.clock.now());
    } catch (err) {
      this.deps.logger.warn("checkpoint failed", { id: target.id, err });
      return null;
    }
    if (!started) return null;
    try {
      return await this.deps.bus.publish(target.room, started);
    } catch (err) {
      this.deps.logger.warn("re-announcing a streaming answer failed", { id: target.id, err });
      return null;
    }
  }

  /** The model is recorded too, so a sweeper finalising this row after a crash can account for it. */
  private async checkpoint(target: StreamTarget, text: string, offset: number | null, epoch: string | null, model: string | null): Promise<void> {
    try {
      await target.checkpoint(text, offset, epoch, model, this.deps.clock.now());
    } catch (err) {
      this.deps.logger.warn("checkpoint failed", { id: target.id, err });
    }
  }
}

function errorOf(err: unknown): NonNullable<MessageMeta["error"]> {
  return err instanceof AppError
    ? { code: err.code, message: err.message, retryAfterSeconds: err.retryAfterSeconds, details: err.details }
    : { code: "UPSTREAM_ERROR", message: "The AI service failed" };
}
