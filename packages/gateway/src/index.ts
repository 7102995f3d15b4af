export { systemClock, type Clock } from "./clock.ts";
export {
  costOf,
  estimateMessagesTokens,
  estimateTokens,
  MICROS_PER_USD,
  microsToUsd,
  usdToMicros,
  type ChatMessage,
  type ModelPrice,
  type TokenUsage,
} from "./cost.ts";
export { GatewayError, isAbortError, type AttemptRecord, type GatewayErrorCode } from "./errors.ts";
export { parseRetryAfter, type GatewayUsage } from "./upstream.ts";
export { Http1Agent, type Http1AgentOptions } from "./http1/agent.ts";
export {
  createGatewayClient,
  type ChatOutcome,
  type ChatRequest,
  type ChatStream,
  type ChatSummary,
  type FetchLike,
  type GatewayClient,
  type GatewayClientOptions,
  type GatewayEvent,
} from "./client.ts";
export {
  resolveModel,
  resolveModelChoice,
  type ModelChoice,
  type ModelSource,
  type ResolveModelInput,
} from "./resolve-model.ts";
export { MemoryLimitStore } from "./limits/memory.ts";
export { RedisLimitStore, type RedisLimitStoreOptions, type RedisScriptClient } from "./limits/redis.ts";
export type {
  BudgetAlert,
  GroupBudget,
  LimitKind,
  LimitStore,
  Reservation,
  ReserveInput,
  SettleResult,
  UsageSnapshot,
  UserLimits,
} from "./limits/types.ts";
export {
  createDevModelApp,
  DEV_MODELS,
  type DevModelId,
  type DevModelOptions,
  type DevStreamEnd,
} from "./dev-model.ts";
export { streamUnits, tutorReply, type DevMessage } from "./tutor-reply.ts";
export {
  SUMMARY_SYSTEM_PROMPT,
  buildSummaryPrompt,
  devSummaryReply,
  isSummaryRequest,
  type SummaryFacts,
  type SummaryTurn,
} from "./session-summary.ts";
export {
  createModerationClient,
  parseGuardReply,
  parseModerationBody,
  type ModerationClient,
  type ModerationClientOptions,
  type ModerationMode,
  type ModerationRequest,
  type ModerationResponse,
} from "./moderation.ts";
export {
  DEV_MODERATION_MODEL,
  GUARD_CODES,
  OPENAI_MODERATION_CATEGORIES,
  devModerationScript,
  type DevModerationScript,
} from "./dev-moderation.ts";
