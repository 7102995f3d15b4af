/**
 * The Socket.IO baseline: what a team would pick instead of the app's live path — Socket.IO 4.8 on
 * Node with `@socket.io/redis-adapter` over one Redis, no auth, no offsets, no replay log. A client
 * emits `subscribe` with a room name and gets an ack once it joined the room; `POST /publish` makes
 * this instance the publisher of a plan (the same plan the Bun relay replays): each event is
 * `io.to(room).emit("event", frame)`, which the adapter publishes to Redis for the other instance
 * and delivers to this instance's own room members.
 *
 * Runs on Node, not Bun: the live bench bundles this file for Node (`bun build --target=node`, the
 * packages left external) and starts it with `node`.
 *
 *   SIO_PORT=… SIO_REDIS_URL=redis://127.0.0.1:6396 node socketio-server.mjs
 * (SIO_REDIS_URL empty: the in-memory adapter, one instance alone.)
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import { Server } from "socket.io";
import { eventFrame, type PublishPlan } from "./frames.ts";

const port = Number(process.env.SIO_PORT ?? 0);
const redisUrl = process.env.SIO_REDIS_URL ?? "redis://127.0.0.1:6396";
const key = process.env.SIO_KEY ?? "bench-sio";

async function redisAdapter(url: string) {
  const pub = new Redis(url, { connectionName: "bench-sio-pub" });
  const sub = pub.duplicate({ connectionName: "bench-sio-sub" });
  pub.on("error", (err: Error) => console.error("socket.io pub", err.message));
  sub.on("error", (err: Error) => console.error("socket.io sub", err.message));
  // Listen only once both connections are up, so /health means "ready to relay".
  await Promise.all([pub, sub].map((c) => (c.status === "ready" ? Promise.resolve() : new Promise<void>((r) => c.once("ready", () => r())))));
  return createAdapter(pub, sub, { key });
}
const adapter = redisUrl ? await redisAdapter(redisUrl) : undefined;

const http = createServer((req, res) => {
  handle(req, res).catch((err: Error) => {
    res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: err.message }));
  });
});

const io = new Server(http, {
  // WebSocket only, as the clients connect: no long-polling handshake or upgrade.
  transports: ["websocket"],
  serveClient: false,
  ...(adapter ? { adapter } : {}),
});

io.on("connection", (socket) => {
  socket.on("subscribe", (room: unknown, ack: unknown) => {
    if (typeof room === "string") socket.join(room);
    if (typeof ack === "function") ack({ type: typeof room === "string" ? "ack" : "error", for: "subscribe" });
  });
});

async function publishRoom(room: string, events: PublishPlan["rooms"][number]["events"], paced: boolean, start: number) {
  const epoch = randomUUID();
  const messageId = randomUUID();
  let charOffset = 0;
  for (const [i, e] of events.entries()) {
    if (paced) {
      const wait = start + e.delayMs - performance.now();
      if (wait > 0) await sleep(wait);
    } else {
      // A broadcast is not acknowledged, so nothing to await: yield instead, so every room's
      // events interleave and reach Redis as they are emitted rather than in one burst at the end.
      await nextTurn();
    }
    io.to(room).emit("event", eventFrame(room, epoch, i + 1, e.event, charOffset, e.bytes, messageId));
    charOffset += 10;
  }
  return events.length;
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  if (path === "/health") {
    res.end("ok");
    return;
  }
  if (path === "/publish" && req.method === "POST") {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const plan = JSON.parse(Buffer.concat(chunks).toString("utf8")) as PublishPlan;
    const start = performance.now();
    const counts = await Promise.all(plan.rooms.map((r) => publishRoom(r.room, r.events, plan.paced, start)));
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ published: counts.reduce((a, b) => a + b, 0), ms: performance.now() - start }));
    return;
  }
  // Socket.IO answers its own path (/socket.io/) without calling this handler.
  res.writeHead(404);
  res.end("not found");
}

http.listen(port, "127.0.0.1", () => {
  console.log(JSON.stringify({ socketio: "listening", port, node: process.version }));
});
