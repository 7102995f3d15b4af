// The gateway's way to reach a provider: HTTP/1.1 over `Bun.connect` sockets, kept alive per origin.
//
// Why not `fetch`: Bun's fetch reads the socket on its own "HTTP Client" thread and wakes the
// JavaScript thread for every chunk — for a streamed answer, every token (bench/README.md,
// turn.bench.ts, "Tenth pass, alongside: the per-token path"). Here the JavaScript thread reads the
// socket itself: no second thread, no cross-thread wake-up, about half the system calls a token.
// The request is written by us; the answer is parsed by http-parser-js (status line, headers,
// chunked and content-length bodies). No proxy is used, whatever HTTP(S)_PROXY says.
import type { FetchLike } from "../client-types.ts";
import { fetchTransport, type UpstreamRequestInit, type UpstreamTransport } from "../transport.ts";
import { STALE } from "./connection.ts";
import { OriginPool, type Target } from "./origin-pool.ts";

export interface Http1AgentOptions {
  /** Connections per origin (answers streaming at once); requests beyond it wait for one (default 256). */
  maxConnectionsPerOrigin?: number;
  /** A kept connection idle this long is closed (default 4 000 ms, under the common 5 s server keep-alive). */
  idleMs?: number;
  /** Trusted certificate authorities for https (PEM). Replaces Bun's bundled roots: tests and private gateways. */
  ca?: string | readonly string[];
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
