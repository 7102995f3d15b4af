/**
 * The floor of a chat turn: the least a Bun process can do for one with the same libraries as the
 * app (postgres-js, ioredis, eventsource-parser, Bun's WebSocket server), speaking just enough of
 * the app's protocol for bench/turn/instance.ts's students. Not product code: no auth, no
 * validation, no modules, no limits, no offsets or replay log, no usage row.
 *
 * A turn: one insert of both message rows, the dev model's stream read over HTTP, its deltas
 * coalesced on the app's window and PUBLISHed to Redis, this process's subscriber forwarding each
 * to the room's sockets (Bun topic), one update finalising the answer, a `message.completed`.
 *
 *   FLOOR_PORT=… FLOOR_DATABASE_URL=… FLOOR_REDIS_URL=… FLOOR_GATEWAY_URL=… bun bench/turn/floor-server.ts
 * FLOOR_COALESCE_MS (40) is the delta window; FLOOR_REDIS=0 delivers deltas straight to the topic;
 * FLOOR_DB=0 writes nothing to Postgres (to split the floor by part).
 */
import type { ServerWebSocket } from "bun";
import { createParser } from "../../packages/gateway/node_modules/eventsource-parser";
import postgres from "../../packages/db/node_modules/postgres";
import { connectRedis } from "../../packages/bus/src/index.ts";

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};
const gateway = env("FLOOR_GATEWAY_URL");
const coalesceMs = Number(process.env.FLOOR_COALESCE_MS ?? 40);
const viaRedis = process.env.FLOOR_REDIS !== "0";
const useDb = process.env.FLOOR_DB !== "0";

const sql = postgres(env("FLOOR_DATABASE_URL"), { max: 10, onnotice: () => {} });
await sql`create table if not exists floor_messages (
  id uuid primary key default gen_random_uuid(), session_id text not null, seq int not null, role text not null,
  content text not null, state text, client_message_id text, created_at timestamptz not null default now(),
  unique (session_id, seq))`;

const pub = connectRedis(env("FLOOR_REDIS_URL"), "commands", { connectionName: "bench-floor-pub", autoPipelining: true });
const sub = connectRedis(env("FLOOR_REDIS_URL"), "subscriber", { connectionName: "bench-floor-sub" });
pub.on("error", (err) => console.error("floor pub", err.message));
sub.on("error", (err) => console.error("floor sub", err.message));
const PREFIX = "bench:floor:";
sub.on("message", (channel: string, message: string) => {
  server.publish(channel.slice(PREFIX.length), message);
});

type Data = { rooms: Set<string> };
const seqs = new Map<string, number>();
const offsets = new Map<string, number>();
const epoch = crypto.randomUUID();

function frame(room: string, event: string, payload: unknown): string {
  const offset = (offsets.get(room) ?? 0) + 1;
  offsets.set(room, offset);
  return JSON.stringify({ type: "event", room, epoch, offset, event, payload, at: new Date().toISOString() });
}

function emit(room: string, event: string, payload: unknown): Promise<unknown> {
  const data = frame(room, event, payload);
  if (!viaRedis) return Promise.resolve(server.publish(room, data));
  return pub.publish(PREFIX + room, data);
}

async function answer(room: string, sessionId: string, answerId: string, content: string): Promise<void> {
  const res = await fetch(`${gateway}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "dev-tutor", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content }] }),
  });
  if (!res.ok || !res.body) throw new Error(`gateway ${res.status}`);
  let text = "";
  let pending = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  const flush = () => {
    timer = undefined;
    if (!pending) return;
    const chunk = pending;
    pending = "";
    const charOffset = text.length;
    text += chunk;
    chain = chain.then(() => emit(room, "message.delta", { messageId: answerId, charOffset, text: chunk }));
  };
  const parser = createParser({
    onEvent(ev) {
      if (ev.data === "[DONE]") return;
      const chunk = JSON.parse(ev.data) as { choices?: { delta?: { content?: string } }[] };
      const delta = chunk.choices?.[0]?.delta?.content;
      if (delta) {
        pending += delta;
        timer ??= setTimeout(flush, coalesceMs);
      }
    },
  });
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) parser.feed(decoder.decode(r.value, { stream: true }));
  if (timer) clearTimeout(timer);
  flush();
  await chain;
  if (useDb) await sql`update floor_messages set content = ${text}, state = 'complete' where id = ${answerId}`;
  await emit(room, "message.completed", { message: { id: answerId, sessionId, role: "assistant", state: "complete" } });
}

async function send(ws: ServerWebSocket<Data>, msg: { id: string; sessionId: string; clientMessageId: string; content: string }) {
  const room = `session:${msg.sessionId}`;
  const seq = (seqs.get(msg.sessionId) ?? 0) + 2;
  seqs.set(msg.sessionId, seq);
  const rows = !useDb
    ? [{ id: crypto.randomUUID(), seq }]
    : await sql<{ id: string; seq: number }[]>`insert into floor_messages (session_id, seq, role, content, state, client_message_id)
    values (${msg.sessionId}, ${seq - 1}, 'user', ${msg.content}, null, ${msg.clientMessageId}),
           (${msg.sessionId}, ${seq}, 'assistant', '', 'streaming', null)
    returning id, seq`;
  const answerRow = rows.find((r) => r.seq === seq);
  if (!answerRow) throw new Error("insert returned nothing");
  ws.send(JSON.stringify({ type: "ack", id: msg.id }));
  await answer(room, msg.sessionId, answerRow.id, msg.content);
}

const ready = (c: typeof pub) => (c.status === "ready" ? Promise.resolve() : new Promise<void>((r) => c.once("ready", () => r())));
await Promise.all([ready(pub), ready(sub)]);

const server = Bun.serve<Data>({
  port: Number(process.env.FLOOR_PORT ?? 0),
  hostname: "127.0.0.1",
  fetch(req, srv) {
    const url = new URL(req.url);
    if (url.pathname === "/ready") return new Response("ok");
    if (url.pathname === "/ws" && srv.upgrade(req, { data: { rooms: new Set<string>() } })) return undefined;
    return new Response("not found", { status: 404 });
  },
  websocket: {
    open(ws) {
      ws.send(JSON.stringify({ type: "hello" }));
    },
    async message(ws, raw) {
      const msg = JSON.parse(String(raw)) as { type: string; id: string; room: string; sessionId: string; clientMessageId: string; content: string };
      if (msg.type === "subscribe") {
        ws.subscribe(msg.room);
        ws.data.rooms.add(msg.room);
        if (viaRedis) await sub.subscribe(PREFIX + msg.room);
        ws.send(JSON.stringify({ type: "ack", id: msg.id }));
      } else if (msg.type === "message.send") {
        await send(ws, msg).catch((err: Error) => ws.send(JSON.stringify({ type: "error", id: msg.id, code: "FLOOR", message: err.message })));
      }
    },
  },
});
console.log(JSON.stringify({ floor: "listening", port: server.port }));
