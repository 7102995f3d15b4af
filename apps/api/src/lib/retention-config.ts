/** How long message contents are kept, and what happens to them afterwards. */
export interface RetentionConfig {
  /**
   * Days after which message contents are scrubbed. `null` keeps them, except in groups whose
   * settings (or an ancestor's) say `{ retention: { days: n } }` — the nearest group wins.
   */
  defaultDays: number | null;
  /** `anonymise`: content emptied and meta reduced to usage numbers; `delete`: message rows removed. */
  mode: RetentionMode;
  /** How often each instance runs the job. */
  intervalMs: number;
  /** Rows per statement: each batch is one short statement, so locks are held briefly. */
  batchSize: number;
  /** Upper bound of batches per run; the rest waits for the next run. */
  maxBatchesPerRun: number;
}

export type RetentionMode = "anonymise" | "delete";

/** Off unless configured: nothing is scrubbed without RETENTION_DAYS or a group setting. */
export function defaultRetentionConfig(overrides: Partial<RetentionConfig> = {}): RetentionConfig {
  return { defaultDays: null, mode: "anonymise", intervalMs: 3_600_000, batchSize: 500, maxBatchesPerRun: 200, ...overrides };
}
