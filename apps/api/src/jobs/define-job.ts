import type { ServiceContext, SystemActor } from "../services/context.ts";

/**
 * What a job's `run` receives: a system context named after the job (its audit entries say
 * `{ kind: "system", name }`, its log lines carry the job name and run id), and a signal that
 * is aborted when the registry stops or the run loses its lease. A long run checks the signal
 * between units of work (batches) and returns early; whatever it leaves is done next run.
 */
export interface JobContext extends ServiceContext<SystemActor> {
  runId: string;
  signal: AbortSignal;
}

/** A unit of background work: run every `intervalMs` by exactly one instance at a time. */
export interface JobDefinition {
  /** Unique within the registry; also the job's lease key and its audit actor name. */
  name: string;
  /** Time from the end of one run (on any instance) to the next. */
  intervalMs: number;
  /**
   * How long a claim holds without renewal (default 60 s). The holder renews it every third of
   * that while running; an instance that dies mid-run blocks the job for at most this long.
   */
  leaseMs?: number;
  run(ctx: JobContext): Promise<unknown>;
}

/** Declares a job; `createJobRegistry().register()` schedules it. */
export function defineJob(job: JobDefinition): JobDefinition {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(job.name)) throw new Error(`job name must be kebab-case: ${job.name}`);
  if (!(job.intervalMs > 0)) throw new Error(`job ${job.name}: intervalMs must be positive`);
  return job;
}
