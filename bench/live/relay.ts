/**
 * The bare relay: the least a Bun + Redis fan-out can do, as the baseline the app is measured
 * against. No auth, no validation, no offsets, no replay log: a client sends
 * `{"type":"subscribe","id","room"}`, the process SUBSCRIBEs the room's channel while it has local
 * watchers, and forwards each Redis message verbatim to the room's sockets (Bun topics).
 *
 * `POST /publish` makes this process the publisher too: it PUBLISHes a plan of events — per room,
 * each event's delay from the start, frame size and name — paced (at those delays) or unpaced (as
 * fast as Redis answers), each room's events one after another as the app's runner does.
 * `POST /replay` is the same unpaced loop over messages given verbatim, on channels given by name:
 * the app's own bus messages replayed onto the app's channels ("B fed unpaced", bench/live/fed.ts),
 * each frame stringified and its `at` stamped as it is published, as the plan's frames are.
 *
 *   RELAY_PORT=… RELAY_REDIS_URL=redis://127.0.0.1:6396 bun bench/live/relay.ts
 */
import type { ServerWebSocket } from "bun";
import { FrameReader } from "../../packages/bus/src/frame-reader.ts";
import { connectRedis, whenReady } from "../../packages/bus/src/index.ts";
import { eventFrame, type PublishPlan, type ReplayPlan } from "./frames.ts";

export type { PublishPlan, ReplayPlan } from "./frames.ts";

const port = Number(process.env.RELAY_PORT ?? 0);
const redisUrl = process.env.RELAY_REDIS_URL ?? "redis://127.0.0.1:6396";
const prefix = process.env.RELAY_PREFIX ?? "bench:relay:";

const pub = connectRedis(redisUrl, "commands", { connectionName: "bench-relay-pub" });
const sub = connectRedis(redisUrl, "subscriber", { connectionName: "bench-relay-sub" });
pub.on("error", (err) => console.error("relay pub", err.message));
sub.on("error", (err) => console.error("relay sub", err.message));

const channelOf = (room: string) => `${prefix}${room}`;
const watchers = new Map<string, number>();

type Data = { rooms: Set<string> };

sub.on("message", (channel: string, message: string) => {
  server.publish(channel.slice(prefix.length), message);
});

// Channels named in full (`{"type":"subscribe","room":<channel>,"channel":true}`), each forwarded
// to the topic of its own name, on a connection of their own so the relay's own path above is
// untouched: "B fed unpaced" has this process forward the app's channels it replays onto, as its A
// forwards its own rooms to the student sockets while it publishes (bench/live/fed.ts).
let subChannels: Promise<ReturnType<typeof connectRedis>> | null = null;
function channelSubscriber() {
  subChannels ??= (async () => {
    const c = connectRedis(redisUrl, "subscriber", { connectionName: "bench-relay-sub-channels" });
    c.on("error", (err) => console.error("relay sub (channels)", err.message));
    c.on("message", (channel: string, message: string) => {
      server.publish(channel, message);
    });
    await whenReady(c, 10_000);
    return c;
  })();
  return subChannels;
}

// A room watched by its full channel name is kept as `CHANNEL + name`.
const CHANNEL = "\u0000";

async function watch(ws: ServerWebSocket<Data>, room: string, asChannel = false) {
  ws.subscribe(room);
  const key = asChannel ? CHANNEL + room : room;
  ws.data.rooms.add(key);
  const n = (watchers.get(key) ?? 0) + 1;
  watchers.set(key, n);
  if (n > 1) return;
  if (asChannel) await (await channelSubscriber()).subscribe(room);
  else await sub.subscribe(channelOf(room));
}

function unwatch(key: string) {
  const n = (watchers.get(key) ?? 1) - 1;
  if (n > 0) watchers.set(key, n);
  else {
    watchers.delete(key);
    if (key.startsWith(CHANNEL)) void channelSubscriber().then((c) => c.unsubscribe(key.slice(1)).catch(() => {}));
    else void sub.unsubscribe(channelOf(key)).catch(() => {});
  }
}

async function publishRoom(room: string, events: PublishPlan["rooms"][number]["events"], paced: boolean, start: number) {
  const epoch = crypto.randomUUID();
  const messageId = crypto.randomUUID();
  const channel = channelOf(room);
  let charOffset = 0;
  for (const [i, e] of events.entries()) {
    if (paced) {
      const wait = start + e.delayMs - performance.now();
      if (wait > 0) await Bun.sleep(wait);
    }
    await pub.publish(channel, JSON.stringify(eventFrame(room, epoch, i + 1, e.event, charOffset, e.bytes, messageId)));
    charOffset += 10;
  }
  return events.length;
}

/** A bus event message as its header (`f\n<epoch>\n<offset>\n`) and its frame, parsed (the bus's own reader). */
type Replayed = { header: string; frame: { at?: string } };

function splitMessage(message: string): Replayed {
  const reader = new FrameReader("");
  reader.read(Buffer.from(message));
  return { header: `f\n${reader.epoch}\n${reader.offset}\n`, frame: JSON.parse(reader.frame) as { at?: string } };
}

/**
 * `publishRoom`'s unpaced loop over bus messages: each frame stringified as it is published, with
 * `at` stamped then, as `publishRoom` builds each of its frames (an app frame's `at` is its last
 * key, so the bytes are the app's but for the time).
 */
async function replayRoom(channel: string, messages: Replayed[]) {
  for (const { header, frame } of messages) {
    if (frame.at !== undefined) frame.at = new Date().toISOString();
    await pub.publish(channel, header + JSON.stringify(frame));
  }
  return messages.length;
}

// Serve only once both connections are up, so /health means "ready to relay".
await Promise.all([whenReady(pub, 10_000), whenReady(sub, 10_000)]);

const server = Bun.serve<Data>({
  port,
  hostname: "127.0.0.1",
  async fetch(req, srv) {
    const url = new URL(req.url);
    if (url.pathname === "/health") return new Response("ok");
    if (url.pathname === "/ws") {
      return srv.upgrade(req, { data: { rooms: new Set<string>() } }) ? undefined : new Response("upgrade failed", { status: 400 });
    }
    if (url.pathname === "/publish" && req.method === "POST") {
      const plan = (await req.json()) as PublishPlan;
      const start = performance.now();
      const counts = await Promise.all(plan.rooms.map((r) => publishRoom(r.room, r.events, plan.paced, start)));
      return Response.json({ published: counts.reduce((a, b) => a + b, 0), ms: performance.now() - start });
    }
    if (url.pathname === "/replay" && req.method === "POST") {
      const plan = (await req.json()) as ReplayPlan;
      const rooms = plan.rooms.map((r) => ({ channel: r.channel, messages: r.messages.map(splitMessage) }));
      const start = performance.now();
      const counts = await Promise.all(rooms.map((r) => replayRoom(r.channel, r.messages)));
      return Response.json({ published: counts.reduce((a, b) => a + b, 0), ms: performance.now() - start });
    }
    return new Response("not found", { status: 404 });
  },
  websocket: {
    idleTimeout: 120,
    async message(ws, message) {
      const f = JSON.parse(String(message)) as { type?: string; id?: string; room?: string; channel?: boolean };
      if (f.type === "subscribe" && typeof f.room === "string") {
        await watch(ws, f.room, f.channel === true);
        ws.send(JSON.stringify({ type: "ack", id: f.id, for: "subscribe" }));
      }
    },
    close(ws) {
      for (const room of ws.data.rooms) unwatch(room);
    },
  },
});

console.log(JSON.stringify({ relay: "listening", port: server.port }));
