// The commands side of a Redis bus node: publishing (the publish script, several rooms per call),
// replay and head reads, and renumbering a room. The subscriber side is redis-subscriber.ts; the
// node that ties both to the local fallback is redis-bus.ts.
import { type RedisClient, runScript } from "./redis-support.ts";
import { parseEntries, parseHead, parsePublishReply, type RoomScripts } from "./redis-wire.ts";
import { roomKeys } from "./room.ts";
import { resolveReplay } from "./room-log.ts";
import type { ReplayResult, RoomHead } from "./types.ts";

/** Rooms whose epoch a node remembers for its publishes (a few hundred bytes each). */
const PUBLISHED_EPOCHS_KEPT = 10_000;

/** Publishes one script call carries at most (keys and arguments grow with each). */
const MAX_ROOMS_PER_CALL = 256;

export interface RedisPublisherOptions {
  /** The commands connection. */
  pub: RedisClient;
  scripts: RoomScripts;
  /** One room per script call (a Cluster: a script's keys must share a slot). */
  oneRoomPerCall: boolean;
  prefix: string;
  replayLimit: number;
  roomTtlMs: number;
}

interface Queued {
  room: string;
  meta: string;
  log: string;
  body: string;
  known: string | undefined;
  resolve: (position: [string, number]) => void;
  reject: (error: unknown) => void;
}

/**
 * Numbers, stores and fans out events through Redis. On a single Redis the publishes a node issues
 * in one turn of the event loop leave as ONE script call (at the turn's end, as ioredis'
 * auto-pipelining would send them, but one command instead of one per event: one command object,
 * one reply to read, one script run in Redis), and Redis hands every subscriber their messages in
 * one write. Each publish still resolves on its own with its room's position; a room's events keep
 * their order, as a node's calls run one after another on its connection.
 */
export class RedisPublisher {
  private readonly pub: RedisClient;
  private readonly scripts: RoomScripts;
  private readonly oneRoomPerCall: boolean;
  private readonly prefix: string;
  private readonly replayLimit: number;
  private readonly roomTtlMs: number;
  private queue: Queued[] = [];
  // The epoch each room had at this node's last publish to it: sent with the next publish, whose
  // reply is then the offset alone. Bounded; a room missing here only costs a longer reply.
  private readonly publishedEpochs = new Map<string, string>();

  constructor(options: RedisPublisherOptions) {
    this.pub = options.pub;
    this.scripts = options.scripts;
    this.oneRoomPerCall = options.oneRoomPerCall;
    this.prefix = options.prefix;
    this.replayLimit = options.replayLimit;
    this.roomTtlMs = options.roomTtlMs;
  }

  /** Publishes one event body (`encodeBody`'s JSON) to a room; resolves with its `[epoch, offset]`. */
  publish(room: string, body: string): Promise<[string, number]> {
    const keys = roomKeys(this.prefix, room);
    return new Promise<[string, number]>((resolve, reject) => {
      const queued: Queued = { room, meta: keys.meta, log: keys.log, body, known: this.publishedEpochs.get(room), resolve, reject };
      if (this.oneRoomPerCall) {
        void this.send([queued]);
        return;
      }
      if (this.queue.length === 0) setImmediate(this.flush);
      this.queue.push(queued);
    });
  }

  private readonly flush = (): void => {
    const queue = this.queue;
    this.queue = [];
    for (let from = 0; from < queue.length; from += MAX_ROOMS_PER_CALL) void this.send(queue.slice(from, from + MAX_ROOMS_PER_CALL));
  };

  private async send(batch: Queued[]): Promise<void> {
    const keys: string[] = [];
    const args: Array<string | number> = [this.replayLimit, this.roomTtlMs];
    for (const q of batch) {
      keys.push(q.meta, q.log);
      args.push(crypto.randomUUID(), q.body, q.known ?? "");
    }
    let replies: unknown;
    try {
      replies = await runScript(this.pub, this.scripts.publish, keys, args);
      if (!Array.isArray(replies) || replies.length !== batch.length) throw new Error("unexpected reply from publish script");
    } catch (error) {
      for (const q of batch) q.reject(error);
      return;
    }
    for (const [i, q] of batch.entries()) {
      let position: [string, number];
      try {
        position = parsePublishReply(replies[i], q.known);
      } catch (error) {
        q.reject(error);
        continue;
      }
      if (position[0] !== q.known) this.rememberEpoch(q.room, position[0]);
      q.resolve(position);
    }
  }

  /** Exactly the events after `afterOffset`, or a reset, from one consistent snapshot. */
  async replay(room: string, afterOffset: number, epoch: string | null | undefined): Promise<ReplayResult> {
    const keys = roomKeys(this.prefix, room);
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
  }

  async head(room: string): Promise<RoomHead> {
    const [epoch, seq] = await this.pub.hmget(roomKeys(this.prefix, room).meta, "epoch", "seq");
    return { epoch: epoch ?? null, offset: epoch ? Number(seq ?? 0) : 0 };
  }

  /** Starts a new numbering for a room and tells every subscribed node to resync. */
  rotate(room: string): Promise<unknown> {
    const keys = roomKeys(this.prefix, room);
    return runScript(this.pub, this.scripts.rotate, [keys.meta, keys.log], [crypto.randomUUID(), this.roomTtlMs, keys.channel]);
  }

  /** Succeeds once the room's Redis (its shard, on a Cluster) answers. */
  probe(room: string): Promise<unknown> {
    return this.pub.exists(roomKeys(this.prefix, room).meta);
  }

  private rememberEpoch(room: string, epoch: string): void {
    this.publishedEpochs.delete(room);
    if (this.publishedEpochs.size >= PUBLISHED_EPOCHS_KEPT) {
      const oldest = this.publishedEpochs.keys().next().value;
      if (oldest !== undefined) this.publishedEpochs.delete(oldest);
    }
    this.publishedEpochs.set(room, epoch);
  }
}
