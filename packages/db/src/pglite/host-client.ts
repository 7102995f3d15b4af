import { fileURLToPath } from "node:url";
import { AppError, DatabaseTimeoutError, DatabaseUnavailableError } from "@raptscallions/core";
import type { Subprocess } from "bun";
import type { HostCall, HostRequest, HostResponse, SerializedError, WireResults } from "./protocol.ts";

export interface PgliteHostOptions {
  /** Persistent data directory; without one the database is in memory and is not restarted. */
  dataDir?: string | undefined;
  loadDataDir?: Blob | undefined;
  /**
   * Watchdog for one statement (and for waiting for the connection). PGlite cannot cancel a
   * running statement, so past this its process is killed, every pending statement fails, and a
   * persistent database is reopened (Postgres recovers from its WAL). 0 = no limit.
   */
  statementTimeoutMs: number;
  /** How long start-up (and a restart) may take before it counts as failed. */
  startTimeoutMs?: number;
  /** Told about terminations and restarts, for logs. */
  onEvent?: ((event: { type: "terminated" | "restarted" | "restart-failed"; reason: string }) => void) | undefined;
}

export type EmbeddedState = "ready" | "restarting" | "failed" | "closed";

type Parser = (value: string, typeId: number) => unknown;
interface QueryOptions {
  rowMode?: "array" | "object";
  parsers?: Record<number, Parser>;
}

/** The slice of PGlite's interface drizzle's pglite driver uses, inside a transaction. */
export interface HostTransaction {
  query(sql: string, params?: unknown[], options?: QueryOptions): Promise<WireResults>;
  exec(sql: string): Promise<WireResults[]>;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** One host process and the calls in flight to it; replaced wholesale on restart. */
class Generation {
  readonly pending = new Map<number, Pending>();
  dead = false;
  /** Where this generation's messages go once start-up is over. */
  onMessage: (message: HostResponse) => void = () => {};
  constructor(readonly proc: Subprocess<"ignore", "inherit", "inherit">) {}
}

const HOST_PATH = fileURLToPath(new URL("./host.ts", import.meta.url));

/**
 * PGlite in a child process, shaped like the PGlite client drizzle expects. Every statement is
 * serialised (PGlite is one connection) and bounded by the watchdog, so a statement that never
 * returns costs its request a DATABASE_TIMEOUT instead of costing the API its event loop.
 */
export class PgliteHostClient {
  #gen: Generation;
  #state: EmbeddedState = "ready";
  #problem: string | undefined;
  #nextId = 0;
  #locked = false;
  #waiters: (() => void)[] = [];

  private constructor(
    private readonly options: PgliteHostOptions,
    gen: Generation,
  ) {
    this.#gen = gen;
    this.#attach(gen);
  }

  static async start(options: PgliteHostOptions): Promise<PgliteHostClient> {
    const loadDataDir = options.loadDataDir ? await options.loadDataDir.arrayBuffer() : undefined;
    return new PgliteHostClient(options, await spawn(options, loadDataDir));
  }

  get state(): EmbeddedState {
    return this.#state;
  }

  /** Why the database is not ready (the last termination or failed restart), if it is not. */
  get problem(): string | undefined {
    return this.#state === "ready" ? undefined : this.#problem;
  }

  async query(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<WireResults> {
    return this.#exclusive(() => this.#query(this.#gen, sql, params, options));
  }

  async exec(sql: string): Promise<WireResults[]> {
    return this.#exclusive(() => this.#call(this.#gen, { op: "exec", sql }) as Promise<WireResults[]>);
  }

  /** BEGIN … COMMIT holding the one connection; ROLLBACK when `fn` throws. */
  async transaction<T>(fn: (tx: HostTransaction) => Promise<T>): Promise<T> {
    return this.#exclusive(async () => {
      const gen = this.#gen;
      await this.#call(gen, { op: "exec", sql: "BEGIN" });
      const tx: HostTransaction = {
        query: (sql, params = [], options = {}) => this.#query(gen, sql, params, options),
        exec: (sql) => this.#call(gen, { op: "exec", sql }) as Promise<WireResults[]>,
      };
      try {
        const result = await fn(tx);
        await this.#call(gen, { op: "exec", sql: "COMMIT" });
        return result;
      } catch (err) {
        // Nothing to roll back on a killed host; its restart discards the transaction.
        if (!gen.dead) await this.#call(gen, { op: "exec", sql: "ROLLBACK" }).catch(() => {});
        throw err;
      }
    });
  }

  async ping(): Promise<void> {
    // Readiness is for operators: it says why; statement errors (seen by clients) do not.
    if (this.#state !== "ready") throw new Error(`embedded database ${this.#state === "failed" ? "down" : this.#state}${this.#problem ? `: ${this.#problem}` : ""}`);
    await this.query("select 1");
  }

  async dump(): Promise<Blob> {
    const buffer = (await this.#exclusive(() => this.#call(this.#gen, { op: "dump" }))) as ArrayBuffer;
    return new Blob([buffer]);
  }

  async close(): Promise<void> {
    if (this.#state === "closed") return;
    const gen = this.#gen;
    if (this.#state === "ready") await this.#call(gen, { op: "close" }).catch(() => {});
    this.#state = "closed";
    this.#kill(gen, new DatabaseUnavailableError("The embedded database is closed"));
  }

  async #query(gen: Generation, sql: string, params: unknown[], options: QueryOptions): Promise<WireResults> {
    const parsers = options.parsers ?? {};
    const rawTypes = Object.keys(parsers).map(Number);
    const rowMode = options.rowMode ?? "object";
    const result = (await this.#call(gen, { op: "query", sql, params, rowMode, rawTypes })) as WireResults;
    if (rawTypes.length > 0) applyParsers(result, parsers, rowMode);
    return result;
  }

  #call(gen: Generation, call: HostCall): Promise<unknown> {
    if (gen.dead || gen !== this.#gen || this.#state !== "ready") return Promise.reject(this.#unavailable());
    const id = ++this.#nextId;
    const limit = this.options.statementTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer =
        limit > 0
          ? setTimeout(() => {
              const reason = `a statement ran past ${limit} ms`;
              const timeout = new DatabaseTimeoutError(`The embedded database did not answer within ${limit} ms`);
              gen.pending.get(id)?.reject(timeout);
              gen.pending.delete(id);
              this.#terminate(gen, reason);
            }, limit)
          : undefined;
      gen.pending.set(id, { resolve, reject, timer });
      const message: HostRequest = { type: "call", id, call };
      gen.proc.send(message);
    });
  }

  /** Runs `fn` holding the connection; waiting for it is bounded by the watchdog too. */
  async #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#state !== "ready") throw this.#unavailable();
    if (this.#locked) await this.#wait();
    this.#locked = true;
    try {
      return await fn();
    } finally {
      const next = this.#waiters.shift();
      if (next) next();
      else this.#locked = false;
    }
  }

  #wait(): Promise<void> {
    const limit = this.options.statementTimeoutMs;
    return new Promise((resolve, reject) => {
      const grant = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      this.#waiters.push(grant);
      const timer =
        limit > 0
          ? setTimeout(() => {
              this.#waiters = this.#waiters.filter((w) => w !== grant);
              reject(new DatabaseTimeoutError(`The embedded database was busy for more than ${limit} ms`));
            }, limit)
          : undefined;
    });
  }

  #unavailable(): DatabaseUnavailableError {
    if (this.#state === "closed") return new DatabaseUnavailableError("The embedded database is closed");
    return new DatabaseUnavailableError(`The embedded database is ${this.#state === "failed" ? "down" : "restarting"}`, {
      cause: this.#problem ? new Error(this.#problem) : undefined,
    });
  }

  /** Kills a host that is stuck or broken, fails what it had in flight, and restarts if it can. */
  #terminate(gen: Generation, reason: string): void {
    if (gen.dead || gen !== this.#gen || this.#state === "closed") return;
    this.#problem = reason;
    // An in-memory database cannot be recovered: restarting would silently serve an empty one.
    this.#state = this.options.dataDir ? "restarting" : "failed";
    this.#kill(gen, this.#unavailable());
    this.options.onEvent?.({ type: "terminated", reason });
    if (this.#state === "restarting") void this.#restart();
  }

  async #restart(): Promise<void> {
    try {
      const gen = await spawn(this.options, undefined);
      if (this.#state !== "restarting") {
        gen.proc.kill("SIGKILL");
        return;
      }
      this.#gen = gen;
      this.#attach(gen);
      this.#state = "ready";
      this.options.onEvent?.({ type: "restarted", reason: this.#problem ?? "" });
    } catch (err) {
      this.#problem = `restart failed: ${err instanceof Error ? err.message : String(err)}`;
      this.#state = "failed";
      this.options.onEvent?.({ type: "restart-failed", reason: this.#problem });
    }
  }

  #kill(gen: Generation, err: Error): void {
    gen.dead = true;
    gen.proc.kill("SIGKILL");
    for (const p of gen.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
    gen.pending.clear();
  }

  /** Routes a host's messages to this client (once per generation). */
  #attach(gen: Generation): void {
    gen.onMessage = (msg) => {
      if (msg.type === "aborted") return this.#terminate(gen, `the backend was aborted: ${msg.reason}`);
      if (msg.type !== "result" && msg.type !== "error") return;
      const p = gen.pending.get(msg.id);
      if (!p) return;
      gen.pending.delete(msg.id);
      if (p.timer) clearTimeout(p.timer);
      if (msg.type === "result") p.resolve(msg.value);
      else p.reject(deserializeError(msg.error));
    };
    void gen.proc.exited.then((code) => this.#terminate(gen, `the database process exited (${gen.proc.signalCode ?? code})`));
  }
}

/** Starts a host process and waits for its PGlite, within the start-up limit. */
async function spawn(options: PgliteHostOptions, loadDataDir: ArrayBuffer | undefined): Promise<Generation> {
  let gen: Generation | undefined;
  const early: HostResponse[] = [];
  const proc = Bun.spawn([process.execPath, HOST_PATH], {
    stdio: ["ignore", "inherit", "inherit"],
    serialization: "advanced",
    ipc(message: HostResponse) {
      if (gen) gen.onMessage(message);
      else early.push(message);
    },
  });
  gen = new Generation(proc);
  const limit = options.startTimeoutMs ?? 120_000;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the PGlite process did not start within ${limit} ms`)), limit);
      const settle = (message: HostResponse) => {
        if (message.type === "ready") resolve();
        else if (message.type === "init-failed") reject(deserializeError(message.error));
        else return;
        clearTimeout(timer);
      };
      if (!gen) return;
      gen.onMessage = settle;
      for (const message of early.splice(0)) settle(message);
      void proc.exited.then((code) => reject(new Error(`the PGlite process exited during start-up (${proc.signalCode ?? code})`)));
      const init: HostRequest = { type: "init", dataDir: options.dataDir, loadDataDir };
      proc.send(init);
    });
  } catch (err) {
    proc.kill("SIGKILL");
    throw err;
  }
  return gen;
}

function deserializeError(error: SerializedError): Error {
  if (error.appCode === "DATABASE_UNAVAILABLE") return new DatabaseUnavailableError(error.message);
  if (error.appCode) return new AppError("INTERNAL", error.message);
  return Object.assign(new Error(error.message), error.fields);
}

function applyParsers(result: WireResults, parsers: Record<number, Parser>, rowMode: "array" | "object"): void {
  result.fields.forEach((field, i) => {
    const parse = parsers[field.dataTypeID];
    if (!parse) return;
    for (const row of result.rows) {
      const cells = row as Record<string | number, unknown>;
      const key = rowMode === "array" ? i : field.name;
      const value = cells[key];
      if (typeof value === "string") cells[key] = parse(value, field.dataTypeID);
    }
  });
}
