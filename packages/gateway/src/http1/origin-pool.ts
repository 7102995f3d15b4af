import { Connection } from "./connection.ts";

/** Where a URL's requests go: one pool per origin. */
export interface Target {
  origin: string;
  hostname: string;
  port: number;
  tls: boolean;
  /** `host` header value. */
  host: string;
  path: string;
}

/** The connections to one origin: at most `max` open, idle ones reused last-in first-out. */
export class OriginPool {
  readonly idle: Connection[] = [];
  readonly waiting: Array<() => void> = [];
  open = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly target: Target,
    private readonly max: number,
    private readonly idleMs: number,
    private readonly ca: string[] | undefined,
  ) {}

  async acquire(signal: AbortSignal): Promise<Connection> {
    for (;;) {
      const kept = this.idle.pop();
      if (kept !== undefined) {
        kept.socket?.ref();
        return kept;
      }
      if (this.open < this.max) return Connection.open(this, this.ca, signal);
      await this.#wait(signal);
    }
  }

  /** The connection finished an answer and may carry the next. */
  release(conn: Connection): void {
    conn.idleSince = performance.now();
    conn.socket?.unref();
    this.idle.push(conn);
    if (this.#sweeper === undefined) {
      this.#sweeper = setInterval(() => this.closeIdle(this.idleMs), Math.max(250, this.idleMs / 4));
      this.#sweeper.unref();
    }
    this.waiting.shift()?.();
  }

  /** The connection closed (counted once per connection). */
  gone(conn: Connection): void {
    this.open--;
    const at = this.idle.indexOf(conn);
    if (at >= 0) this.idle.splice(at, 1);
    this.waiting.shift()?.();
  }

  closeIdle(olderThanMs: number): void {
    const now = performance.now();
    // Oldest first: the list is in release order.
    while (this.idle.length > 0 && now - (this.idle[0] as Connection).idleSince >= olderThanMs) (this.idle[0] as Connection).destroy();
    if (this.idle.length === 0 && this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  #wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const at = this.waiting.indexOf(wake);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(wake);
    });
  }
}
