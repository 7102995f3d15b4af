// What the gateway's clients need from a way of reaching the upstream: a request out, a status and
// headers back, and the body as chunks pulled by the streaming loop. The network path is the
// gateway's own HTTP/1.1 connections (http1/); an injected `fetch` — an in-process app in tests,
// with no socket — is read through the same shape.
import type { FetchLike } from "./client-types.ts";

/** The body of an upstream answer, pulled by the client. */
export interface UpstreamBody {
  /** The chunks that arrived since the last read (at least one), or `null` at the end. Rejects on a broken connection. */
  read(): Promise<readonly Uint8Array[] | null>;
  /** Stops reading and closes the connection (how the upstream learns to stop generating). */
  cancel(reason: unknown): void;
  /**
   * No more reads: the answer is complete for the reader (`[DONE]` came) though its body has not
   * ended. The connection is kept if the rest arrives soon, else closed.
   */
  release(): void;
}

/** Header look-up by case-insensitive name (a fetch `Headers` is one). */
export interface HeaderReader {
  get(name: string): string | null;
}

/** An upstream answer as the client reads it. `text()` consumes the body (error answers). */
export interface UpstreamResponse {
  status: number;
  ok: boolean;
  headers: HeaderReader;
  body: UpstreamBody | null;
  text(): Promise<string>;
}

export interface UpstreamRequestInit {
  method: "POST";
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

/** Sends one request to the upstream; rejects when it cannot be sent or no answer head arrives. */
export type UpstreamTransport = (url: string, init: UpstreamRequestInit) => Promise<UpstreamResponse>;

/** An injected `fetch` (e.g. `app.request` of an in-process app) read as an {@link UpstreamTransport}. */
export function fetchTransport(fetchImpl: FetchLike): UpstreamTransport {
  return async (url, init) => {
    const res = await fetchImpl(url, init);
    const stream = res.body;
    let body: UpstreamBody | null = null;
    if (stream) {
      // Taken on the first read: an error answer is read whole by `text()` instead.
      let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
      body = {
        async read() {
          reader ??= stream.getReader();
          const chunk = await reader.read();
          return chunk.done ? null : [chunk.value];
        },
        cancel(reason) {
          if (reader === null) stream.cancel(reason).catch(() => {});
          else reader.cancel(reason).catch(() => {});
        },
        release() {
          this.cancel(new DOMException("Stream no longer needed", "AbortError"));
        },
      };
    }
    return { status: res.status, ok: res.ok, headers: res.headers, body, text: () => res.text() };
  };
}
