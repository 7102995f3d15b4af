import type { RoomEventType } from "@raptscallions/core";
import type { aiUsage, MessageMeta, ToolDefinition } from "@raptscallions/db";

/** The ai_usage row a generation records (one per call). */
export type UsageRow = typeof aiUsage.$inferInsert;

/** An `ai_settings` row as the plan's statement returns it (json: snake_case keys). */
export interface AiPlanSettingsJson {
  group_id: string | null;
  default_model: string | null;
  requests_per_minute: number | null;
  requests_per_hour: number | null;
  tokens_per_day: number | null;
  monthly_budget_usd: number | string | null;
  alert_threshold: number | null;
}

/** A model catalogue row as the plan's statement returns it. */
export interface AiPlanModelJson {
  id: string;
  input_price_per_1k: number | string;
  output_price_per_1k: number | string;
  context_window: number;
  max_output_tokens: number;
  active: boolean;
}

/**
 * What `aiPlanFields` (services/ai/load-plan.ts) reads, as one JSON value: the group and each ancestor (nearest first)
 * with its settings row if any, the system settings, the catalogue rows any of them (or the named
 * models) name, and the named models themselves (so a plan built from a read elsewhere can tell
 * whether that read looked for every model its tool names).
 */
export interface AiPlanRows {
  chain: AiPlanSettingsJson[] | null;
  system: AiPlanSettingsJson | null;
  models: AiPlanModelJson[] | null;
  named: string[] | null;
}

/** Who and what a generation is for: drives model resolution, limits, budgets and the usage row. */
export interface GenerationScope {
  userId: string;
  /** The group whose settings and budget chain apply (session's group). */
  groupId: string;
  classId: string | null;
  toolId: string;
  toolVersion: number;
  sessionId: string | null;
  assignmentId: string | null;
  runId: string | null;
  /** The assistant message being generated, when there is one. */
  messageId: string | null;
}

/** The scope of a call made for a session: its group, class, tool version and assignment. */
export function sessionGenerationScope(
  session: { id: string; groupId: string; classId: string | null; toolId: string; toolVersion: number; assignmentId: string | null },
  who: { userId: string; messageId: string | null },
): GenerationScope {
  return {
    userId: who.userId,
    groupId: session.groupId,
    classId: session.classId,
    toolId: session.toolId,
    toolVersion: session.toolVersion,
    sessionId: session.id,
    assignmentId: session.assignmentId,
    runId: null,
    messageId: who.messageId,
  };
}

/**
 * The name a generation's limit reservation is kept under until it is settled (its answer's or its
 * run's id), so that a sweeper can settle it when the instance streaming it died. Calls with
 * neither (a summary written in its request) keep nothing: they end with their request.
 */
export function reservationSubject(of: { messageId?: string | null; runId?: string | null }): string | undefined {
  if (of.messageId) return `answer:${of.messageId}`;
  if (of.runId) return `run:${of.runId}`;
  return undefined;
}

export interface GenerationRequest {
  scope: GenerationScope;
  definition: ToolDefinition;
  /** The conversation so far, oldest first, without the tool's system prompt (the service adds it). */
  messages: { role: "user" | "assistant" | "system"; content: string }[];
  /** Aborting cancels the upstream request (which stops provider billing). */
  signal: AbortSignal;
  /**
   * The settings chain and catalogue rows for this call, already read by the caller with
   * `aiPlanFields` (a chat turn reads them with its session); the service reads them itself when
   * absent or when they were read for other models.
   */
  planRows?: AiPlanRows | undefined;
}

export type GenerationEvent =
  | { type: "start"; model: string }
  | { type: "delta"; text: string }
  | { type: "usage"; inputTokens: number; outputTokens: number }
  | { type: "finish"; reason: string };

export type GenerationStatus = "complete" | "stopped" | "failed" | "interrupted";

export interface GenerationResult {
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** True when no usage chunk arrived and tokens were estimated from the text. */
  estimated: boolean;
  ttftMs: number | null;
  latencyMs: number;
  /** Budget alert thresholds crossed by this call (group ids), for the caller to publish. */
  budgetAlerts: { groupId: string; usedUsd: number; budgetUsd: number; threshold: number }[];
  /** The call's ai_usage row: already written, unless `finish` was told the caller writes it. */
  usageRow: UsageRow;
}

/** Options of {@link Generation.finish}. */
export interface FinishOptions {
  /**
   * The caller writes `usageRow` itself, in a statement it makes anyway (the answer runner's
   * finalisation): `finish` then settles the limits but writes no row. The caller must write it,
   * whatever happens to its own statement.
   */
  deferUsageRow?: boolean;
}

/** A started generation: iterate `events` (throws an AppError on upstream failure), then `finish` once. */
export interface Generation {
  /** The model resolved for this call (the first choice; `start` names the one that answered). */
  model: string;
  events: AsyncIterable<GenerationEvent>;
  /**
   * Settles the limit reservation to actual usage (estimating when no usage chunk came) and
   * records one ai_usage row. Call exactly once, whatever the outcome; idempotent if called again.
   */
  finish(status: GenerationStatus, text: string, options?: FinishOptions): Promise<GenerationResult>;
}

/**
 * The AI gateway as the live path sees it. `start` resolves the model (tool → nearest group with a
 * default → system → AI_DEFAULT_MODEL) and reserves limits and budgets before calling upstream; it
 * throws LimitExceededError (429 + retryAfter) or MODEL_UNAVAILABLE without calling upstream.
 */
export interface AiService {
  start(request: GenerationRequest): Promise<Generation>;
  /**
   * AI_DEFAULT_MODEL, the last level of model resolution, when the service resolves models from
   * the database: a caller reading the plan's rows in its own statement (`planRows`) names it.
   */
  readonly defaultModel?: string;
  /**
   * Throws `ServiceUnavailableError` (503 + retryAfterSeconds) when a call could not be admitted
   * right now because the shared limit store is known to be down. A local check, no round trip:
   * lets the live path refuse a turn before storing anything.
   */
  assertAvailable(): void;
  /**
   * Settles the reservation a crashed instance left behind for `subject` ({@link reservationSubject})
   * to `actual`, as `finish` would have: once, whoever asks (two sweepers, or the instance itself
   * coming back, find it settled). Null when nothing was left to settle. Throws when the limit
   * store is unreachable (the reservation stays kept; a later sweep cannot retry it, see README).
   */
  settleAbandoned(subject: string, actual: { tokens: number; costMicros: number }): Promise<{ budgetAlerts: GenerationResult["budgetAlerts"] } | null>;
}

/** Which answer a generation fills: its session (and class room) and the assistant message row. */
export interface StartGenerationInput {
  sessionId: string;
  classId: string | null;
  messageId: string;
  /** Epoch of the answer's `message.started` event, when it was published. */
  epoch?: string | null;
  /** Offset of that event: the answer's first checkpoint, written by the runner before any delta. */
  offset?: number | null;
  /** This answer's own finished-answer check, used instead of the runner's app-wide one. */
  afterAnswer?: ((answer: { sessionId: string; classId: string | null; messageId: string; state: GenerationStatus; content: string }) => Promise<void>) | undefined;
}

/** A generation already admitted by the gateway service (model resolved, limits reserved). */
export interface AdmittedGeneration {
  generation: Generation;
  abort: AbortController;
}

/**
 * This instance's answer runner as services use it (services/live/generation-runner.ts): it
 * streams admitted generations into their rows and rooms, independent of any socket.
 */
export interface AnswerRunner {
  /** Throws ServiceUnavailableError while the instance is shutting down. */
  assertAccepting(): void;
  start(input: StartGenerationInput, admitted: AdmittedGeneration): void;
  /** Finalises an answer whose generation could not be admitted (limits, no model). */
  failBeforeStart(input: StartGenerationInput, err: unknown): Promise<void>;
  /** Aborts an answer running on this instance; false when it runs elsewhere (or not at all). */
  stopLocal(messageId: string): boolean;
  /** Streams an admitted generation into a target of its own (a product tool's run). */
  startTarget(target: StreamTarget, admitted: AdmittedGeneration): void;
}

/** A room event to publish. */
export interface TargetEvent {
  type: RoomEventType;
  payload: unknown;
}

/**
 * Where the runner streams a generation: a chat answer's message row (here) or a product tool's
 * run row (services/runs/run-target.ts). The runner owns the timing — coalescing, checkpoints, heartbeats,
 * renumbering, the one finalisation — and a target owns its row, its room and its events. Every
 * write is conditional on the row still streaming, so a sweeper that finalised it first wins.
 */
export interface StreamTarget {
  /** The row's id: what stop requests name. */
  readonly id: string;
  readonly room: string;
  /** The started event's position: the row's first checkpoint. */
  readonly epoch: string | null;
  readonly offset: number | null;
  /** The delta event of this target. */
  delta(charOffset: number, text: string): TargetEvent;
  /** The event type of this target's stop requests: other frames are skipped unread. */
  readonly stopType: RoomEventType;
  /** True when a room event asks this row's generation to stop (sent by another instance). */
  isStopRequest(event: { type: string; payload: unknown }): boolean;
  /** Records the model (and the first checkpoint, when the started event was published). */
  recordStarted(model: string): Promise<void>;
  /** Checkpoints the text (and proves the instance alive); reads nothing back. */
  checkpoint(text: string, offset: number | null, epoch: string | null, model: string | null, at: Date): Promise<void>;
  /**
   * Checkpoints the text and returns the started event announcing the row as it now stands (null:
   * the row is no longer streaming): what the runner publishes after the room was renumbered.
   */
  checkpointForAnnounce(text: string, offset: number | null, epoch: string | null, model: string | null, at: Date): Promise<TargetEvent | null>;
  /**
   * Finalises once (a no-op when something else did) and tells the room. `usage`: the generation's
   * ai_usage row, written whether or not the row was still streaming (the call was made either way).
   */
  finalize(state: GenerationStatus, content: string, meta: MessageMeta, at: Date, usage?: UsageRow): Promise<void>;
}
