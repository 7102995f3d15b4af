import type { Bus, KeyValueStore, Presence, RedisBus } from "@raptscallions/bus";
import { aiModels, type DbHandle, type DbOrTx, messages } from "@raptscallions/db";
import { createDevModelApp, createGatewayClient, createModerationClient, type DevStreamEnd, type LimitStore, MemoryLimitStore } from "@raptscallions/gateway";
import type { Server } from "bun";
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { createApp } from "../../src/app.ts";
import { type AppDeps, defaultLiveConfig, type LiveConfig } from "../../src/deps.ts";
import { attachServer, bunWebSocket } from "../../src/realtime/bun.ts";
import { createAiService } from "../../src/services/ai/index.ts";
import type { StudentMessageGate } from "../../src/services/modules/hooks.ts";
import { sweepInterruptedStreams } from "../../src/services/live/sweeper.ts";
import { authHeader } from "./auth.ts";
import { eventually } from "@raptscallions/core/testing";
import { testDeps } from "./deps.ts";

/** A dev model on its own port, recording how each stream ended (to prove aborts reach upstream). */
export function startDevModel(tokensPerSecond = 200) {
  const ends: DevStreamEnd[] = [];
  const app = new Hono().route("/v1", createDevModelApp({ tokensPerSecond, keepAliveMs: 200, onStreamEnd: (e) => ends.push(e) }));
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch, idleTimeout: 60 });
  return { url: `http://127.0.0.1:${server.port}/v1`, ends, stop: () => server.stop(true) };
}

const DEV_MODELS = ["dev-tutor", "dev-fail-before", "dev-fail-mid", "dev-stall", "dev-crawl"];

/** The dev models in the catalogue (idempotent; files may share one Postgres). */
export async function ensureDevModels(db: DbHandle) {
  for (const id of DEV_MODELS) {
    await db.db.insert(aiModels).values({ id, provider: "dev", displayName: id, inputPricePer1k: 0.001, outputPricePer1k: 0.002 }).onConflictDoNothing();
  }
}

export interface Instance {
  app: ReturnType<typeof createApp>;
  deps: AppDeps & { logger: { lines: Record<string, unknown>[] } };
  server: Server<unknown>;
  baseUrl: string;
  wsUrl: string;
  stop(): Promise<void>;
}

/** How one instance differs from its peers: live-path tuning, the content gate, any dependency. */
export interface InstanceOptions {
  live?: Partial<LiveConfig>;
  gate?: StudentMessageGate;
  overrides?: Partial<AppDeps>;
}

/** One API instance on a real socket (`Bun.serve({ port: 0 })`), sharing bus/presence/kv with its peers. */
export async function startInstance(
  db: DbHandle,
  shared: { bus: () => Bus; presence: Presence; kv: KeyValueStore; gatewayUrl: string; limits?: LimitStore; ready?: () => Promise<void> },
  opts: InstanceOptions = {},
): Promise<Instance> {
  // As the server does before serving: shared connections first (a Cluster needs its slot map).
  await shared.ready?.();
  const bus = shared.bus();
  if ("ready" in bus && typeof bus.ready === "function") await (bus as RedisBus).ready(10_000);
  const base = await testDeps(db);
  const client = createGatewayClient({
    baseUrl: shared.gatewayUrl,
    firstTokenTimeoutMs: 5000,
    idleTimeoutMs: 5000,
    maxRetries: 1,
    retryBaseMs: 10,
  });
  const deps = {
    ...base,
    config: { ...base.config, live: defaultLiveConfig({ coalesceMs: 20, checkpointMs: 100, heartbeatMs: 200, ...opts.live }) },
    bus,
    presence: shared.presence,
    kv: shared.kv,
    ai: createAiService({
      db: db.db,
      client,
      limits: shared.limits ?? new MemoryLimitStore(),
      defaultModel: "dev-tutor",
      clock: base.clock,
      logger: base.logger,
    }),
    moderation: createModerationClient({ baseUrl: shared.gatewayUrl }),
    ...opts.overrides,
  } as Instance["deps"];
  const app = createApp(deps, { gate: opts.gate });
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: app.fetch,
    websocket: bunWebSocket(app.realtime, deps),
  });
  attachServer(app.realtime, server as never);
  return {
    app,
    deps,
    server: server as Server<unknown>,
    baseUrl: `http://127.0.0.1:${server.port}`,
    wsUrl: `ws://127.0.0.1:${server.port}`,
    async stop() {
      await app.realtime.shutdown(100);
      server.stop(true);
    },
  };
}

// Sockets are opened one way (socket.ts); these re-exports keep the suites' imports in one place.
export { connect, type Frame, openSocket, requestTicket, TestClient } from "./socket.ts";
import type { Frame } from "./socket.ts";

/** Reassembles an answer's text from delta events, checking they arrive contiguous and in order. */
/**
 * An answer a dead instance left streaming (its heartbeat a minute old, so any sweep finds it
 * stale), with `values` over those defaults.
 */
export async function makeStaleAnswer(db: DbOrTx, values: { sessionId: string; seq: number } & Partial<typeof messages.$inferInsert>) {
  const [row] = await db
    .insert(messages)
    .values({ role: "assistant", state: "streaming", content: "", streamOwner: "dead-instance", heartbeatAt: new Date(Date.now() - 60_000), ...values })
    .returning();
  if (!row) throw new Error("no answer row");
  return row;
}

/** One pass of the stale-stream sweeper, as `instance` runs it: orphans older than `staleAfterMs` are finalised. */
export function sweepOn(instance: Instance, staleAfterMs: number): Promise<number> {
  const { db, bus, clock, logger, ai, kv } = instance.deps;
  return sweepInterruptedStreams({ db: db.db, bus, clock, logger, ai, kv, staleAfterMs });
}

export function textFromDeltas(frames: Frame[], messageId: string, startText = ""): string {
  let text = startText;
  for (const f of frames) {
    if (f.type !== "event" || f.event !== "message.delta") continue;
    const p = f.payload as { messageId: string; charOffset: number; text: string };
    if (p.messageId !== messageId) continue;
    if (p.charOffset !== text.length) throw new Error(`delta at ${p.charOffset} but text has ${text.length} chars`);
    text += p.text;
  }
  return text;
}

/** Offsets of a room's event frames must be strictly consecutive: no gap, no duplicate, no reorder. */
export function assertContiguous(frames: Frame[], room: string) {
  const offsets = frames.filter((f) => f.type === "event" && f.room === room).map((f) => f.offset as number);
  for (let i = 1; i < offsets.length; i++) {
    const prev = offsets[i - 1] ?? 0;
    if (offsets[i] !== prev + 1) throw new Error(`offsets not contiguous at ${i}: ${offsets.slice(Math.max(0, i - 3), i + 3).join(",")}`);
  }
  return offsets;
}

/**
 * A REST call to a running instance as `user` (anonymous when null): status, headers and the
 * parsed JSON body; an empty body (204) reads as null.
 */
export async function restCall<T = Record<string, unknown>>(
  instance: { baseUrl: string },
  user: { clerkUserId: string | null } | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; headers: Headers; body: T }> {
  const res = await fetch(`${instance.baseUrl}${path}`, {
    method,
    headers: { ...(user ? await authHeader(user) : {}), ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as T };
}

/** A Redis URL nobody listens on: every command fails like it does during an outage. */
export async function unreachableRedisUrl(): Promise<string> {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return `redis://127.0.0.1:${address.port}`;
}

type AnswerDto = { id: string; state: string; content: string };

/**
 * What a client holds of one answer after reloading a snapshot and applying the events that
 * follow it, the way docs/protocol.md says: `message.started` carries the text so far, a delta
 * appends what lies beyond the text held, a delta starting past it cannot be applied.
 */
export function followAnswer(snapshot: { epoch: string | null; offset: number; payload: { messages: AnswerDto[] } }, frames: Frame[], room: string, answerId: string) {
  let text = snapshot.payload.messages.find((m) => m.id === answerId)?.content ?? "";
  let applied = snapshot.offset;
  let unapplied = 0;
  for (const f of frames) {
    if (f.type !== "event" || f.room !== room || f.epoch !== snapshot.epoch) continue;
    const offset = f.offset as number;
    if (offset <= applied) continue;
    applied = offset;
    const payload = f.payload as { message?: AnswerDto; messageId?: string; charOffset?: number; text?: string };
    if (f.event === "message.started" && payload.message?.id === answerId) text = payload.message.content;
    if (f.event === "message.delta" && payload.messageId === answerId) {
      const at = payload.charOffset ?? 0;
      if (at > text.length) unapplied += 1;
      else text += (payload.text ?? "").slice(text.length - at);
    }
    if (f.event === "message.completed" && payload.message?.id === answerId) break;
  }
  return { text, unapplied };
}

/** The answer's row once it is no longer streaming (completed, failed, stopped or interrupted). */
export function finishedAnswer(db: DbOrTx, answerId: string, timeoutMs?: number): Promise<typeof messages.$inferSelect> {
  return eventually(
    async () => {
      const [row] = await db.select().from(messages).where(eq(messages.id, answerId));
      return row && row.state !== "streaming" ? row : undefined;
    },
    "the answer to finish",
    timeoutMs,
  );
}
