import { AppError } from "@raptscallions/core";
import { Cluster } from "ioredis";
import { DEFAULT_MAX_PAYLOAD_BYTES, decodeBody, encodeBody, publishedEvent, rememberWireBody } from "./event-body.ts";
import { LocalFallback } from "./local-fallback.ts";
import { LocalListeners, logBusError } from "./local-listeners.ts";
import { RedisPublisher } from "./redis-publisher.ts";
import { RedisSubscriber } from "./redis-subscriber.ts";
import { closeQuietly, connectRedis, connectRedisCluster, isUnavailable, type RedisClient, type RedisClusterConfig, whenReady } from "./redis-support.ts";
import { roomScripts } from "./redis-wire.ts";
import { assertKeyPrefix, assertOffset, assertRoom } from "./room.ts";
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
 * room; redis-publisher.ts); the node subscribes to a room's channel on its dedicated subscriber
 * connection only while it has local listeners (redis-subscriber.ts). If Redis is unreachable the
 * node keeps delivering to its own listeners under a node-local epoch and, once Redis answers
 * again, restarts the numbering of every room it published to locally and asks all listeners to
 * resync (see README). On a cluster only the rooms of an unreachable shard fall back
 * (local-fallback.ts).
 */
export function createRedisBus(options: RedisBusOptions): RedisBus {
  return new RedisBusNode(options);
}

class RedisBusNode implements RedisBus {
  readonly nodeId: string;
  private readonly pub: RedisClient;
  private readonly sub: RedisClient;
  private readonly owned: boolean;
  // Redis Cluster: a room's shard can fail alone, so only its rooms fall back.
  private readonly sharded: boolean;
  private readonly maxPayloadBytes: number;
  private readonly now: () => number;
  private readonly onError: BusErrorHandler;
  private readonly listeners: LocalListeners;
  private readonly publisher: RedisPublisher;
  private readonly subscriber: RedisSubscriber;
  private readonly fallback: LocalFallback;
  private closed = false;
  private quietPublisher = false;

  constructor(options: RedisBusOptions) {
    this.nodeId = options.nodeId ?? `node-${crypto.randomUUID().slice(0, 8)}`;
    const replayLimit = options.replayLimit ?? 1000;
    const prefix = options.keyPrefix ?? "rapt:bus:";
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? logBusError;
    assertKeyPrefix(prefix);
    if (!Number.isSafeInteger(replayLimit) || replayLimit < 1) throw new RangeError("replayLimit must be >= 1");
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
      // throws while a slot has none (mid-failover), where a plain command fails cleanly. The
      // publish script is left out: the publisher already sends one call per loop turn, at the
      // turn's end, and auto-pipelining it would hold that call back one more turn.
      this.pub = connectRedis(options.url, "commands", {
        connectionName: `rapt-bus-pub-${this.nodeId}`,
        autoPipelining: true,
        autoPipeliningIgnoredCommands: ["evalsha", "eval"],
      });
      this.sub = connectRedis(options.url, "subscriber", { connectionName: `rapt-bus-sub-${this.nodeId}` });
      this.owned = true;
    } else {
      throw new Error("createRedisBus needs a url, a cluster, or both publisher and subscriber connections");
    }
    this.sharded = this.sub instanceof Cluster;
    const scripts = roomScripts(this.sharded);
    const roomTtlMs = options.roomTtlMs ?? 24 * 60 * 60 * 1000;
    this.publisher = new RedisPublisher({ pub: this.pub, scripts, oneRoomPerCall: this.pub instanceof Cluster, prefix, replayLimit, roomTtlMs });
    this.fallback = new LocalFallback(this.nodeId, replayLimit, options.recoveryIntervalMs ?? 500, {
      connected: () => this.pub.status === "ready",
      ping: () => this.pub.ping(),
      probe: (room) => this.publisher.probe(room),
      rotate: (room) => this.publisher.rotate(room),
      resync: (room) => this.listeners.dispatch(room, { kind: "resync", room, reason: "recovered" }),
      listenedRooms: () => this.listeners.rooms(),
      isUnavailable,
      onError: this.onError,
    });
    this.pub.on("error", this.onPublisherError);
    this.pub.on("ready", this.onPublisherReady);
    this.subscriber = new RedisSubscriber({ sub: this.sub, prefix, listeners: this.listeners, rotate: (room) => this.publisher.rotate(room), onError: this.onError });
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
    const encoded = encodeBody(input, this.now(), this.maxPayloadBytes);
    const json = encoded.json;
    if (this.canUseRedis(room)) {
      try {
        const [epoch, offset] = await this.publisher.publish(room, json);
        const event = publishedEvent(room, epoch, offset, encoded);
        // Our own listeners normally hear the event back through the subscriber connection; while
        // that connection is down, hand it over directly (the later resync covers the rest).
        if (!this.subscriber.connected) this.listeners.dispatch(room, { kind: "event", event });
        return event as BusEvent<P>;
      } catch (error) {
        if (!isUnavailable(error)) throw error;
        this.fallBack(room, error);
      }
    }
    const body = decodeBody(json);
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
    return this.subscriber.listen(room, listener);
  }

  async replay(room: string, afterOffset: number, epoch?: string | null): Promise<ReplayResult> {
    this.assertOpen();
    assertRoom(room);
    assertOffset(afterOffset);
    if (this.canUseRedis(room)) {
      try {
        return await this.publisher.replay(room, afterOffset, epoch);
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
        return await this.publisher.head(room);
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
    return this.subscriber.subscribedRooms();
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
    const unsubscribing = this.subscriber.close(!this.owned);
    this.listeners.clear();
    this.pub.off("ready", this.onPublisherReady);
    if (this.owned) {
      // Our 'error' handlers stay attached (and silent once closed): a late socket error on a
      // closing connection must not become an unhandled 'error' event.
      await Promise.all([closeQuietly(this.pub), closeQuietly(this.sub)]);
      return;
    }
    await unsubscribing;
    this.pub.off("error", this.onPublisherError);
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

  private readonly onPublisherReady = (): void => {
    this.quietPublisher = false;
    if (this.fallback.active) this.fallback.recover();
  };

  // ioredis emits 'error' on every failed reconnect attempt; an unhandled 'error' would crash the
  // process, an unthrottled log would flood it. Log once per outage.
  private readonly onPublisherError = (error: unknown): void => {
    if (this.quietPublisher || this.closed) return;
    this.quietPublisher = true;
    this.onError(error, "redis publisher connection error");
  };
}
