import { RoomLog } from "./room-log.ts";
import type { BusErrorHandler } from "./types.ts";

/** What the fallback needs from its Redis bus node to leave local delivery again. */
export interface FallbackHooks {
  /** Whether Redis can be tried at all (the commands connection is ready). */
  connected(): boolean;
  /** One round trip to the whole Redis (single Redis) … */
  ping(): Promise<unknown>;
  /** … or to the shard that holds `room` (cluster): succeeds once that shard answers again. */
  probe(room: string): Promise<unknown>;
  /** Starts a new shared epoch for a room that was published to locally (other nodes missed it). */
  rotate(room: string): Promise<unknown>;
  /** Tells the room's listeners to resync (replay from where they are, or reset). */
  resync(room: string): void;
  /** The rooms with local listeners: all of them resync when the whole node leaves local delivery. */
  listenedRooms(): Iterable<string>;
  isUnavailable(error: unknown): boolean;
  onError: BusErrorHandler;
}

/**
 * Where a Redis bus node delivers while Redis is out of reach: per-room logs under a node-local
 * epoch, and the rooms whose shared numbering must restart once Redis answers, because other nodes
 * missed what was delivered here.
 *
 * On one Redis the whole node falls back at once (every room lives on that server). On a cluster
 * only the rooms whose shard failed do: a primary dying takes its slots away for the second or two
 * its replica needs, and the rooms on the other shards keep their numbering throughout.
 */
export class LocalFallback {
  private readonly logs = new Map<string, RoomLog>();
  private readonly publishedLocally = new Set<string>();
  private readonly rooms = new Set<string>();
  private whole = false;
  private recovering = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(
    private readonly nodeId: string,
    private readonly replayLimit: number,
    private readonly intervalMs: number,
    private readonly hooks: FallbackHooks,
  ) {}

  /** True while any room of this node is delivered locally. */
  get active(): boolean {
    return this.whole || this.rooms.size > 0;
  }

  covers(room: string): boolean {
    return this.whole || this.rooms.has(room);
  }

  /** Falls back for every room (single Redis, or the cluster connection itself is down). */
  enterAll(cause: unknown): void {
    if (this.whole || this.closed) return;
    const wasActive = this.active;
    this.whole = true;
    if (!wasActive) this.hooks.onError(cause, "redis unavailable; delivering locally until it returns");
    this.startTimer();
  }

  /** Falls back for one room whose shard is unreachable (cluster). */
  enterRoom(room: string, cause: unknown): void {
    if (this.covers(room) || this.closed) return;
    if (this.rooms.size === 0) this.hooks.onError(cause, "a redis shard is unavailable; delivering its rooms locally until it returns");
    this.rooms.add(room);
    this.startTimer();
  }

  log(room: string): RoomLog {
    let log = this.logs.get(room);
    if (!log) {
      log = new RoomLog(`local:${this.nodeId}:${crypto.randomUUID()}`, this.replayLimit);
      this.logs.set(room, log);
    }
    return log;
  }

  published(room: string): void {
    this.publishedLocally.add(room);
  }

  /** Try to leave local delivery now (also runs on a timer while active). */
  recover(): void {
    void this.tryRecover();
  }

  close(): void {
    this.closed = true;
    this.stopTimer();
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tryRecover(), this.intervalMs);
    this.timer.unref?.();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tryRecover(): Promise<void> {
    if (!this.active || this.recovering || this.closed || !this.hooks.connected()) return;
    this.recovering = true;
    try {
      if (this.whole) await this.recoverAll();
      else await this.recoverRooms();
      if (!this.active) this.stopTimer();
    } catch (error) {
      if (!this.hooks.isUnavailable(error)) this.hooks.onError(error, "bus recovery failed");
    } finally {
      this.recovering = false;
    }
  }

  private async recoverAll(): Promise<void> {
    await this.hooks.ping();
    // Rooms published to while we rotate are picked up by the next pass; leaving local delivery
    // happens synchronously after the last check, so no local publish can slip through.
    while (this.publishedLocally.size > 0) {
      for (const room of [...this.publishedLocally]) {
        await this.hooks.rotate(room);
        this.publishedLocally.delete(room);
      }
    }
    if (this.closed) return;
    this.whole = false;
    this.rooms.clear();
    this.logs.clear();
    this.hooks.onError(new Error("redis reachable again"), "leaving local delivery; listeners resync");
    for (const room of this.hooks.listenedRooms()) this.hooks.resync(room);
  }

  private async recoverRooms(): Promise<void> {
    for (const room of [...this.rooms]) {
      // A publish during the await puts the room back in publishedLocally: it stays local until
      // a pass finds nothing new, so no locally numbered event can follow the new shared epoch.
      const published = this.publishedLocally.delete(room);
      try {
        await (published ? this.hooks.rotate(room) : this.hooks.probe(room));
      } catch (error) {
        if (published) this.publishedLocally.add(room);
        if (!this.hooks.isUnavailable(error)) throw error;
        continue;
      }
      if (this.closed || this.whole || this.publishedLocally.has(room)) continue;
      this.rooms.delete(room);
      this.logs.delete(room);
      this.hooks.resync(room);
    }
    if (!this.active && !this.closed) this.hooks.onError(new Error("redis shard reachable again"), "leaving local delivery; listeners resync");
  }
}
