/**
 * Runs synchronous, CPU-bound steps (a chat turn's content modules) first come first served, as
 * many in one event-loop task as fit a time budget and the rest in the tasks after it.
 *
 * Why: when many students send at once (a class told "go"), their session reads come back
 * together and every turn's modules would run back to back in one microtask drain — a few hundred
 * of them stop the loop for a few hundred milliseconds, and every answer already streaming on the
 * instance (its coalescing timers, its publishes, its socket writes) waits behind them. In slices,
 * those run between slices; the turns themselves start in the order they arrived, and the steps
 * in one slice still leave their writes together.
 */
export interface CpuSlices {
  /**
   * True when there is no budget: nothing is queued, so a caller may run its step where it
   * stands (synchronously) instead of through `run`, which would only add a promise and a hop.
   */
  readonly inline: boolean;
  /** Runs `fn` in its turn; resolves with its result or rejects with what it threw. */
  run<T>(fn: () => T): Promise<T>;
}

interface Job {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export interface CpuSlicesOptions {
  /** Wall time one task may spend on queued steps before the rest wait for the next task (ms). */
  budgetMs: number;
  /** For tests: the clock the budget is measured on, and how the next task is reached. */
  now?: () => number;
  nextTask?: (run: () => void) => void;
}

/** Slices of `budgetMs`; 0: every step runs where it is queued (one microtask later), none waits. */
export function createCpuSlices(opts: CpuSlicesOptions): CpuSlices {
  if (opts.budgetMs <= 0) {
    return {
      inline: true,
      run<T>(fn: () => T): Promise<T> {
        try {
          return Promise.resolve(fn());
        } catch (err) {
          return Promise.reject(err);
        }
      },
    };
  }
  const now = opts.now ?? (() => performance.now());
  const nextTask = opts.nextTask ?? ((run: () => void) => void setImmediate(run));
  let queue: Job[] = [];
  let head = 0;
  let drainQueued = false;
  // When the current task's slice began; -1 between slices.
  let sliceStart = -1;

  const drain = (): void => {
    drainQueued = false;
    if (sliceStart < 0) {
      sliceStart = now();
      // The slice ends with the task: the next one starts with a fresh budget and takes the rest.
      nextTask(() => {
        sliceStart = -1;
        if (head < queue.length) drain();
      });
    }
    while (head < queue.length && now() - sliceStart < opts.budgetMs) {
      const job = queue[head] as Job;
      queue[head] = undefined as unknown as Job;
      head++;
      try {
        job.resolve(job.fn());
      } catch (err) {
        job.reject(err);
      }
    }
    if (head === queue.length) {
      queue = [];
      head = 0;
    }
  };

  return {
    inline: false,
    run<T>(fn: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
        // Steps queued in the same microtask drain run together in one pass (within the budget);
        // while a slice's budget is spent, the next task's drain takes them.
        if (!drainQueued && (sliceStart < 0 || now() - sliceStart < opts.budgetMs)) {
          drainQueued = true;
          queueMicrotask(drain);
        }
      });
    },
  };
}

/**
 * The default budget of the turn-start slices (`LIVE_TURN_SLICE_MS`), ms. 16: when a class sends at
 * once, the turns' modules run in a few tasks of about this much each instead of one stop of the
 * loop for all of them (200 sends: 80–110 ms of CPU in one piece on the live bench's instance A,
 * 30–50 ms with 16), and the turns in one slice still leave their statements and publishes in shared
 * writes. A 4 ms budget cut the stop further but cost 0.4–0.8 ms of CPU per turn, since the writes no
 * longer left together (bench/README.md, turn.bench.ts's seventh and thirteenth passes).
 */
export const DEFAULT_TURN_SLICE_MS = 16;

/**
 * Turn-start slices with the default budget, for a module gate built without its own (the app
 * passes one from its live config).
 */
export const turnStartSlices: CpuSlices = createCpuSlices({ budgetMs: DEFAULT_TURN_SLICE_MS });
