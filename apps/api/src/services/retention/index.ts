export { defaultRetentionConfig, type RetentionConfig, type RetentionMode } from "../../lib/retention-config.ts";
export { runRetention, type RetentionDeps, type RetentionRun } from "./scrub.ts";
