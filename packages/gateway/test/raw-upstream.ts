/**
 * A TCP server for transport tests that answers with exact bytes (`Bun.listen`): whatever a
 * handler writes is what the client reads, malformed heads and broken bodies included. It
 * records connections and requests, and whether each connection is still open.
 */

export interface RawRequest {
  head: string;
  body: string;
  /** The request's number on its connection, from 1. */
  onConnection: number;
}

export interface RawConn {
  id: number;
  write(bytes: string | Uint8Array): void;
  end(): void;
  closed: Promise<void>;
  isClosed(): boolean;
}

export type RawHandler = (req: RawRequest, conn: RawConn) => void | Promise<void>;

export interface RawUpstream {
  url: string;
  port: number;
  connections: RawConn[];
  requests: RawRequest[];
  stop(): void;
}

interface State {
  conn: RawConn;
  buffer: string;
  count: number;
  markClosed: () => void;
  closedFlag: boolean;
}

export function startRawUpstream(handler: RawHandler): RawUpstream {
  const connections: RawConn[] = [];
  const requests: RawRequest[] = [];
  const listener = Bun.listen<State>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        let markClosed: () => void = () => {};
        const closed = new Promise<void>((resolve) => {
          markClosed = resolve;
        });
        const state: State = {
          buffer: "",
          count: 0,
          markClosed,
          closedFlag: false,
          conn: {
            id: connections.length + 1,
            write: (bytes) => {
              if (!state.closedFlag) socket.write(bytes);
            },
            end: () => socket.end(),
            closed,
            isClosed: () => state.closedFlag,
          },
        };
        socket.data = state;
        connections.push(state.conn);
      },
      data(socket, data) {
        const state = socket.data;
        state.buffer += data.toString("latin1");
        for (;;) {
          const end = state.buffer.indexOf("\r\n\r\n");
          if (end < 0) return;
          const head = state.buffer.slice(0, end);
          const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (state.buffer.length < end + 4 + length) return;
          const body = state.buffer.slice(end + 4, end + 4 + length);
          state.buffer = state.buffer.slice(end + 4 + length);
          state.count += 1;
          const req = { head, body, onConnection: state.count };
          requests.push(req);
          void handler(req, state.conn);
        }
      },
      close(socket) {
        socket.data.closedFlag = true;
        socket.data.markClosed();
      },
    },
  });
  return {
    url: `http://127.0.0.1:${listener.port}/v1`,
    port: listener.port,
    connections,
    requests,
    stop: () => listener.stop(true),
  };
}

/** A chunked-encoding frame of one piece. */
export function chunk(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
}

export const SSE_HEAD = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
