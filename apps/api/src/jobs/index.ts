import type { AppConfig } from "../deps.ts";
import { defaultRetentionConfig } from "../services/retention/index.ts";
import type { JobDefinition } from "./define-job.ts";
import { retentionJob } from "./retention.ts";
import { alertEscalationJob } from "./alert-escalation.ts";
import { notificationDigestJob } from "./notification-digest.ts";
import { sweeperJob } from "./sweeper.ts";
import { rosterSyncJob } from "./roster-sync.ts";
import { rosterConfigOf } from "../services/roster/settings.ts";
import { sessionSummariesJob } from "./session-summaries.ts";
import { insightsConfigOf } from "../lib/insights-config.ts";

export { defineJob, type JobContext, type JobDefinition } from "./define-job.ts";
export { createJobRegistry, type JobAttempt, type JobRegistry, type JobRegistryDeps, type JobRegistryOptions } from "./registry.ts";

/** Every job the server runs. A new job: a file in this folder, and one line here. */
export function appJobs(config: AppConfig): JobDefinition[] {
  return [
    sweeperJob(config.live),
    retentionJob(config.retention ?? defaultRetentionConfig()),
    alertEscalationJob(),
    notificationDigestJob(),
    rosterSyncJob(rosterConfigOf(config)),
    sessionSummariesJob(insightsConfigOf(config)),
  ];
}
