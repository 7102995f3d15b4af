import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import type { AppDeps } from "../deps.ts";
import { Connection } from "./connection.ts";
import type { RealtimeRuntime } from "./runtime.ts";
import type { ConnectionData } from "./socket.ts";

// Until its user is loaded a socket carries the ticket's claims; then its Connection replaces them,
// so an open socket holds one object of ours rather than two.
type SocketData = ConnectionData | Connection;

/**
 * The WebSocket binding on Bun's native API. Hono's wrapper hides `send`'s return value and the
 * buffered amount (Hono's WSContext.send drops Bun's return value), which the bounded send queue
 * needs, and has no topics, which the room fan-out publishes to; so sockets are bound here.
 */
export function bunWebSocket(runtime: RealtimeRuntime, deps: AppDeps): WebSocketHandler<SocketData> {
  const maxBuffered = deps.config.live.maxBufferedBytes;
  // Frames that arrive while a socket's user is being loaded, handled in order once it is.
  const opening = new Map<ServerWebSocket<SocketData>, (string | Uint8Array)[]>();
  return {
    // Frames above this are abuse (Bun closes with 1009); smaller oversize frames get an error frame.
    maxPayloadLength: 1024 * 1024,
    // The connection closes a socket past `maxBuffered` with 4008 when a send or a topic publish
    // meets backpressure; this is the hard ceiling behind it (Bun drops the socket, 1006), so
    // no socket can grow without bound and none silently misses a frame.
    backpressureLimit: maxBuffered * 2,
    closeOnBackpressureLimit: true,
    idleTimeout: 120,
    sendPings: true,
    // Bun's default, said out loud: a deflate context is per socket (tens of KB of zlib state
    // for each idle connection), while frames are small JSON already coalesced per room.
    perMessageDeflate: false,
    async open(ws: ServerWebSocket<SocketData>) {
      const data = ws.data;
      if (data instanceof Connection) return;
      opening.set(ws, []);
      let conn: Connection | null;
      try {
        conn = await runtime.hub.open(ws, data);
      } catch (err) {
        opening.delete(ws);
        deps.logger.error("opening a socket failed", { userId: data.userId, err });
        ws.close(1011, "internal error: reconnect");
        return;
      }
      const early = opening.get(ws);
      opening.delete(ws);
      if (!conn) return;
      // Closed while the user was loading: Bun already ran `close`, so release it here.
      if (!early) {
        conn.teardown();
        return;
      }
      ws.data = conn;
      for (const frame of early) conn.receive(frame);
    },
    message(ws: ServerWebSocket<SocketData>, message: string | Buffer) {
      const frame = typeof message === "string" ? message : new Uint8Array(message);
      const data = ws.data;
      if (data instanceof Connection) data.receive(frame);
      else opening.get(ws)?.push(frame);
    },
    close(ws: ServerWebSocket<SocketData>) {
      const data = ws.data;
      if (data instanceof Connection) data.teardown();
      else opening.delete(ws);
    },
  };
}

/** Wires a started Bun server into the runtime so `/ws` can upgrade and rooms publish to its topics. */
export function attachServer(runtime: RealtimeRuntime, server: Server<SocketData>) {
  runtime.setUpgrader((request, data) => server.upgrade(request, { data }));
  runtime.setPublisher({ publish: (topic, data) => server.publish(topic, data) });
}
