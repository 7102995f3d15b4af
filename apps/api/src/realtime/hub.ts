import type { BusSignal, PresenceSnapshot, Unsubscribe } from "@raptscallions/bus";
import { CLOSE_CODES } from "@raptscallions/core";
import { type Actor, loadActor } from "../access/actor.ts";
import type { ActorCache } from "../services/realtime/actor-cache.ts";
import type { AuditBatch } from "../services/audit/batch.ts";
import type { AppDeps } from "../deps.ts";
import type { GenerationRunner } from "../services/live/generation-runner.ts";
import { classRoom, publishBestEffort } from "../services/rooms.ts";
import type { StudentMessageGate } from "../services/modules/hooks.ts";
import { ACCESS_ROOM, revocationOf } from "../services/realtime/revocation.ts";
import { type ActorLoader, Connection, type ConnectionHost } from "./connection.ts";
import { RoomFeeds } from "./room-feed.ts";
import { SharedActors } from "./shared-actors.ts";
import type { ConnectionData, RealtimeSocket, TopicPublisher } from "./socket.ts";

interface PresenceEntry {
  classId: string;
  conn: Connection;
  role: string;
}

/**
 * This instance's sockets: opens connections from redeemed tickets, keeps presence alive with
 * heartbeats (a crashed instance's users drop out by TTL), re-checks a user's access as soon as
 * any instance publishes a revocation for them (and every connection periodically, as the
 * backstop), and closes everything with 4012 on shutdown so clients reconnect elsewhere and
 * resume by offset.
 */
export class RealtimeHub implements ConnectionHost {
  /** One bus subscription and one topic per room on this instance, shared by its sockets. */
  readonly feeds: RoomFeeds;
  private readonly connections = new Set<Connection>();
  private readonly actors = new SharedActors();
  private readonly presence = new Map<string, PresenceEntry>();
  private timers: ReturnType<typeof setInterval>[] = [];
  private revocations: Promise<Unsubscribe | null> | null = null;
  /** Counts access signals heard, so `open` can tell one arrived while it was loading the user. */
  private accessSignals = 0;

  constructor(
    readonly deps: AppDeps,
    readonly runner: GenerationRunner,
    readonly gate: StudentMessageGate | undefined,
    private readonly setup: { actors: ActorCache; viewAudit: AuditBatch },
  ) {
    this.feeds = new RoomFeeds(deps.bus, deps.logger, { lingerMs: deps.config.live.feedLingerMs });
  }

  get viewAudit(): AuditBatch {
    return this.setup.viewAudit;
  }

  /** Where room frames are published: the server's topics (attached once the server exists). */
  setPublisher(publisher: TopicPublisher) {
    this.feeds.setPublisher(publisher);
  }

  presenceJoin(conn: Connection, classId: string, role: string): Promise<void> {
    return this.join(conn, classId, role);
  }

  presenceLeave(conn: Connection, classId: string): Promise<void> {
    return this.leave(conn, classId);
  }

  shareActor(actor: Actor, previous?: Actor): Actor {
    return this.actors.adopt(actor, previous);
  }

  closed(conn: Connection): void {
    this.actors.release(conn.actor);
    this.connections.delete(conn);
    this.deps.metrics.wsConnections.set(this.connections.size);
    if (this.connections.size === 0) this.stopTimers();
  }

  /** Presence heartbeats and access re-checks run only while this instance holds sockets. */
  private startTimers() {
    if (this.timers.length > 0) return;
    const live = this.deps.config.live;
    this.timers = [
      setInterval(() => void this.heartbeatPresence(), Math.max(250, Math.floor(live.presenceTtlMs / 3))),
      setInterval(() => void this.recheckAll(), live.recheckIntervalMs),
    ];
  }

  private stopTimers() {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  count(): number {
    return this.connections.size;
  }

  /**
   * Listens on the access room for the hub's whole life (not only while sockets are open, so no
   * revocation can fall between a user's load and their connection's registration).
   */
  private listenForRevocations(): Promise<Unsubscribe | null> {
    this.revocations ??= this.deps.bus
      .subscribe(ACCESS_ROOM, (signal) => this.onAccessSignal(signal))
      .catch((err: unknown) => {
        this.deps.logger.warn("revocation listener failed; the periodic re-check remains", { err });
        this.revocations = null;
        return null;
      });
    return this.revocations;
  }

  private onAccessSignal(signal: BusSignal) {
    this.accessSignals += 1;
    if (signal.kind === "resync") {
      // The feed may have dropped revocations (a Redis reconnect): re-check everyone once.
      void this.recheckAll();
      return;
    }
    const revocation = revocationOf(signal.event);
    if (!revocation) return;
    const { userId, clerkUserId } = revocation;
    const load = this.sharedLoads();
    for (const conn of this.connections) {
      const actor = conn.actor;
      if (actor.userId === userId || (clerkUserId !== undefined && actor.clerkUserId === clerkUserId)) {
        void this.recheckOne(conn, load);
      }
    }
  }

  /** Opens a connection for a redeemed ticket; null (and the socket closed) when the user is gone. */
  async open(socket: RealtimeSocket, data: ConnectionData): Promise<Connection | null> {
    await this.listenForRevocations();
    const heard = this.accessSignals;
    // Usually a hit: redeeming the ticket loaded this user a moment ago.
    // The system scope: who the person is decides their reach, so it is read before there is one.
    const { actor, cached } = await this.setup.actors.actor(this.deps.db.db, data.userId, data.activeGroupId);
    if (!actor) {
      socket.close(CLOSE_CODES.unauthenticated, "user no longer active");
      return null;
    }
    const conn = new Connection(socket, this.actors.adopt(actor), this);
    conn.actorCached = cached;
    this.connections.add(conn);
    this.startTimers();
    this.deps.metrics.wsConnections.set(this.connections.size);
    conn.hello();
    // A revocation heard while the user was loading may postdate that load.
    if (this.accessSignals !== heard) void this.recheckOne(conn);
    return conn;
  }

  private key(conn: Connection, classId: string) {
    return `${conn.id}|${classId}`;
  }

  private async join(conn: Connection, classId: string, role: string) {
    this.presence.set(this.key(conn, classId), { classId, conn, role });
    try {
      const change = await this.deps.presence.join(classRoom(classId), conn.presenceMember(role), this.deps.config.live.presenceTtlMs);
      if (change.changed) await this.announce(classId, conn.actor.userId, true, role, change.snapshot);
    } catch (err) {
      this.deps.logger.warn("presence join failed", { classId, err });
    }
  }

  private async leave(conn: Connection, classId: string) {
    const key = this.key(conn, classId);
    if (!this.presence.delete(key)) return;
    // Another subscription of the same connection may still count for this class.
    for (const p of this.presence.values()) if (p.conn === conn && p.classId === classId) return;
    try {
      const change = await this.deps.presence.leave(classRoom(classId), conn.id);
      if (change?.changed) await this.announce(classId, conn.actor.userId, false, undefined, change.snapshot);
    } catch (err) {
      this.deps.logger.warn("presence leave failed", { classId, err });
    }
  }

  /** Publishes a user's presence change with the room's members (`listed` when the change carried them). */
  private async announce(classId: string, userId: string, online: boolean, role?: string, listed?: PresenceSnapshot) {
    const snapshot = listed ?? (await this.deps.presence.list(classRoom(classId)));
    for (const gone of snapshot.expired) {
      await publishBestEffort(this.deps.bus, this.deps.logger, classRoom(classId), "presence.changed", { userId: gone, online: false, expired: true });
    }
    await publishBestEffort(this.deps.bus, this.deps.logger, classRoom(classId), "presence.changed", {
      userId,
      online,
      role,
      members: snapshot.members,
    });
  }

  /** Refreshes this instance's presence entries and announces anyone whose entry expired elsewhere. */
  private async heartbeatPresence() {
    const ttl = this.deps.config.live.presenceTtlMs;
    const classes = new Set<string>();
    for (const p of this.presence.values()) {
      classes.add(p.classId);
      try {
        const change = await this.deps.presence.heartbeat(classRoom(p.classId), p.conn.presenceMember(p.role), ttl);
        if (change.changed) await this.announce(p.classId, p.conn.actor.userId, true, p.role, change.snapshot);
      } catch (err) {
        this.deps.logger.warn("presence heartbeat failed", { err });
      }
    }
    for (const classId of classes) {
      try {
        const snapshot = await this.deps.presence.list(classRoom(classId));
        for (const gone of snapshot.expired) {
          await publishBestEffort(this.deps.bus, this.deps.logger, classRoom(classId), "presence.changed", {
            userId: gone,
            online: false,
            expired: true,
          });
        }
      } catch {
        // next heartbeat retries
      }
    }
  }

  /**
   * One load per user for one round of re-checks (a teacher watching thirty sessions from thirty
   * sockets is read once, not thirty times). A load is shared only while no access signal arrived
   * after it started: a connection re-checked after a revocation always reads rows newer than it.
   */
  private sharedLoads(): ActorLoader {
    const loads = new Map<string, { signals: number; load: Promise<Actor | null> }>();
    return (userId, activeGroupId) => {
      const key = `${userId}|${activeGroupId ?? ""}`;
      let entry = loads.get(key);
      if (!entry || entry.signals !== this.accessSignals) {
        entry = { signals: this.accessSignals, load: loadActor(this.deps.db.db, userId, activeGroupId) };
        loads.set(key, entry);
      }
      return entry.load;
    };
  }

  private async recheckOne(conn: Connection, load?: ActorLoader) {
    try {
      await conn.recheck(load);
    } catch (err) {
      this.deps.logger.warn("recheck failed", { connectionId: conn.id, err });
    }
  }

  private async recheckAll() {
    const load = this.sharedLoads();
    for (const conn of [...this.connections]) await this.recheckOne(conn, load);
  }

  /** Closes every socket with 4012 so clients reconnect to another instance and resume. */
  async shutdown() {
    this.stopTimers();
    const listening = this.revocations;
    this.revocations = null;
    (await listening)?.();
    for (const conn of [...this.connections]) conn.close(CLOSE_CODES.serverRestart, "server restarting");
    this.feeds.close();
  }
}
