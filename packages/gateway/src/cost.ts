/**
 * Money is counted in integer micro-USD (1 USD = 1_000_000) everywhere limits are enforced:
 * integers add atomically in Redis (`INCRBY`) and never drift the way summed floats do.
 */
export const MICROS_PER_USD = 1_000_000;

/** Per-1k-token prices in USD, e.g. from the model catalogue (`numeric` columns arrive as strings). */
export interface ModelPrice {
  inputPricePer1k: number | string;
  outputPricePer1k: number | string;
}

/** Token counts of one completion. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

function price(value: number | string, name: string): number {
  const n = typeof value === "string" ? Number(value) : value;
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${name} must be a non-negative number`);
  return n;
}

/**
 * Cost of a completion in integer micro-USD, rounded up so fractions of a micro-dollar are never
 * given away. `inputTokens * inputPricePer1k / 1000` USD each side.
 */
export function costOf(usage: TokenUsage, prices: ModelPrice): number {
  const perInputToken = price(prices.inputPricePer1k, "inputPricePer1k") * 1000; // micro-USD
  const perOutputToken = price(prices.outputPricePer1k, "outputPricePer1k") * 1000;
  const micros = Math.max(0, usage.inputTokens) * perInputToken + Math.max(0, usage.outputTokens) * perOutputToken;
  // Round to 6 decimals first so float noise (1851.0000000000002) does not round up a whole unit.
  return Math.ceil(Math.round(micros * 1e6) / 1e6);
}

/** USD (e.g. OpenRouter's `usage.cost`) to integer micro-USD, rounded up. */
export function usdToMicros(usd: number): number {
  if (!Number.isFinite(usd) || usd < 0) return 0;
  return Math.ceil(Math.round(usd * MICROS_PER_USD * 1e6) / 1e6);
}

/** Integer micro-USD to USD, for display and `numeric` columns. */
export function microsToUsd(micros: number): number {
  return micros / MICROS_PER_USD;
}

/**
 * Rough token count of a text: one token per 4 UTF-16 code units, rounded up. OpenAI's own rule
 * of thumb for English; good enough to reserve budget before a call and to estimate a stream that
 * broke before its usage chunk. Never used where exact counts are reported by the upstream.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Chat message as sent upstream. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/**
 * Estimated prompt tokens of a conversation: each message's text plus ~4 tokens of framing
 * (role, separators), plus 2 for the reply primer, mirroring OpenAI's published counting recipe.
 */
export function estimateMessagesTokens(messages: readonly Pick<ChatMessage, "content">[]): number {
  let total = 2;
  for (const m of messages) total += 4 + estimateTokens(m.content);
  return total;
}
