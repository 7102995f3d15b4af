// The gateway's way to reach a provider: HTTP/1.1 over `Bun.connect` sockets, kept alive per origin.
//
// Why not `fetch`: Bun's fetch reads the socket on its own "HTTP Client" thread and wakes the
// JavaScript thread for every chunk — for a streamed answer, every token (bench/README.md,
// turn.bench.ts, "Tenth pass, alongside: the per-token path"). Here the JavaScript thread reads the
// socket itself: no second thread, no cross-thread wake-up, about half the system calls a token.
// The request is written by us; the answer is parsed by http-parser-js (status line, headers,
// chunked and content-length bodies). No proxy is used, whatever HTTP(S)_PROXY says.
import { HTTPParser } from "http-parser-js";
import type { FetchLike } from "./client-types.ts";
import { fetchTransport, type HeaderReader, type UpstreamBody, type UpstreamRequestInit, type UpstreamResponse, type UpstreamTransport } from "./transport.ts";

export interface Http1AgentOptions {
  /** Connections per origin (answers streaming at once); requests beyond it wait for one (default 256). */
  maxConnectionsPerOrigin?: number;
  /** A kept connection idle this long is closed (default 4 000 ms, under the common 5 s server keep-alive). */
  idleMs?: number;
  /** Trusted certificate authorities for https (PEM). Replaces Bun's bundled roots: tests and private gateways. */
  ca?: string | readonly string[];
}

/** Where a URL's requests go: one pool per origin. */
interface Target {
  origin: string;
  hostname: string;
  port: number;
  tls: boolean;
  /** `host` header value. */
  host: string;
  path: string;
}

/**
 * HTTP/1.1 connections to the upstream origins, kept alive and reused. `request` is an
 * {@link UpstreamTransport}. Idle kept sockets do not keep the process alive.
 */
export class Http1Agent {
  readonly #pools = new Map<string, OriginPool>();
  readonly #targets = new Map<string, Target>();
  readonly #max: number;
  readonly #idleMs: number;
  readonly #ca: string[] | undefined;

  constructor(options: Http1AgentOptions = {}) {
    this.#max = options.maxConnectionsPerOrigin ?? 256;
    this.#idleMs = options.idleMs ?? 4_000;
    this.#ca = options.ca === undefined ? undefined : typeof options.ca === "string" ? [options.ca] : [...options.ca];
  }

  readonly request: UpstreamTransport = async (url, init) => {
    const target = this.#target(url);
    const signal = init.signal;
    signal.throwIfAborted();
    const bytes = requestBytes(target, init);
    let pool = this.#pools.get(target.origin);
    if (pool === undefined) {
      pool = new OriginPool(target, this.#max, this.#idleMs, this.#ca);
      this.#pools.set(target.origin, pool);
    }
    for (let attempt = 0; ; attempt++) {
      const conn = await pool.acquire(signal);
      try {
        return await conn.send(bytes, signal);
      } catch (err) {
        // A kept connection the server closed while it was idle: the request never reached it.
        if (err === STALE && attempt === 0) continue;
        throw err === STALE ? new Error("The AI service closed a kept connection without answering") : err;
      }
    }
  };

  /** Connections per origin: open (busy or idle), idle, and requests waiting for one. */
  stats(url: string): { open: number; idle: number; waiting: number } {
    const pool = this.#pools.get(this.#target(url).origin);
    return pool ? { open: pool.open, idle: pool.idle.length, waiting: pool.waiting.length } : { open: 0, idle: 0, waiting: 0 };
  }

  /** Closes every idle connection (answers in flight finish on theirs). */
  closeIdle(): void {
    for (const pool of this.#pools.values()) pool.closeIdle(0);
  }

  #target(url: string): Target {
    let target = this.#targets.get(url);
    if (target !== undefined) return target;
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new TypeError(`The AI service URL must be http or https, not ${u.protocol}`);
    const tls = u.protocol === "https:";
    const port = u.port === "" ? (tls ? 443 : 80) : Number(u.port);
    const hostname = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
    target = { origin: `${u.protocol}//${u.host}`, hostname, port, tls, host: u.host, path: `${u.pathname}${u.search}` };
    if (this.#targets.size > 64) this.#targets.clear();
    this.#targets.set(url, target);
    return target;
  }
}

let shared: Http1Agent | null = null;

/**
 * How a client reaches its upstream: the given agent's connections, else the process' shared ones;
 * an injected `fetch` (an in-process app in tests) instead when one is given.
 */
export function upstreamTransport(opts: { fetch?: FetchLike | undefined; agent?: Http1Agent | undefined }): UpstreamTransport {
  if (opts.fetch) return fetchTransport(opts.fetch);
  if (opts.agent) return opts.agent.request;
  if (shared === null) shared = new Http1Agent();
  return shared.request;
}

/** The request's bytes, written by us: one buffer, one write when the socket takes it all. */
function requestBytes(target: Target, init: UpstreamRequestInit): Buffer {
  let head = `${init.method} ${target.path} HTTP/1.1\r\nhost: ${target.host}\r\nconnection: keep-alive\r\ncontent-length: ${Buffer.byteLength(init.body)}\r\n`;
  for (const name in init.headers) {
    const value = init.headers[name] as string;
    const lower = name.toLowerCase();
    // Ours to set; no accept-encoding either, so the answer comes uncompressed.
    if (lower === "host" || lower === "connection" || lower === "content-length" || lower === "transfer-encoding" || lower === "accept-encoding") continue;
    if (!TOKEN.test(name) || /[\r\n\0]/.test(value)) throw new TypeError(`Invalid header for the AI service: ${name}`);
    head += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${head}\r\n${init.body}`);
}
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A socket error with its system code in the message ("Failed to connect (ECONNREFUSED)"). */
function withCode(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(String(err));
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && !err.message.includes(code) ? new Error(`${err.message} (${code})`, { cause: err }) : err;
}

/** The reason a kept connection's request is sent again once on a new connection. */
const STALE = new Error("stale kept connection");

/** The connections to one origin: at most `max` open, idle ones reused last-in first-out. */
class OriginPool {
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

type Sock = Bun.Socket<Connection>;

// One set of handlers for every socket: the connection is the socket's data.
const handlers: Bun.SocketHandler<Connection> = {
  open: (socket) => socket.data.onOpen(socket),
  data: (socket, data) => socket.data.onData(data),
  drain: (socket) => socket.data.onDrain(),
  error: (socket, error) => socket.data.onError(error),
  close: (socket, error) => socket.data.onClose(error),
  connectError: (socket, error) => socket.data.onError(error),
};

/** One kept-alive socket and its response parser; carries one answer at a time. */
class Connection {
  socket: Sock | null = null;
  idleSince = 0;
  #answer: Answer | null = null;
  readonly #parser = new HTTPParser(HTTPParser.RESPONSE);
  #pending: Buffer | null = null;
  #uses = 0;
  #gotBytes = false;
  /** The answer's head was a 1xx: its end is not the answer's. */
  #interim = false;
  #keepAlive = false;
  #closed = false;
  #error: Error | null = null;
  #opened: { resolve: () => void; reject: (err: Error) => void } | null = null;

  private constructor(private readonly pool: OriginPool) {
    pool.open++;
    const parser = this.#parser;
    parser[HTTPParser.kOnHeadersComplete] = (info) => this.#onHead(info.statusCode, info.headers, info.shouldKeepAlive);
    parser[HTTPParser.kOnBody] = (chunk) => this.#answer?.push(chunk);
    parser[HTTPParser.kOnMessageComplete] = () => this.#onMessageComplete();
    // Trailers: rare from a model, and what http-parser-js makes of the lines after a chunk size
    // it cannot read (it takes NaN for the last chunk). Either way the connection is not reused.
    parser[HTTPParser.kOnHeaders] = () => {
      this.#keepAlive = false;
    };
  }

  /** Connects (and for https verifies the certificate) before anything is written. */
  static async open(pool: OriginPool, ca: string[] | undefined, signal: AbortSignal): Promise<Connection> {
    const conn = new Connection(pool);
    const { hostname, port, tls } = pool.target;
    const opened = new Promise<void>((resolve, reject) => {
      conn.#opened = { resolve, reject };
    });
    const onAbort = (): void => conn.destroy();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const sni = /^[\d.]+$|:/.test(hostname) ? undefined : hostname;
      Bun.connect<Connection>({
        hostname,
        port,
        data: conn,
        socket: handlers,
        ...(tls ? { tls: { ...(sni ? { serverName: sni } : {}), ...(ca ? { ca } : {}) } } : {}),
      }).then(
        (socket) => {
          conn.socket ??= socket;
          if (conn.#closed) socket.terminate();
        },
        (err: unknown) => conn.#failOpen(withCode(err)),
      );
      await opened;
      signal.throwIfAborted();
      return conn;
    } catch (err) {
      conn.destroy();
      if (signal.aborted) throw signal.reason;
      throw err;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  onOpen(socket: Sock): void {
    this.socket = socket;
    if (this.#closed) {
      socket.terminate();
      return;
    }
    if (this.pool.target.tls && !socket.authorized) {
      const why = socket.getAuthorizationError()?.message ?? "certificate not trusted";
      this.#failOpen(new Error(`TLS: the AI service's certificate was refused (${why})`));
      return;
    }
    this.#opened?.resolve();
    this.#opened = null;
  }

  #failOpen(err: Error): void {
    const opened = this.#opened;
    this.#opened = null;
    this.destroy();
    opened?.reject(err);
  }

  /** Writes the request; resolves with the answer's head. */
  send(bytes: Buffer, signal: AbortSignal): Promise<UpstreamResponse> {
    this.#uses++;
    this.#gotBytes = false;
    this.#interim = false;
    this.#parser.initialize(HTTPParser.RESPONSE);
    const answer = new Answer(this, signal);
    this.#answer = answer;
    // Aborted while the connection was handed over: its listener was added too late to hear it.
    if (signal.aborted) answer.cancel(signal.reason);
    else this.#write(bytes);
    return answer.head;
  }

  #write(bytes: Buffer): void {
    const socket = this.socket;
    if (socket === null || this.#closed) return;
    const written = socket.write(bytes);
    this.#pending = written < bytes.length ? bytes.subarray(Math.max(0, written)) : null;
  }

  onDrain(): void {
    if (this.#pending !== null) this.#write(this.#pending);
  }

  onData(data: Buffer): void {
    const answer = this.#answer;
    if (answer === null) {
      // Bytes nobody asked for (on an idle connection): it cannot be trusted with the next request.
      this.destroy();
      return;
    }
    this.#gotBytes = true;
    let out: number | Error;
    try {
      out = this.#parser.execute(data);
    } catch (err) {
      out = err instanceof Error ? err : new Error(String(err));
    }
    if (out instanceof Error) {
      const code = (out as { code?: string }).code;
      this.#fail(answer, new Error(`The AI service sent a malformed HTTP answer (${code ?? out.message})`));
      return;
    }
    answer.flush();
  }

  #onHead(status: number, raw: string[], keepAlive: boolean): void {
    const answer = this.#answer;
    if (answer === null) throw new Error("an answer nobody asked for");
    // 1xx (e.g. 103 Early Hints) come before the real head; http-parser-js ends them as empty answers.
    if (status < 200) {
      this.#interim = true;
      return;
    }
    this.#keepAlive = keepAlive;
    const headers = new RawHeaders(raw);
    const length = headers.get("content-length");
    if (length !== null && !/^\d+$/.test(length.trim())) throw new Error("HPE_INVALID_CONTENT_LENGTH");
    const encoding = headers.get("content-encoding");
    if (encoding !== null && encoding.trim().toLowerCase() !== "identity") throw new Error(`an encoded body (${encoding}) that was not asked for`);
    answer.onHead(status, headers);
  }

  #onMessageComplete(): void {
    if (this.#interim) {
      this.#interim = false;
      return;
    }
    const answer = this.#answer;
    this.#answer = null;
    answer?.onEnd();
    if (this.#keepAlive && this.#pending === null && !this.#closed) this.pool.release(this);
    else this.destroy();
  }

  onError(error: Error): void {
    this.#error ??= withCode(error);
    if (this.#opened !== null) this.#failOpen(this.#error);
  }

  onClose(error?: Error): void {
    if (error) this.#error ??= error;
    const answer = this.#answer;
    // A body that runs until the connection closes ends here (http-parser-js's BODY_RAW).
    if (answer !== null && this.#gotBytes) {
      this.#parser.finish();
      answer.flush();
    }
    this.#gone();
    if (this.#opened !== null) {
      this.#failOpen(this.#error ?? new Error("The AI service closed the connection while it was opened"));
      return;
    }
    if (answer === null || answer.ended) return;
    const why = this.#error ? `: ${this.#error.message}` : "";
    if (!this.#gotBytes && this.#uses > 1) answer.fail(STALE);
    else answer.fail(new Error(`The connection to the AI service closed before the answer ended${why}`));
  }

  #fail(answer: Answer, err: Error): void {
    this.destroy();
    answer.fail(err);
  }

  /** Closes the socket now; an answer in flight is failed by its owner. */
  destroy(): void {
    if (!this.#gone()) return;
    this.socket?.terminate();
    const opened = this.#opened;
    this.#opened = null;
    opened?.reject(new Error("The connection was closed while it was opened"));
  }

  /** Marks the connection gone once; false when it already was. */
  #gone(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#answer = null;
    this.#pending = null;
    this.pool.gone(this);
    return true;
  }
}

/** One answer: its head, then its body's chunks as the socket delivers them. */
class Answer implements UpstreamBody {
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
class RawHeaders implements HeaderReader {
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
