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
import { sessionSnapshot } from "../services/sessions/snapshot.ts";
import { runSnapshot } from "../services/runs/read.ts";
import { resolveAlert } from "../services/alerts/resolve.ts";
import { authorizeRoom, type RoomAccess, type RoomGrant } from "../services/live/room-access.ts";
import type { FeedMember, RoomFeeds } from "./room-feed.ts";
import type { RealtimeSocket } from "./socket.ts";

export { eventFrame } from "./room-feed.ts";

/**
 * What every connection of an instance shares, held once by the hub rather than per connection
 * (an idle connection's memory is what this layer is sized by).
 */
export interface ConnectionHost {
  readonly deps: AppDeps;
  readonly runner: GenerationRunner;
  readonly gate?: StudentMessageGate | undefined;
  readonly feeds: RoomFeeds;
  presenceJoin(conn: Connection, classId: string, role: string): Promise<void>;
  presenceLeave(conn: Connection, classId: string): Promise<void>;
  closed(conn: Connection): void;
  /** Where subscriptions' `session.view` rows go (batched off the subscribe path). */
  readonly viewAudit?: AuditBatch | undefined;
  /** The actor object to hold for a fresh load (equal loads of one user share one object). */
  shareActor(actor: Actor, previous?: Actor): Actor;
}

/** Loads a user's actor for a re-check; the hub shares one load among a user's connections. */
export type ActorLoader = (userId: string, activeGroupId: string | null) => Promise<Actor | null>;

const decoder = new TextDecoder();
const SESSION_ROOM = /^session:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RATE = REALTIME_LIMITS.framesPerSecond / 1000;
const BURST = REALTIME_LIMITS.burstFrames;

/** The `id` of a refused frame, echoed so the client can match the error to its request. */
function requestIdOf(json: unknown): { id?: string } {
  const id = typeof json === "object" && json !== null ? (json as { id?: unknown }).id : undefined;
  return typeof id === "string" && id.length > 0 && textProblem(id) === null ? { id: id.slice(0, 64) } : {};
}

// Connection ids: this process's random prefix (a UUID's first 28 characters) and a count.
const ID_PREFIX = crypto.randomUUID().slice(0, 28);
let opened = 0;

/**
 * One WebSocket: validates every frame against the protocol schema, answers a bad frame with an
 * error frame (the connection lives), closes on abuse, and keeps its send queue bounded — a
 * consumer that falls behind is closed with 4008 rather than growing memory. Room events reach
 * it through its rooms' topics (see room-feed.ts), not through per-connection listeners.
 *
 * Sized for many idle sockets: everything shared lives on the host, the rate limit is two numbers,
 * and the room map and frame queue exist only once used.
 */
export class Connection implements FeedMember {
  actor: Actor;
  /** Set when `actor` came from the actor cache: a refused subscription reloads it once. */
  actorCached = false;
  private subs: Map<string, RoomAccess> | null = null;
  // Token bucket: sustained `framesPerSecond`, bursts up to `burstFrames`.
  private tokens: number = BURST;
  private refilledAt = performance.now();
  private queue: Promise<void> | null = null;
  private closed = false;
  private rechecks = 0;

  /** This process's count of connections when this one opened (see `id`). */
  private readonly seq: number;

  constructor(
    readonly socket: RealtimeSocket,
    actor: Actor,
    private readonly host: ConnectionHost,
  ) {
    this.actor = actor;
    opened = (opened + 1) >>> 0;
    this.seq = opened;
  }

  /**
   * The connection's id (hello, presence, logs), formed when asked for rather than kept: an idle
   * socket then holds no string of its own. Each was allocated among its setup's garbage, where
   * it kept a heap block from being freed (bench/README.md, idle-heap.bench.ts). Shaped like a
   * random UUID: this process's random first 28 characters, then its count in 8 hex digits.
   */
  get id(): string {
    return ID_PREFIX + this.seq.toString(16).padStart(8, "0");
  }

  get isClosed() {
    return this.closed;
  }

  private get deps(): AppDeps {
    return this.host.deps;
  }

  rooms(): string[] {
    return this.subs ? [...this.subs.keys()] : [];
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

  sendRaw(data: string): void {
    if (this.closed) return;
    const sent = this.socket.send(data);
    // Bytes sent: nothing is queued for this socket (a queue would have made this send queue too).
    if (sent > 0) return;
    // 0 also means "dropped because the socket is already closing": that is no slow consumer.
    if (sent === 0 && this.socket.readyState !== 1) return;
    // -1: queued under backpressure; past the bound the consumer is too slow to keep.
    if (sent === 0) this.closeSlow();
    else this.checkBackpressure();
  }

  /** Called when a room's topic publish met backpressure: this socket may be the slow one. */
  checkBackpressure(): void {
    if (!this.closed && this.socket.getBufferedAmount() > this.deps.config.live.maxBufferedBytes) this.closeSlow();
  }

  private closeSlow() {
    this.deps.logger.warn("closing slow consumer", { connectionId: this.id, buffered: this.socket.getBufferedAmount() });
    this.close(CLOSE_CODES.slowConsumer, "slow consumer: reconnect and resume by offset");
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
    if (this.subs) for (const room of [...this.subs.keys()]) this.unsubscribe(room);
    this.host.closed(this);
  }

  private takeToken(): boolean {
    const now = performance.now();
    this.tokens = Math.min(BURST, this.tokens + (now - this.refilledAt) * RATE);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Entry point for every inbound frame; frames of one connection are handled in order. */
  receive(raw: string | Uint8Array) {
    if (this.closed) return;
    if (!this.takeToken()) {
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
    this.queue = (this.queue ?? Promise.resolve()).then(() => this.handle(frame)).catch(() => {});
  }

  /** One context per frame: its request id joins the frame's log lines and audit rows. */
  private ctx(): ServiceContext {
    return buildServiceContext(this.deps, this.host.runner, {
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
        const r = await sendStudentMessage({ ctx, input: frame, gate: this.host.gate });
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
      case "alert.ack":
        return { alert: await resolveAlert({ ctx, input: { id: frame.alertId, to: "acknowledged" } }) };
    }
  }

  /**
   * Authorises a subscription. A cached actor may predate a grant (grants publish nothing), so a
   * refusal on one is confirmed once against fresh rows (the full re-check) before it stands.
   */
  private async authorize(room: string): Promise<{ ctx: ServiceContext } & RoomGrant> {
    const opts = { recordView: true, viewAudit: this.host.viewAudit };
    const ctx = this.ctx();
    try {
      return { ctx, ...(await authorizeRoom(ctx, room, opts)) };
    } catch (err) {
      if (!this.actorCached || !(err instanceof AppError)) throw err;
      this.actorCached = false;
      await this.recheck();
      if (this.closed) throw err;
      const again = this.ctx();
      return { ctx: again, ...(await authorizeRoom(again, room, opts)) };
    }
  }

  private async subscribe(room: string, lastOffset: number | undefined, epoch: string | undefined) {
    // A late joiner's snapshot needs the room's head read before the session row; the access check
    // loads that row, so the head comes first and the snapshot reuses the row (one query, not two).
    const head = lastOffset === undefined && SESSION_ROOM.test(room) ? await this.deps.bus.head(room) : null;
    const { ctx, access, session } = await this.authorize(room);
    this.unsubscribe(room);
    let from: { epoch: string | null; offset: number } | null = null;
    if (lastOffset !== undefined) {
      from = { epoch: epoch ?? null, offset: lastOffset };
    } else if (access.kind === "session") {
      const snapshot = await sessionSnapshot(ctx, access.id, head && session ? { read: { head, session } } : {});
      this.send({ type: "snapshot", room, epoch: snapshot.epoch, offset: snapshot.offset, payload: snapshot.payload });
      from = { epoch: snapshot.epoch, offset: snapshot.offset };
    } else if (access.kind === "run") {
      const snapshot = await runSnapshot(ctx, access.id);
      this.send({ type: "snapshot", room, epoch: snapshot.epoch, offset: snapshot.offset, payload: snapshot.payload });
      from = { epoch: snapshot.epoch, offset: snapshot.offset };
    }
    const position = await this.host.feeds.join(this, room, from);
    if (position === null || this.closed) {
      this.host.feeds.leave(this, room);
      return undefined;
    }
    this.subs ??= new Map();
    this.subs.set(room, access);
    // A re-check that reloaded the user while this was being authorised missed this room.
    if (this.actor !== ctx.actor) {
      await this.revalidate(room);
      if (!this.subs.has(room)) return { room, subscribed: false };
    }
    if (access.presenceClassId) await this.host.presenceJoin(this, access.presenceClassId, access.presenceRole);
    return { room, ...position };
  }

  private unsubscribe(room: string) {
    const access = this.subs?.get(room);
    if (!access) return { room, subscribed: false };
    this.subs?.delete(room);
    this.host.feeds.leave(this, room);
    if (access.presenceClassId) void this.host.presenceLeave(this, access.presenceClassId);
    return { room, subscribed: false };
  }

  /**
   * Re-runs the access checks for this connection's user: a user who is gone (deleted or
   * suspended) is disconnected with 4001; a room they may no longer see is dropped with an error
   * frame naming it. Runs on every revocation published for the user and periodically as the
   * backstop.
   */
  async recheck(load: ActorLoader = (userId, groupId) => loadActor(this.deps.db.db, userId, groupId)): Promise<void> {
    if (this.closed) return;
    const n = ++this.rechecks;
    const actor = await load(this.actor.userId, this.actor.activeGroupId);
    // A re-check that started later read rows at least as new as these: it decides, so an older
    // read finishing last can never restore rights a revocation removed.
    if (this.closed || n !== this.rechecks) return;
    if (!actor) {
      this.close(CLOSE_CODES.unauthenticated, "user no longer active");
      return;
    }
    this.actor = this.host.shareActor(actor, this.actor);
    this.actorCached = false;
    for (const room of this.rooms()) await this.revalidate(room);
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
      if (this.closed || !this.subs?.has(room)) return;
      this.unsubscribe(room);
      this.send({ type: "error", code: err.code, message: "Access to this room was revoked", details: { room } });
    }
  }

  presenceMember(role: string) {
    return { userId: this.actor.userId, connectionId: this.id, role };
  }
}
