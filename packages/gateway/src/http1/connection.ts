import { HTTPParser } from "http-parser-js";
import type { UpstreamResponse } from "../transport.ts";
import { Answer, RawHeaders } from "./answer.ts";
import type { OriginPool } from "./origin-pool.ts";

/** A socket error with its system code in the message ("Failed to connect (ECONNREFUSED)"). */
function withCode(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(String(err));
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && !err.message.includes(code) ? new Error(`${err.message} (${code})`, { cause: err }) : err;
}

/** The reason a kept connection's request is sent again once on a new connection. */
export const STALE = new Error("stale kept connection");

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
export class Connection {
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
