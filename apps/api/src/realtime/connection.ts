import { type ResumeMessage, subscribeWithResume, type Unsubscribe, wireBodyOf } from "@raptscallions/bus";
import {
  AppError,
  CLOSE_CODES,
  type ClientFrame,
  clientFrameSchema,
  PROTOCOL_VERSION,
  readClientJson,
  REALTIME_LIMITS,
  type ServerFrame,
  textProblem,
} from "@raptscallions/core";
import type { Actor } from "../access/actor.ts";
import { loadActor } from "../access/actor.ts";
import type { AppDeps } from "../deps.ts";
import type { AuditBatch } from "../services/audit/batch.ts";
import { domainError, publicMessage } from "../http/errors.ts";
import { buildServiceContext, type ServiceContext } from "../services/context.ts";
import type { GenerationRunner } from "../services/live/generation-runner.ts";
import type { StudentMessageGate } from "../services/modules/hooks.ts";
import { sendStudentMessage } from "../services/live/send-student-message.ts";
import { changeSessionState, postTeacherMessage, stopGeneration } from "../services/live/teacher-actions.ts";
import { TokenBucket } from "./rate.ts";
import { sessionSnapshot } from "../services/sessions/snapshot.ts";
import { authorizeRoom, type RoomAccess } from "../services/live/room-access.ts";
import type { ConnectionData, RealtimeSocket } from "./socket.ts";

interface Subscription {
  unsubscribe: Unsubscribe;
  access: RoomAccess;
}

export interface ConnectionHooks {
  /** Where subscriptions' `session.view` rows go (batched off the subscribe path). */
  viewAudit?: AuditBatch;
  onPresenceJoin(conn: Connection, classId: string, role: string): Promise<void>;
  onPresenceLeave(conn: Connection, classId: string): Promise<void>;
  onClosed(conn: Connection): void;
}

const decoder = new TextDecoder();

// Every local watcher of a room receives the same event object from the bus: its frame is built
// once and the same string sent to each socket. The bus keeps the body JSON it decoded
// (`{"type":T,"payload":P,"at":A}`), so the frame is that body with the room fields spliced in
// front, never the payload stringified again.
const serializedEvents = new WeakMap<object, string>();
const BODY_PREFIX = '{"type":';

/** The `event` frame of a bus event, as sent on the wire. */
export function eventFrame(e: { room: string; epoch: string; offset: number; type: string; payload: unknown; at: string }): string {
  let data = serializedEvents.get(e);
  if (data === undefined) {
    const wire = wireBodyOf(e);
    data = wire?.startsWith(BODY_PREFIX)
      ? `{"type":"event","room":${JSON.stringify(e.room)},"epoch":${JSON.stringify(e.epoch)},"offset":${e.offset},"event":${wire.slice(BODY_PREFIX.length)}`
      : JSON.stringify({ type: "event", room: e.room, epoch: e.epoch, offset: e.offset, event: e.type, payload: e.payload, at: e.at });
    serializedEvents.set(e, data);
  }
  return data;
}

/** The `id` of a refused frame, echoed so the client can match the error to its request. */
function requestIdOf(json: unknown): { id?: string } {
  const id = typeof json === "object" && json !== null ? (json as { id?: unknown }).id : undefined;
  return typeof id === "string" && id.length > 0 && textProblem(id) === null ? { id: id.slice(0, 64) } : {};
}

/**
 * One WebSocket: validates every frame against the protocol schema, answers a bad frame with an
 * error frame (the connection lives), closes on abuse, and keeps its send queue bounded — a
 * consumer that falls behind is closed with 4008 rather than growing memory.
 */
export class Connection {
  readonly id: string;
  actor: Actor;
  /** Set when `actor` came from the actor cache: a refused subscription reloads it once. */
  actorCached = false;
  private readonly subs = new Map<string, Subscription>();
  private readonly bucket = new TokenBucket(REALTIME_LIMITS.framesPerSecond, REALTIME_LIMITS.burstFrames);
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private rechecks = 0;

  constructor(
    private readonly socket: RealtimeSocket,
    readonly data: ConnectionData,
    actor: Actor,
    private readonly deps: AppDeps,
    private readonly runner: GenerationRunner,
    private readonly gate: StudentMessageGate | undefined,
    private readonly hooks: ConnectionHooks,
  ) {
    this.id = data.connectionId;
    this.actor = actor;
  }

  get isClosed() {
    return this.closed;
  }

  rooms(): string[] {
    return [...this.subs.keys()];
  }

  hello() {
    this.send({
      type: "hello",
      protocolVersion: PROTOCOL_VERSION,
      connectionId: this.id,
      userId: this.actor.userId,
      limits: { ...REALTIME_LIMITS },
    });
  }

  /** Serialises a frame; closes the connection as a slow consumer when its queue passes the bound. */
  send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  private sendRaw(data: string): void {
    if (this.closed) return;
    const sent = this.socket.send(data);
    // Bytes sent: nothing is queued for this socket (a queue would have made this send queue too).
    if (sent > 0) return;
    // 0 also means "dropped because the socket is already closing": that is no slow consumer.
    if (sent === 0 && this.socket.readyState !== 1) return;
    // -1: queued under backpressure; past the bound the consumer is too slow to keep.
    if (sent === 0 || this.socket.getBufferedAmount() > this.deps.config.live.maxBufferedBytes) {
      this.deps.logger.warn("closing slow consumer", { connectionId: this.id, buffered: this.socket.getBufferedAmount() });
      this.close(CLOSE_CODES.slowConsumer, "slow consumer: reconnect and resume by offset");
    }
  }

  close(code: number, reason: string) {
    if (this.closed) return;
    this.teardown();
    try {
      this.socket.close(code, reason);
    } catch {
      // already closed by the peer
    }
  }

  /** Called when the socket closed (by either side): releases subscriptions and presence. */
  teardown() {
    if (this.closed) return;
    this.closed = true;
    for (const [room, sub] of this.subs) {
      sub.unsubscribe();
      if (sub.access.presenceClassId) void this.hooks.onPresenceLeave(this, sub.access.presenceClassId);
      this.subs.delete(room);
    }
    this.hooks.onClosed(this);
  }

  /** Entry point for every inbound frame; frames of one connection are handled in order. */
  receive(raw: string | Uint8Array) {
    if (this.closed) return;
    if (!this.bucket.take()) {
      this.close(CLOSE_CODES.policyViolation, "rate limit: too many frames");
      return;
    }
    // Counted without copying the frame: this runs for every inbound frame.
    const size = typeof raw === "string" ? Buffer.byteLength(raw, "utf8") : raw.byteLength;
    if (size > REALTIME_LIMITS.maxFrameBytes) {
      this.send({
        type: "error",
        code: "FRAME_TOO_LARGE",
        message: `Frames are limited to ${REALTIME_LIMITS.maxFrameBytes} bytes`,
        details: { size },
      });
      return;
    }
    // The same reading as REST bodies: bounded nesting, then text the database can store.
    const read = readClientJson(typeof raw === "string" ? raw : decoder.decode(raw));
    if (!read.ok) {
      if (read.reason === "too_complex") this.send({ type: "error", code: "JSON_TOO_COMPLEX", message: read.message });
      else if (read.reason === "malformed") this.send({ type: "error", code: "PROTOCOL_ERROR", message: "Frames must be JSON objects" });
      else this.send({ type: "error", ...requestIdOf(read.value), code: "VALIDATION_FAILED", message: "Invalid frame", details: [read.issue] });
      return;
    }
    const json = read.value;
    const parsed = clientFrameSchema.safeParse(json);
    if (!parsed.success) {
      const tooLong = parsed.error.issues.some((i) => i.code === "too_big" && i.path[0] === "content");
      this.send({
        type: "error",
        ...requestIdOf(json),
        code: tooLong ? "MESSAGE_TOO_LONG" : "VALIDATION_FAILED",
        message: tooLong ? `Messages are limited to ${REALTIME_LIMITS.maxMessageChars} characters` : "Invalid frame",
        details: parsed.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })),
      });
      return;
    }
    const frame = parsed.data;
    this.queue = this.queue.then(() => this.handle(frame)).catch(() => {});
  }

  /** One context per frame: its request id joins the frame's log lines and audit rows. */
  private ctx(): ServiceContext {
    return buildServiceContext(this.deps, this.runner, {
      actor: this.actor,
      requestId: `${this.id}:${crypto.randomUUID().slice(0, 8)}`,
    });
  }

  private async handle(frame: ClientFrame): Promise<void> {
    if (this.closed) return;
    try {
      const result = await this.dispatch(frame);
      if (frame.type !== "ping") this.send({ type: "ack", ...(frame.id ? { id: frame.id } : {}), for: frame.type, result });
    } catch (err) {
      this.send(this.errorFrame(err, frame.id));
    }
  }

  private errorFrame(thrown: unknown, id: string | undefined): ServerFrame {
    const err = domainError(thrown);
    if (err) {
      const details =
        err.retryAfterSeconds !== undefined
          ? { ...(typeof err.details === "object" && err.details ? err.details : {}), retryAfterSeconds: err.retryAfterSeconds }
          : err.details;
      return {
        type: "error",
        ...(id ? { id } : {}),
        code: err.code,
        message: publicMessage(err),
        ...(details !== undefined ? { details } : {}),
      };
    }
    this.deps.logger.error("realtime frame failed", { connectionId: this.id, err: thrown });
    return { type: "error", ...(id ? { id } : {}), code: "INTERNAL", message: "Internal error" };
  }

  private async dispatch(frame: ClientFrame): Promise<unknown> {
    const ctx = this.ctx();
    switch (frame.type) {
      case "ping":
        this.send({ type: "pong", ...(frame.id ? { id: frame.id } : {}), at: new Date().toISOString() });
        return undefined;
      case "subscribe":
        return this.subscribe(frame.room, frame.lastOffset, frame.epoch);
      case "unsubscribe":
        return this.unsubscribe(frame.room);
      case "message.send": {
        const r = await sendStudentMessage({ ctx, input: frame, gate: this.gate });
        return { messageId: r.message.id, answerId: r.answer?.id ?? null, duplicate: r.duplicate, retried: r.retried };
      }
      case "generation.stop":
        return stopGeneration({ ctx, input: frame });
      case "session.pause":
        return { session: await changeSessionState({ ctx, input: { sessionId: frame.sessionId, to: "paused" } }) };
      case "session.resume":
        return { session: await changeSessionState({ ctx, input: { sessionId: frame.sessionId, to: "active" } }) };
      case "session.end":
        return { session: await changeSessionState({ ctx, input: { sessionId: frame.sessionId, to: "completed" } }) };
      case "teacher.message": {
        const r = await postTeacherMessage({ ctx, input: frame });
        return { messageId: r.message.id, duplicate: r.duplicate };
      }
    }
  }

  /**
   * Authorises a subscription. A cached actor may predate a grant (grants publish nothing), so a
   * refusal on one is confirmed once against fresh rows (the full re-check) before it stands.
   */
  private async authorize(room: string): Promise<{ ctx: ServiceContext; access: RoomAccess }> {
    const opts = { recordView: true, viewAudit: this.hooks.viewAudit };
    const ctx = this.ctx();
    try {
      return { ctx, access: await authorizeRoom(ctx, room, opts) };
    } catch (err) {
      if (!this.actorCached || !(err instanceof AppError)) throw err;
      this.actorCached = false;
      await this.recheck();
      if (this.closed) throw err;
      const again = this.ctx();
      return { ctx: again, access: await authorizeRoom(again, room, opts) };
    }
  }

  private async subscribe(room: string, lastOffset: number | undefined, epoch: string | undefined) {
    const { ctx, access } = await this.authorize(room);
    this.unsubscribe(room);
    const bus = this.deps.bus;
    const listener = (m: ResumeMessage) => {
      if (m.kind === "event") {
        this.sendRaw(eventFrame(m.event));
      } else {
        this.send({ type: "reset", room: m.room, epoch: m.epoch, latestOffset: m.latestOffset, reason: m.reason });
      }
    };
    let from: { afterOffset?: number; epoch?: string | null } = {};
    let position: { epoch: string | null; offset: number };
    if (lastOffset !== undefined) {
      from = { afterOffset: lastOffset, epoch: epoch ?? null };
      position = { epoch: epoch ?? null, offset: lastOffset };
    } else if (access.kind === "session") {
      const snapshot = await sessionSnapshot(ctx, access.id);
      this.send({ type: "snapshot", room, epoch: snapshot.epoch, offset: snapshot.offset, payload: snapshot.payload });
      from = { afterOffset: snapshot.offset, epoch: snapshot.epoch };
      position = { epoch: snapshot.epoch, offset: snapshot.offset };
    } else {
      const head = await bus.head(room);
      position = head;
    }
    const unsubscribe = await subscribeWithResume(bus, room, from, listener, {
      onError: (err, where) => this.deps.logger.warn("resume error", { room, where, err }),
    });
    if (this.closed) {
      unsubscribe();
      return undefined;
    }
    this.subs.set(room, { unsubscribe, access });
    // A re-check that reloaded the user while this was being authorised missed this room.
    if (this.actor !== ctx.actor) {
      await this.revalidate(room);
      if (!this.subs.has(room)) return { room, subscribed: false };
    }
    if (access.presenceClassId) await this.hooks.onPresenceJoin(this, access.presenceClassId, access.presenceRole);
    return { room, ...position };
  }

  private unsubscribe(room: string) {
    const sub = this.subs.get(room);
    if (!sub) return { room, subscribed: false };
    sub.unsubscribe();
    this.subs.delete(room);
    if (sub.access.presenceClassId) void this.hooks.onPresenceLeave(this, sub.access.presenceClassId);
    return { room, subscribed: false };
  }

  /**
   * Re-runs the access checks for this connection's user: a user who is gone (deleted or
   * suspended) is disconnected with 4001; a room they may no longer see is dropped with an error
   * frame naming it. Runs on every revocation published for the user and periodically as the
   * backstop.
   */
  async recheck(): Promise<void> {
    if (this.closed) return;
    const n = ++this.rechecks;
    const actor = await loadActor(this.deps.db.db, this.actor.userId, this.actor.activeGroupId);
    // A re-check that started later read rows at least as new as these: it decides, so an older
    // read finishing last can never restore rights a revocation removed.
    if (this.closed || n !== this.rechecks) return;
    if (!actor) {
      this.close(CLOSE_CODES.unauthenticated, "user no longer active");
      return;
    }
    this.actor = actor;
    this.actorCached = false;
    for (const room of [...this.subs.keys()]) await this.revalidate(room);
  }

  private async revalidate(room: string): Promise<void> {
    try {
      await authorizeRoom(this.ctx(), room, { recordView: false });
    } catch (err) {
      if (!(err instanceof AppError)) {
        // Not a refusal (the database hiccuped): keep the room, the next re-check decides.
        this.deps.logger.warn("room re-check failed", { connectionId: this.id, room, err });
        return;
      }
      if (this.closed || !this.subs.has(room)) return;
      this.unsubscribe(room);
      this.send({ type: "error", code: err.code, message: "Access to this room was revoked", details: { room } });
    }
  }

  presenceMember(role: string) {
    return { userId: this.actor.userId, connectionId: this.id, role };
  }
}
