import { PGlite, type PGliteOptions } from "@electric-sql/pglite";
import { ltree } from "@electric-sql/pglite/contrib/ltree";
import { DatabaseUnavailableError } from "@raptscallions/core";

/*
 * Why this guard exists — the root cause of "one request wedges the embedded database".
 *
 * PGlite runs Postgres compiled to WebAssembly. Recursive C code in the backend (the JSON parser
 * on a 7,000-level `{"a":{"a":…}}` value, for one) uses two stacks: Postgres' own stack in linear
 * memory, which `max_stack_depth` watches, and the JS engine's native stack, which every wasm call
 * frame also occupies and which Postgres cannot see. The native one runs out first, so instead of
 * a clean "stack depth limit exceeded" error the engine throws a JS `RangeError` out of the middle
 * of the backend.
 *
 * PGlite 0.5's protocol loop (`execProtocolRawSync`) catches every exception from one step of the
 * backend loop and only treats its own longjmp marker as an error; anything else is dropped and
 * the loop carries on. So the statement "succeeds" with no rows and no error (drizzle then sees an
 * INSERT … RETURNING with no row: "insert returned no row", or an UPDATE that matched nothing: a
 * 404), while the backend's C state — the error-context and exception stacks, memory contexts —
 * still points into the frames the RangeError unwound. The next statement that raises any
 * ERROR (a NUL byte in a text parameter, say) walks that stale state and spins forever inside the
 * wasm call. That call is synchronous on the thread that owns PGlite, so when that thread is the
 * API's, nothing else — not even /health — runs again.
 *
 * The guard watches the backend step for any exception that is not PGlite's longjmp marker. Once
 * one is seen the instance is dead: the statement that tripped it fails with
 * DATABASE_UNAVAILABLE, and so does every later statement, without touching the backend again.
 * Restarting is the owner's job (the worker host restarts a persistent database; an in-memory one
 * stays down). Lowering `max_stack_depth` does not prevent this: how much native stack a wasm
 * frame takes is unrelated to its linear-memory frame, and the engine's limit depends on the
 * thread (a worker's stack differs from the main thread's).
 */

/** What PGlite throws to unwind a backend ERROR (its `POSTGRES_MAIN_LONGJMP`); any other exception is a crash. */
const PGLITE_LONGJMP_STATUS = 100;

interface BackendModule {
  _PostgresMainLoopOnce: () => void;
}

export interface GuardedPgliteOptions {
  dataDir?: string | undefined;
  loadDataDir?: Blob | undefined;
}

/** A PGlite that refuses to keep running after its backend was aborted mid-statement (see above). */
export class GuardedPGlite extends PGlite {
  #aborted: Error | undefined;

  /** Set when the backend was aborted: the reason, for logs and readiness. */
  get abortedBy(): Error | undefined {
    return this.#aborted;
  }

  /** Called once by `openGuardedPglite` after start-up, when the wasm module exists. */
  installGuard(): void {
    const mod = this.Module as unknown as Partial<BackendModule> | undefined;
    const step = mod?._PostgresMainLoopOnce;
    // Fail loudly if a PGlite upgrade renamed the hook, rather than run unguarded.
    if (!mod || typeof step !== "function")
      throw new Error("PGlite crash guard: _PostgresMainLoopOnce not found; re-check packages/db/src/pglite/guarded.ts against this PGlite version");
    mod._PostgresMainLoopOnce = () => {
      try {
        step();
      } catch (err) {
        const status = typeof err === "object" && err !== null && "status" in err ? err.status : undefined;
        if (status !== PGLITE_LONGJMP_STATUS && !this.#aborted) this.#aborted = err instanceof Error ? err : new Error(String(err));
        throw err;
      }
    };
  }

  override async execProtocolStream(message: Uint8Array, options?: Parameters<PGlite["execProtocolStream"]>[1]): ReturnType<PGlite["execProtocolStream"]> {
    this.#throwIfAborted();
    const result = await super.execProtocolStream(message, options);
    this.#throwIfAborted();
    return result;
  }

  override async close(): Promise<void> {
    // Closing runs statements through the broken backend; the wasm memory is simply dropped.
    if (this.#aborted || this.closed) return;
    await super.close();
  }

  #throwIfAborted(): void {
    if (!this.#aborted) return;
    throw new DatabaseUnavailableError("The embedded database aborted a statement and must be restarted", { cause: this.#aborted });
  }
}

/** Starts PGlite with ltree and the crash guard installed. */
export async function openGuardedPglite(options: GuardedPgliteOptions = {}): Promise<GuardedPGlite> {
  const pgOptions: PGliteOptions = { extensions: { ltree }, ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}) };
  const pg = options.dataDir ? new GuardedPGlite(options.dataDir, pgOptions) : new GuardedPGlite(pgOptions);
  await pg.waitReady;
  pg.installGuard();
  return pg;
}
