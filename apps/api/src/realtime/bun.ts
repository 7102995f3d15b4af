import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import type { AppDeps } from "../deps.ts";
import type { Connection } from "./connection.ts";
import type { RealtimeRuntime } from "./runtime.ts";
import type { ConnectionData } from "./socket.ts";

type SocketData = ConnectionData & { conn?: Connection | null; early?: (string | Uint8Array)[] };

/**
 * The WebSocket binding on Bun's native API. Hono's wrapper hides `send`'s return value and the
 * buffered amount (Hono's WSContext.send drops Bun's return value), which the bounded send queue needs, so sockets are bound here.
 */
export function bunWebSocket(runtime: RealtimeRuntime, deps: AppDeps): WebSocketHandler<SocketData> {
  const maxBuffered = deps.config.live.maxBufferedBytes;
  return {
    // Frames above this are abuse (Bun closes with 1009); smaller oversize frames get an error frame.
    maxPayloadLength: 1024 * 1024,
    // A hard ceiling behind the connection's own check, so no socket can grow without bound.
    backpressureLimit: maxBuffered * 2,
    closeOnBackpressureLimit: true,
    idleTimeout: 120,
    sendPings: true,
    async open(ws: ServerWebSocket<SocketData>) {
      ws.data.early = [];
      ws.data.conn = await runtime.hub.open(ws, ws.data);
      const early = ws.data.early ?? [];
      ws.data.early = undefined;
      // Frames that arrived while the user was being loaded are handled in order.
      for (const frame of early) ws.data.conn?.receive(frame);
    },
    message(ws: ServerWebSocket<SocketData>, message: string | Buffer) {
      const frame = typeof message === "string" ? message : new Uint8Array(message);
      if (ws.data.early) ws.data.early.push(frame);
      else ws.data.conn?.receive(frame);
    },
    close(ws: ServerWebSocket<SocketData>) {
      ws.data.conn?.teardown();
    },
  };
}

/** Wires a started Bun server into the runtime so `/ws` can upgrade and rooms publish to its topics. */
export function attachServer(runtime: RealtimeRuntime, server: Server<SocketData>) {
  runtime.setUpgrader((request, data) => server.upgrade(request, { data }));
  runtime.setPublisher({ publish: (topic, data) => server.publish(topic, data) });
}
