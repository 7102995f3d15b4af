import type { HeaderReader, UpstreamBody, UpstreamResponse } from "../transport.ts";
import type { Connection } from "./connection.ts";

/** One answer: its head, then its body's chunks as the socket delivers them. */
export class Answer implements UpstreamBody {
  chunks: Uint8Array[] = [];
  ended = false;
  readonly head: Promise<UpstreamResponse>;
  #error: unknown = null;
  #discard = false;
  #discardTimer: ReturnType<typeof setTimeout> | undefined;
  #headSettle: { resolve: (res: UpstreamResponse) => void; reject: (err: unknown) => void } | null = null;
  #waiter: { resolve: (chunks: readonly Uint8Array[] | null) => void; reject: (err: unknown) => void } | null = null;
  readonly #onAbort: () => void;

  constructor(
    private readonly conn: Connection,
    private readonly signal: AbortSignal,
  ) {
    this.head = new Promise((resolve, reject) => {
      this.#headSettle = { resolve, reject };
    });
    // For the answer's whole life, as a fetch signal covers its body: a time-out while an error
    // body is read ends that read too.
    this.#onAbort = () => this.cancel(signal.reason);
    signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  onHead(status: number, headers: HeaderReader): void {
    const settle = this.#headSettle;
    this.#headSettle = null;
    settle?.resolve({ status, ok: status >= 200 && status < 300, headers, body: this, text: () => this.text() });
  }

  onEnd(): void {
    this.ended = true;
    this.signal.removeEventListener("abort", this.#onAbort);
    if (this.#discardTimer !== undefined) clearTimeout(this.#discardTimer);
  }

  /** A body chunk, or nothing once the reader no longer wants them. */
  push(chunk: Uint8Array): void {
    if (!this.#discard) this.chunks.push(chunk);
  }

  fail(err: unknown): void {
    if (this.ended || this.#error !== null) return;
    this.#error = err;
    if (this.#discardTimer !== undefined) clearTimeout(this.#discardTimer);
    this.signal.removeEventListener("abort", this.#onAbort);
    const settle = this.#headSettle;
    this.#headSettle = null;
    if (settle !== null) settle.reject(err);
    else this.flush();
  }

  /** Hands what arrived to a pending read. */
  flush(): void {
    const waiter = this.#waiter;
    if (waiter === null) return;
    if (this.chunks.length > 0) {
      this.#waiter = null;
      const chunks = this.chunks;
      this.chunks = [];
      waiter.resolve(chunks);
    } else if (this.#error !== null) {
      this.#waiter = null;
      waiter.reject(this.#error);
    } else if (this.ended) {
      this.#waiter = null;
      waiter.resolve(null);
    }
  }

  read(): Promise<readonly Uint8Array[] | null> {
    if (this.chunks.length > 0) {
      const chunks = this.chunks;
      this.chunks = [];
      return Promise.resolve(chunks);
    }
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  release(): void {
    if (this.ended || this.#error !== null) return;
    this.signal.removeEventListener("abort", this.#onAbort);
    this.#discard = true;
    this.chunks = [];
    // The end of the answer (its last chunk, after `[DONE]`) is usually in flight: keep the
    // connection if it comes soon.
    this.#discardTimer = setTimeout(() => this.cancel(new Error("The rest of the answer did not come")), 1_000);
  }

  cancel(reason: unknown): void {
    if (this.ended || this.#error !== null) return;
    this.chunks = [];
    this.conn.destroy();
    this.fail(reason ?? new Error("cancelled"));
  }

  /** The whole body as text (error answers; the caller bounds what it keeps). */
  async text(): Promise<string> {
    const decoder = new TextDecoder();
    let text = "";
    for (;;) {
      const chunks = await this.read();
      if (chunks === null) return text + decoder.decode();
      for (const chunk of chunks) text += decoder.decode(chunk, STREAM);
    }
  }
}
const STREAM = { stream: true } as const;

/** The answer's headers as http-parser-js gives them, `[name, value, …]`, looked up by name. */
export class RawHeaders implements HeaderReader {
  constructor(private readonly raw: string[]) {}
  get(name: string): string | null {
    const key = name.toLowerCase();
    const raw = this.raw;
    let found: string | null = null;
    for (let i = 0; i < raw.length; i += 2) {
      if ((raw[i] as string).toLowerCase() === key) found = found === null ? (raw[i + 1] as string) : `${found}, ${raw[i + 1] as string}`;
    }
    return found;
  }
}
