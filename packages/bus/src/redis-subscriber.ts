// The receiving side of a Redis bus node: the room channels it subscribes on its dedicated
// connection while someone on the node listens, the messages read off them (the hot path of every
// watching instance), and the resync after a reconnect or a Cluster failover. The commands side is
// redis-publisher.ts; the node that ties both to the local fallback is redis-bus.ts.
import calculateSlot from "cluster-key-slot";
import { Cluster } from "ioredis";
import { decodeEventFrame } from "./event-body.ts";
import { FrameReader } from "./frame-reader.ts";
import type { LocalListeners } from "./local-listeners.ts";
import type { RedisClient } from "./redis-support.ts";
import { roomKeys } from "./room.ts";
import type { BusErrorHandler, BusListener, FrameListener, Unsubscribe } from "./types.ts";

export interface RedisSubscriberOptions {
  /** The dedicated subscriber connection; a `Cluster` means sharded pub/sub (SSUBSCRIBE). */
  sub: RedisClient;
  prefix: string;
  /** The node's listeners (the local fallback dispatches to them too). */
  listeners: LocalListeners;
  /** Starts a new numbering for a room (after a failover, see `renumberFailedOverRooms`). */
  rotate: (room: string) => Promise<unknown>;
  onError: BusErrorHandler;
}

/**
 * Subscribes a room's channel on the 0→1 transition of its local listeners and unsubscribes it on
 * 1→0; reads every message of a subscribed channel into a frame for the room's listeners.
 */
export class RedisSubscriber {
  private readonly sub: RedisClient;
  // Redis Cluster: sharded pub/sub (SSUBSCRIBE/SMESSAGE, one channel per call) instead of SUBSCRIBE.
  private readonly sharded: boolean;
  private readonly prefix: string;
  private readonly listeners: LocalListeners;
  private readonly rotate: (room: string) => Promise<unknown>;
  private readonly onError: BusErrorHandler;
  // Channel → the reader of that room's messages (it knows its room), one lookup per message.
  private readonly readers = new Map<string, FrameReader>();
  // Cluster: the primary that served each subscribed room when last seen. Replication is
  // asynchronous, so a promoted replica may lack a room's last events; a room whose primary
  // changed gets a new epoch, which turns a possible silent gap into an explicit reset.
  private readonly roomPrimary = new Map<string, string>();
  private readonly roomReady = new Map<string, Promise<void>>();
  private closed = false;
  private quiet = false;

  constructor(options: RedisSubscriberOptions) {
    this.sub = options.sub;
    this.sharded = this.sub instanceof Cluster;
    this.prefix = options.prefix;
    this.listeners = options.listeners;
    this.rotate = options.rotate;
    this.onError = options.onError;
    this.sub.on("error", this.onSubscriberError);
    this.sub.on("ready", this.onSubscriberReady);
    this.sub.on(this.sharded ? "smessageBuffer" : "messageBuffer", this.onMessage);
    // A shard's subscriber connection is replaced after a failover or a slot move; ioredis says
    // so once the new set of shard subscribers is connected.
    if (this.sharded) this.sub.on("subscribersReady", this.onSubscriberReady);
    if (this.sub.status === "ready") void this.resubscribeAll();
  }

  /** True while the subscriber connection is up (events arrive through it). */
  get connected(): boolean {
    return this.sub.status === "ready";
  }

  /** Adds a local listener; resolves once the room's channel is subscribed (or will be on reconnect). */
  async listen(room: string, listener: BusListener | FrameListener): Promise<Unsubscribe> {
    const { channel } = roomKeys(this.prefix, room);
    if (this.listeners.add(room, listener)) {
      this.readers.set(channel, new FrameReader(room));
      this.notePrimary(room, channel);
      // While the subscriber is down the channel is subscribed (and listeners told to resync) on
      // its next 'ready'; waiting here would block callers for the whole outage.
      if (this.sub.status === "ready") {
        const subscribed = this.subscribeChannels([channel]).then(
          () => undefined,
          (error: unknown) => this.onError(error, `subscribe ${room} failed; retried on reconnect`),
        );
        this.roomReady.set(room, subscribed);
      } else {
        this.roomReady.delete(room);
      }
    }
    await this.roomReady.get(room);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      if (!this.listeners.remove(room, listener)) return;
      this.readers.delete(channel);
      this.roomPrimary.delete(room);
      this.roomReady.delete(room);
      if (this.sub.status === "ready") {
        this.unsubscribeChannels([channel]).catch((error: unknown) => this.onError(error, `unsubscribe ${room} failed`));
      }
    };
  }

  subscribedRooms(): string[] {
    return [...this.readers.values()].map((reader) => reader.room);
  }

  /** Stops listening; `release` unsubscribes the channels (a connection the node does not own). */
  async close(release: boolean): Promise<void> {
    this.closed = true;
    const channels = [...this.readers.keys()];
    this.readers.clear();
    this.sub.off("ready", this.onSubscriberReady);
    this.sub.off(this.sharded ? "smessageBuffer" : "messageBuffer", this.onMessage);
    this.sub.off("subscribersReady", this.onSubscriberReady);
    if (!release) return;
    if (channels.length > 0 && this.sub.status === "ready") {
      await this.unsubscribeChannels(channels).catch(() => undefined);
    }
    this.sub.off("error", this.onSubscriberError);
  }

  // SSUBSCRIBE takes channels of one slot per call; every room is its own hash tag, so one call
  // per channel. Re-subscribing a channel the connection already holds is a no-op on the server.
  private subscribeChannels(channels: string[]): Promise<unknown> {
    if (!this.sharded) return this.sub.subscribe(...channels);
    return Promise.all(channels.map((channel) => this.sub.ssubscribe(channel)));
  }

  private unsubscribeChannels(channels: string[]): Promise<unknown> {
    if (!this.sharded) return this.sub.unsubscribe(...channels);
    return Promise.all(channels.map((channel) => this.sub.sunsubscribe(channel)));
  }

  private primaryOf(channel: string): string | undefined {
    return this.sub instanceof Cluster ? this.sub.slots[calculateSlot(channel)]?.[0] : undefined;
  }

  private notePrimary(room: string, channel: string): void {
    const primary = this.primaryOf(channel);
    if (primary) this.roomPrimary.set(room, primary);
  }

  /** Starts a new epoch for every subscribed room whose shard has a new primary (see roomPrimary). */
  private async renumberFailedOverRooms(): Promise<void> {
    for (const [channel, reader] of this.readers) {
      const room = reader.room;
      const before = this.roomPrimary.get(room);
      const now = this.primaryOf(channel);
      if (!now || now === before) continue;
      this.roomPrimary.set(room, now);
      if (!before) continue;
      try {
        await this.rotate(room);
      } catch (error) {
        // Still failing over: the room is renumbered by the next 'subscribersReady'.
        this.roomPrimary.set(room, before);
        this.onError(error, `renumbering ${room} after a failover failed`);
      }
    }
  }

  private async resubscribeAll(): Promise<void> {
    if (this.sharded) await this.renumberFailedOverRooms();
    const rooms = this.listeners.rooms();
    if (rooms.length > 0) {
      try {
        await this.subscribeChannels(rooms.map((room) => roomKeys(this.prefix, room).channel));
      } catch (error) {
        // The connection dropped again; its next 'ready' retries.
        this.onError(error, "resubscribe failed");
        return;
      }
    }
    // Only now is the channel set effective: anything published before this point may have been
    // missed, anything after will arrive, so a replay from here closes the gap exactly.
    for (const room of rooms) this.listeners.dispatch(room, { kind: "resync", room, reason: "reconnected" });
  }

  private readonly onSubscriberReady = (): void => {
    this.quiet = false;
    if (!this.closed) void this.resubscribeAll();
  };

  // ioredis emits 'error' on every failed reconnect attempt; an unhandled 'error' would crash the
  // process, an unthrottled log would flood it. Log once per outage.
  private readonly onSubscriberError = (error: unknown): void => {
    if (this.quiet || this.closed) return;
    this.quiet = true;
    this.onError(error, "redis subscriber connection error");
  };

  // The hot path of every watching instance, once per event and room: ioredis hands the message
  // over as bytes (the `…Buffer` events: no string of the whole message is made), the channel's
  // reader reads the position from its header and the frame goes to frame listeners as it
  // arrived; JSON is parsed only for signal listeners.
  private readonly onMessage = (channel: Buffer, message: Buffer): void => {
    const reader = this.readers.get(channel.toString());
    if (reader === undefined) return;
    const room = reader.room;
    try {
      if (reader.read(message) === "resync") {
        this.listeners.dispatch(room, { kind: "resync", room, reason: "epoch-rotated" });
        return;
      }
    } catch (error) {
      this.onError(error, `malformed message on ${room}`);
      return;
    }
    this.listeners.dispatchFrame(room, reader.epoch, reader.offset, reader.frame, decodeEventFrame);
  };
}
