import { AppError } from "@raptscallions/core";
import calculateSlot from "cluster-key-slot";
import { Cluster } from "ioredis";
import { DEFAULT_MAX_PAYLOAD_BYTES, decodeEventFrame, encodeBody, rememberWireBody } from "./event-body.ts";
import { FrameReader } from "./frame-reader.ts";
import { LocalFallback } from "./local-fallback.ts";
import { LocalListeners, logBusError } from "./local-listeners.ts";
import { closeQuietly, connectRedis, connectRedisCluster, isUnavailable, type RedisClient, type RedisClusterConfig, runScript, whenReady } from "./redis-support.ts";
import { parseEntries, parseHead, parsePublishReply, type RoomScripts, roomScripts } from "./redis-wire.ts";
import { assertKeyPrefix, assertOffset, assertRoom, roomKeys } from "./room.ts";
import { resolveReplay } from "./room-log.ts";
import type { Bus, BusErrorHandler, BusEvent, BusEventInput, BusListener, FrameListener, ReplayResult, RoomHead, Unsubscribe } from "./types.ts";

export interface RedisBusOptions {
  /** Creates and owns both connections. Alternatively pass `cluster`, or `publisher` and `subscriber`. */
  url?: string;
  /**
   * A Redis Cluster instead of one Redis: the node creates and owns a commands connection and a
   * sharded subscriber (SSUBSCRIBE), and publishes with SPUBLISH. A room's counter, log and
   * channel share the `{room}` hash tag, so each room lives on one shard.
   */
  cluster?: RedisClusterConfig;
  /**
   * Commands connection (may be shared with KV and presence); see `connectRedis` and
   * `connectRedisCluster`. Not closed by `close()`.
   */
  publisher?: RedisClient;
  /**
   * Dedicated connection for SUBSCRIBE; must not be used for anything else. A `Cluster` here
   * must have `shardedSubscribers` on and switches the node to sharded pub/sub. Not closed by `close()`.
   */
  subscriber?: RedisClient;
  /** Events kept per room for replay (Redis keeps at least this many: `MAXLEN ~`). Default 1000. */
  replayLimit?: number;
  /** A room's counter and log expire this long after its last publish. Default 24 h. */
  roomTtlMs?: number;
  /** Prefix of every key and channel. Default `rapt:bus:`. */
  keyPrefix?: string;
  nodeId?: string;
  maxPayloadBytes?: number;
  now?: () => number;
  onError?: BusErrorHandler;
  /** How often a node delivering locally probes Redis. Default 500 ms. */
  recoveryIntervalMs?: number;
}

/** A bus node backed by Redis, with a view of its connection state. */
export interface RedisBus extends Bus {
  /** True while this node delivers some room locally because Redis (or its shard) is unreachable. */
  readonly degraded: boolean;
  /** Resolves once both connections are ready (use before serving traffic). */
  ready(timeoutMs?: number): Promise<void>;
}

/**
 * A bus node for one API instance. Publishes go through Redis (stream + counter + channel per
 * room); the node subscribes to a room's channel on its dedicated subscriber connection only
 * while it has local listeners. If Redis is unreachable the node keeps delivering to its own
 * listeners under a node-local epoch and, once Redis answers again, restarts the numbering of
 * every room it published to locally and asks all listeners to resync (see README). On a cluster
 * only the rooms of an unreachable shard fall back (local-fallback.ts).
 */
/** Rooms whose epoch a node remembers for its publishes (a few hundred bytes each). */
const PUBLISHED_EPOCHS_KEPT = 10_000;

export function createRedisBus(options: RedisBusOptions): RedisBus {
  return new RedisBusNode(options);
}

class RedisBusNode implements RedisBus {
  readonly nodeId: string;
  private readonly pub: RedisClient;
  private readonly sub: RedisClient;
  private readonly owned: boolean;
  // Redis Cluster: sharded pub/sub (SSUBSCRIBE/SPUBLISH, one channel per call) instead of PUBLISH.
  private readonly sharded: boolean;
  private readonly scripts: RoomScripts;
  private readonly replayLimit: number;
  private readonly roomTtlMs: number;
  private readonly prefix: string;
  private readonly maxPayloadBytes: number;
  private readonly now: () => number;
  private readonly onError: BusErrorHandler;
  private readonly listeners: LocalListeners;
  private readonly channelRooms = new Map<string, string>();
  private readonly reader = new FrameReader();
  // Cluster: the primary that served each subscribed room when last seen. Replication is
  // asynchronous, so a promoted replica may lack a room's last events; a room whose primary
  // changed gets a new epoch, which turns a possible silent gap into an explicit reset.
  private readonly roomPrimary = new Map<string, string>();
  private readonly roomReady = new Map<string, Promise<void>>();
  // The epoch each room had at this node's last publish to it: sent with the next publish, whose
  // reply is then the offset alone. Bounded; a room missing here only costs a longer reply.
  private readonly publishedEpochs = new Map<string, string>();
  private readonly fallback: LocalFallback;
  private closed = false;
  private readonly quiet = { publisher: false, subscriber: false };

  constructor(options: RedisBusOptions) {
    this.nodeId = options.nodeId ?? `node-${crypto.randomUUID().slice(0, 8)}`;
    this.replayLimit = options.replayLimit ?? 1000;
    this.roomTtlMs = options.roomTtlMs ?? 24 * 60 * 60 * 1000;
    this.prefix = options.keyPrefix ?? "rapt:bus:";
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? logBusError;
    assertKeyPrefix(this.prefix);
    if (!Number.isSafeInteger(this.replayLimit) || this.replayLimit < 1) throw new RangeError("replayLimit must be >= 1");
    this.listeners = new LocalListeners(this.onError);

    if (options.publisher && options.subscriber) {
      if (options.publisher === options.subscriber) throw new Error("publisher and subscriber must be different connections");
      this.pub = options.publisher;
      this.sub = options.subscriber;
      this.owned = false;
    } else if (options.cluster) {
      this.pub = connectRedisCluster(options.cluster, "commands", { connectionName: `rapt-bus-pub-${this.nodeId}` });
      this.sub = connectRedisCluster(options.cluster, "subscriber", { connectionName: `rapt-bus-sub-${this.nodeId}` });
      this.owned = true;
    } else if (options.url) {
      // Not on a Cluster: ioredis routes an auto-pipelined command by its slot's node list and
      // throws while a slot has none (mid-failover), where a plain command fails cleanly.
      this.pub = connectRedis(options.url, "commands", { connectionName: `rapt-bus-pub-${this.nodeId}`, autoPipelining: true });
      this.sub = connectRedis(options.url, "subscriber", { connectionName: `rapt-bus-sub-${this.nodeId}` });
      this.owned = true;
    } else {
      throw new Error("createRedisBus needs a url, a cluster, or both publisher and subscriber connections");
    }
    this.sharded = this.sub instanceof Cluster;
    this.scripts = roomScripts(this.sharded);
    this.fallback = new LocalFallback(this.nodeId, this.replayLimit, options.recoveryIntervalMs ?? 500, {
      connected: () => this.pub.status === "ready",
      ping: () => this.pub.ping(),
      probe: (room) => this.pub.exists(roomKeys(this.prefix, room).meta),
      rotate: (room) => {
        const keys = roomKeys(this.prefix, room);
        return runScript(this.pub, this.scripts.rotate, [keys.meta, keys.log], [crypto.randomUUID(), this.roomTtlMs, keys.channel]);
      },
      resync: (room) => this.listeners.dispatch(room, { kind: "resync", room, reason: "recovered" }),
      listenedRooms: () => this.listeners.rooms(),
      isUnavailable,
      onError: this.onError,
    });
    this.pub.on("error", this.onPublisherError);
    this.pub.on("ready", this.onPublisherReady);
    this.sub.on("error", this.onSubscriberError);
    this.sub.on("ready", this.onSubscriberReady);
    this.sub.on(this.sharded ? "smessageBuffer" : "messageBuffer", this.onMessage);
    // A shard's subscriber connection is replaced after a failover or a slot move; ioredis says
    // so once the new set of shard subscribers is connected.
    if (this.sharded) this.sub.on("subscribersReady", this.onSubscriberReady);
    if (this.sub.status === "ready") void this.resubscribeAll();
  }

  get degraded(): boolean {
    return this.fallback.active;
  }

  async ready(timeoutMs = 5000): Promise<void> {
    await Promise.all([whenReady(this.pub, timeoutMs), whenReady(this.sub, timeoutMs)]);
  }

  async publish<P>(room: string, input: BusEventInput<P>): Promise<BusEvent<P>> {
    this.assertOpen();
    assertRoom(room);
    const { json, body } = encodeBody(input, this.now(), this.maxPayloadBytes);
    if (this.canUseRedis(room)) {
      const keys = roomKeys(this.prefix, room);
      try {
        const known = this.publishedEpochs.get(room);
        const reply = await runScript(this.pub, this.scripts.publish, [keys.meta, keys.log], [crypto.randomUUID(), json, this.replayLimit, this.roomTtlMs, known ?? ""]);
        const [epoch, offset] = parsePublishReply(reply, known);
        if (epoch !== known) this.rememberEpoch(room, epoch);
        const event: BusEvent = rememberWireBody({ room, epoch, offset, ...body }, json);
        // Our own listeners normally hear the event back through the subscriber connection; while
        // that connection is down, hand it over directly (the later resync covers the rest).
        if (this.sub.status !== "ready") this.listeners.dispatch(room, { kind: "event", event });
        return event as BusEvent<P>;
      } catch (error) {
        if (!isUnavailable(error)) throw error;
        this.fallBack(room, error);
      }
    }
    const event = rememberWireBody(this.fallback.log(room).append(room, body.type, body.payload, body.at), json);
    this.fallback.published(room);
    this.listeners.dispatch(room, { kind: "event", event });
    return event as BusEvent<P>;
  }

  subscribe(room: string, listener: BusListener): Promise<Unsubscribe> {
    return this.listen(room, listener);
  }

  subscribeFrames(room: string, listener: FrameListener): Promise<Unsubscribe> {
    return this.listen(room, listener);
  }

  private async listen(room: string, listener: BusListener | FrameListener): Promise<Unsubscribe> {
    this.assertOpen();
    assertRoom(room);
    const { channel } = roomKeys(this.prefix, room);
    if (this.listeners.add(room, listener)) {
      this.channelRooms.set(channel, room);
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
      this.channelRooms.delete(channel);
      this.reader.forget(room);
      this.roomPrimary.delete(room);
      this.roomReady.delete(room);
      if (this.sub.status === "ready") {
        this.unsubscribeChannels([channel]).catch((error: unknown) => this.onError(error, `unsubscribe ${room} failed`));
      }
    };
  }

  async replay(room: string, afterOffset: number, epoch?: string | null): Promise<ReplayResult> {
    this.assertOpen();
    assertRoom(room);
    assertOffset(afterOffset);
    if (this.canUseRedis(room)) {
      const keys = roomKeys(this.prefix, room);
      try {
        // MULTI makes head and tail one snapshot, so a concurrent publish or trim cannot make
        // an exact-looking replay out of inconsistent halves.
        const results = await this.pub
          .multi()
          .hmget(keys.meta, "epoch", "seq")
          .xrange(keys.log, `${afterOffset + 1}-0`, "+")
          .exec();
        const head = parseHead(results?.[0]);
        const tail = parseEntries(room, head.epoch ?? "", results?.[1]);
        return resolveReplay(head, afterOffset, epoch, tail);
      } catch (error) {
        if (!isUnavailable(error)) throw error;
        this.fallBack(room, error);
      }
    }
    return this.fallback.log(room).replay(afterOffset, epoch);
  }

  async head(room: string): Promise<RoomHead> {
    this.assertOpen();
    assertRoom(room);
    if (this.canUseRedis(room)) {
      try {
        const [epoch, seq] = await this.pub.hmget(roomKeys(this.prefix, room).meta, "epoch", "seq");
        return { epoch: epoch ?? null, offset: epoch ? Number(seq ?? 0) : 0 };
      } catch (error) {
        if (!isUnavailable(error)) throw error;
        this.fallBack(room, error);
      }
    }
    return this.fallback.log(room).head();
  }

  async latestOffset(room: string): Promise<number> {
    return (await this.head(room)).offset;
  }

  subscribedRooms(): string[] {
    return [...this.channelRooms.values()];
  }

  async ping(): Promise<boolean> {
    if (this.closed || this.pub.status !== "ready" || this.sub.status !== "ready") return false;
    try {
      return (await this.pub.ping()) === "PONG";
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fallback.close();
    const channels = [...this.channelRooms.keys()];
    this.listeners.clear();
    this.channelRooms.clear();
    this.pub.off("ready", this.onPublisherReady);
    this.sub.off("ready", this.onSubscriberReady);
    this.sub.off(this.sharded ? "smessageBuffer" : "messageBuffer", this.onMessage);
    this.sub.off("subscribersReady", this.onSubscriberReady);
    if (this.owned) {
      // Our 'error' handlers stay attached (and silent once closed): a late socket error on a
      // closing connection must not become an unhandled 'error' event.
      await Promise.all([closeQuietly(this.pub), closeQuietly(this.sub)]);
      return;
    }
    if (channels.length > 0 && this.sub.status === "ready") {
      await this.unsubscribeChannels(channels).catch(() => undefined);
    }
    this.pub.off("error", this.onPublisherError);
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

  private rememberEpoch(room: string, epoch: string): void {
    this.publishedEpochs.delete(room);
    if (this.publishedEpochs.size >= PUBLISHED_EPOCHS_KEPT) {
      const oldest = this.publishedEpochs.keys().next().value;
      if (oldest !== undefined) this.publishedEpochs.delete(oldest);
    }
    this.publishedEpochs.set(room, epoch);
  }

  private assertOpen(): void {
    if (this.closed) throw new AppError("SERVICE_UNAVAILABLE", "Bus node is closed");
  }

  private canUseRedis(room: string): boolean {
    if (this.pub.status !== "ready") {
      this.fallback.enterAll(new Error(`publisher connection is ${this.pub.status}`));
      return false;
    }
    return !this.fallback.covers(room);
  }

  /** One Redis: the whole node delivers locally. A cluster: only this room, whose shard failed. */
  private fallBack(room: string, cause: unknown): void {
    if (this.sharded) this.fallback.enterRoom(room, cause);
    else this.fallback.enterAll(cause);
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
    for (const [channel, room] of this.channelRooms) {
      const before = this.roomPrimary.get(room);
      const now = this.primaryOf(channel);
      if (!now || now === before) continue;
      this.roomPrimary.set(room, now);
      if (!before) continue;
      const keys = roomKeys(this.prefix, room);
      try {
        await runScript(this.pub, this.scripts.rotate, [keys.meta, keys.log], [crypto.randomUUID(), this.roomTtlMs, keys.channel]);
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

  private readonly onPublisherReady = (): void => {
    this.quiet.publisher = false;
    if (this.fallback.active) this.fallback.recover();
  };

  private readonly onSubscriberReady = (): void => {
    this.quiet.subscriber = false;
    if (!this.closed) void this.resubscribeAll();
  };

  // ioredis emits 'error' on every failed reconnect attempt; an unhandled 'error' would crash the
  // process, an unthrottled log would flood it. Log once per outage per connection.
  private readonly onPublisherError = (error: unknown): void => {
    if (this.quiet.publisher || this.closed) return;
    this.quiet.publisher = true;
    this.onError(error, "redis publisher connection error");
  };

  private readonly onSubscriberError = (error: unknown): void => {
    if (this.quiet.subscriber || this.closed) return;
    this.quiet.subscriber = true;
    this.onError(error, "redis subscriber connection error");
  };

  // The hot path of every watching instance, once per event and room: ioredis hands the message
  // over as bytes (the `…Buffer` events: no string of the whole message is made), the position is
  // read from its header and the frame goes to frame listeners as it arrived; JSON is parsed only
  // for signal listeners.
  private readonly onMessage = (channel: Buffer, message: Buffer): void => {
    const room = this.channelRooms.get(channel.toString());
    if (room === undefined) return;
    const reader = this.reader;
    try {
      if (reader.read(room, message) === "resync") {
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
