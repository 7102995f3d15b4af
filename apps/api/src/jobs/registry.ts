import { Counter, Histogram, type Registry } from "prom-client";
import type { AppDeps } from "../deps.ts";
import type { AnswerRunner } from "../lib/ai-service.ts";
import { buildServiceContext } from "../services/context.ts";
import type { JobContext, JobDefinition } from "./define-job.ts";
import { claimLease, dropLease, releaseLease, renewLease, untilClaimable } from "../lib/lease.ts";

/**
 * What jobs run with: the app's dependencies and this instance's answer runner, from which each
 * run's context is built like a request's (`buildServiceContext`), with the job as its actor.
 * `deps.config.instanceId` names this instance as the lease holder (with a per-registry suffix).
 */
export interface JobRegistryDeps {
  deps: AppDeps;
  runner: AnswerRunner;
}

export interface JobRegistryOptions {
  /**
   * Prefix of every lease key: deployments (or test runs) that share one database but must not
   * share their jobs' schedules give themselves different namespaces.
   */
  namespace?: string;
  /** Upper bound of the random delay added to every wait (default 5 s, and at most a fifth of the interval). */
  maxJitterMs?: number;
  random?: () => number;
}

/** What one attempt did: ran the job (ok or failed), or found it held elsewhere, not due, or already running here. */
export type JobAttempt = "ok" | "failed" | "not-claimed" | "busy" | "stopped";

export interface JobRegistry {
  register(job: JobDefinition): void;
  /** Schedules every registered job (its first attempt after a short random delay). Idempotent. */
  start(): void;
  /**
   * Attempts one run now, through the same claim as the schedule: `force` runs it even when not
   * yet due (a manual trigger), never while another instance holds it.
   */
  runOnce(name: string, opts?: { force?: boolean }): Promise<JobAttempt>;
  /**
   * Stops scheduling, aborts running jobs' signals and waits for them up to `timeoutMs`. A job
   * still running then keeps its lease until it expires (nobody else starts it meanwhile).
   */
  stop(timeoutMs?: number): Promise<void>;
  names(): string[];
}

interface JobState {
  job: JobDefinition;
  key: string;
  leaseMs: number;
  timer: ReturnType<typeof setTimeout> | null;
  /** The attempt in flight, from the claim on: `stop` waits for it even before the claim answers. */
  running: Promise<JobAttempt> | null;
  controller: AbortController | null;
}

const DEFAULT_LEASE_MS = 60_000;
// A wait never drops below this, so a job whose claim keeps failing cannot spin.
const MIN_WAIT_MS = 10;

/**
 * Runs background jobs: each at its interval, on exactly one instance at a time (a lease row
 * claimed in the database), with jitter so instances started together do not wake together.
 * A failing job is logged, counted (`job_runs_total{outcome="failed"}`) and tried again at its
 * next interval; nothing a job does can crash the process.
 */
export function createJobRegistry({ deps, runner }: JobRegistryDeps, options: JobRegistryOptions = {}): JobRegistry {
  const jobs = new Map<string, JobState>();
  const holder = `${deps.config.instanceId}:${deps.ids.token(6)}`;
  const random = options.random ?? Math.random;
  const maxJitterMs = options.maxJitterMs ?? 5_000;
  const metrics = jobMetrics(deps.metrics.registry);
  const logger = deps.logger.child({ component: "jobs" });
  let started = false;
  let stopped = false;

  const jitter = (job: JobDefinition) => random() * Math.min(job.intervalMs / 5, maxJitterMs);

  function schedule(state: JobState, waitMs: number) {
    if (stopped) return;
    state.timer = setTimeout(
      () => {
        state.timer = null;
        void tick(state).catch((err: unknown) => logger.error("job scheduling failed", { job: state.job.name, err }));
      },
      Math.max(MIN_WAIT_MS, waitMs),
    );
  }

  async function tick(state: JobState) {
    let waitMs = state.job.intervalMs;
    try {
      const attempt = await attemptRun(state, false);
      if (attempt === "not-claimed") waitMs = Math.min((await untilClaimable(deps.db.db, state.key)) ?? state.job.intervalMs, state.job.intervalMs);
    } catch (err) {
      metrics.claimErrors.inc({ job: state.job.name });
      logger.error("job claim failed; trying again next interval", { job: state.job.name, err });
    }
    schedule(state, waitMs + jitter(state.job));
  }

  async function attemptRun(state: JobState, force: boolean): Promise<JobAttempt> {
    if (stopped) return "stopped";
    // Never overlapped on one instance, whatever the lease says.
    if (state.running) return "busy";
    // Marked running before the claim is sent: a `stop` while the claim is in flight must wait
    // for it, or the job would start after the registry stopped.
    const attempt = claimAndExecute(state, force);
    state.running = attempt;
    try {
      return await attempt;
    } finally {
      state.running = null;
    }
  }

  async function claimAndExecute(state: JobState, force: boolean): Promise<JobAttempt> {
    const claimed = await claimLease(deps.db.db, { name: state.key, holder, leaseMs: state.leaseMs, force });
    if (!claimed) return "not-claimed";
    if (stopped) {
      // Stopped while claiming: hand the lease back unused, leaving the schedule as it was.
      await dropLease(deps.db.db, { name: state.key, holder }).catch((err: unknown) =>
        deps.logger.warn("could not hand back a job lease at stop; it expires on its own", { job: state.job.name, err }),
      );
      return "stopped";
    }
    return execute(state);
  }

  async function execute(state: JobState): Promise<"ok" | "failed"> {
    const { job } = state;
    const controller = new AbortController();
    state.controller = controller;
    const runId = `job:${job.name}:${deps.ids.token(8)}`;
    const ctx: JobContext = {
      ...buildServiceContext(deps, runner, { actor: { kind: "system", name: job.name }, requestId: runId }),
      logger: deps.logger.child({ job: job.name, runId }),
      runId,
      signal: controller.signal,
    };
    const renewal = setInterval(
      () => {
        renewLease(deps.db.db, { name: state.key, holder, leaseMs: state.leaseMs })
          .then((held) => {
            if (held) return;
            ctx.logger.warn("job lost its lease; asking it to stop");
            controller.abort(new Error("lease lost"));
          })
          .catch((err: unknown) => ctx.logger.warn("job lease renewal failed", { err }));
      },
      Math.max(MIN_WAIT_MS, Math.floor(state.leaseMs / 3)),
    );
    const startedAt = performance.now();
    let outcome: "ok" | "failed" = "ok";
    let error: string | null = null;
    try {
      await job.run(ctx);
    } catch (err) {
      outcome = "failed";
      error = describeFailure(err);
      ctx.logger.error("job failed; it runs again next interval", { err });
    } finally {
      clearInterval(renewal);
      state.controller = null;
    }
    metrics.runs.inc({ job: job.name, outcome });
    metrics.duration.observe({ job: job.name }, (performance.now() - startedAt) / 1000);
    try {
      const released = await releaseLease(deps.db.db, { name: state.key, holder, intervalMs: job.intervalMs, outcome, error });
      if (!released) ctx.logger.warn("job finished after its lease was lost");
    } catch (err) {
      // The lease expires on its own; the job is only delayed.
      ctx.logger.error("job lease release failed", { err });
    }
    return outcome;
  }

  return {
    register(job) {
      if (jobs.has(job.name)) throw new Error(`job ${job.name} is registered twice`);
      const key = options.namespace ? `${options.namespace}:${job.name}` : job.name;
      const state: JobState = { job, key, leaseMs: job.leaseMs ?? DEFAULT_LEASE_MS, timer: null, running: null, controller: null };
      jobs.set(job.name, state);
      if (started) schedule(state, jitter(job));
    },
    start() {
      if (started || stopped) return;
      started = true;
      for (const state of jobs.values()) schedule(state, jitter(state.job));
    },
    async runOnce(name, opts = {}) {
      const state = jobs.get(name);
      if (!state) throw new Error(`no job named ${name}`);
      return attemptRun(state, opts.force ?? false);
    },
    async stop(timeoutMs = 10_000) {
      stopped = true;
      const running: Promise<unknown>[] = [];
      for (const state of jobs.values()) {
        if (state.timer) clearTimeout(state.timer);
        state.timer = null;
        state.controller?.abort(new Error("stopping"));
        if (state.running) running.push(state.running);
      }
      if (running.length === 0) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = await Promise.race([
        Promise.allSettled(running).then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        const still = [...jobs.values()].filter((s) => s.running).map((s) => s.job.name);
        logger.warn("jobs still running at stop; their leases expire on their own", { jobs: still, timeoutMs });
      }
    },
    names: () => [...jobs.keys()],
  };
}

/** What `job_leases.last_error` keeps: the message, unless it is a failed query (its text carries the parameters). */
function describeFailure(err: unknown): string {
  if (!(err instanceof Error)) return "non-error thrown";
  if ("query" in err) return `${err.name}: a query failed (details in the log)`;
  return `${err.name}: ${err.message}`.slice(0, 500);
}

/** Collectors on the app's registry; found again rather than re-created when a second registry shares it. */
function jobMetrics(registry: Registry) {
  const runs =
    (registry.getSingleMetric("job_runs_total") as Counter<"job" | "outcome"> | undefined) ??
    new Counter({ name: "job_runs_total", help: "Background job runs by job and outcome (ok, failed)", labelNames: ["job", "outcome"], registers: [registry] });
  const claimErrors =
    (registry.getSingleMetric("job_claim_errors_total") as Counter<"job"> | undefined) ??
    new Counter({ name: "job_claim_errors_total", help: "Failed attempts to claim a job's lease (database unreachable)", labelNames: ["job"], registers: [registry] });
  const duration =
    (registry.getSingleMetric("job_run_duration_seconds") as Histogram<"job"> | undefined) ??
    new Histogram({
      name: "job_run_duration_seconds",
      help: "Background job run time",
      labelNames: ["job"],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers: [registry],
    });
  return { runs, claimErrors, duration };
}
