/** How long message contents, run inputs/outputs and session titles are kept, and what happens to them afterwards. */
export interface RetentionConfig {
  /**
   * Days after which message contents are scrubbed. `null` keeps them, except in groups whose
   * settings (or an ancestor's) say `{ retention: { days: n } }` — the nearest group wins.
   */
  defaultDays: number | null;
  /**
   * Days after which an under-13 student's records are scrubbed when their group would keep them
   * longer (or for ever): the stricter setting COPPA asks for. Groups may set their own in
   * `settings.privacy.under13RetentionDays`.
   */
  under13Days: number;
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

/**
 * Off for most records unless configured (nothing is scrubbed without RETENTION_DAYS or a group
 * setting), except an under-13 student's: 90 days, about a grading period, by default.
 */
export const DEFAULT_UNDER13_RETENTION_DAYS = 90;

export function defaultRetentionConfig(overrides: Partial<RetentionConfig> = {}): RetentionConfig {
  return {
    defaultDays: null,
    under13Days: DEFAULT_UNDER13_RETENTION_DAYS,
    mode: "anonymise",
    intervalMs: 3_600_000,
    batchSize: 500,
    maxBatchesPerRun: 200,
    ...overrides,
  };
}
