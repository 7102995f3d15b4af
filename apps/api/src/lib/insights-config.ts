/** Timings of teacher insights: the summary job and the attention list (docs/insights.md). */
export interface InsightsConfig {
  /** Time from the end of one summary-job run (on any instance) to the next. */
  summaryIntervalMs: number;
  /** Attempts of one summary before it is given up as `failed` (or `refused` on rate limits). */
  summaryMaxAttempts: number;
  /** A student message with no completed answer for this long makes its session "stuck". */
  stuckAfterSeconds: number;
  /** A student with a live session who wrote nothing for this long is "silent". */
  silentAfterSeconds: number;
  /** Changes within this window recompute a class's attention list once. */
  attentionDebounceMs: number;
}

export function defaultInsightsConfig(overrides: Partial<InsightsConfig> = {}): InsightsConfig {
  return {
    summaryIntervalMs: 3_000,
    summaryMaxAttempts: 5,
    stuckAfterSeconds: 60,
    silentAfterSeconds: 300,
    attentionDebounceMs: 1_000,
    ...overrides,
  };
}

/** The app's insights settings: the configured ones, or the defaults. */
export function insightsConfigOf(config: { insights?: InsightsConfig | undefined }): InsightsConfig {
  return config.insights ?? defaultInsightsConfig();
}
