export { defaultRetentionConfig, type RetentionConfig, type RetentionMode } from "./config.ts";
export { runRetention, type RetentionDeps, type RetentionRun } from "./scrub.ts";
