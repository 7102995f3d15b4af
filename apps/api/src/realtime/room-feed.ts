import { type Bus, eventFrame, type FrameFollowListener, followRoomFrames, type ResetMessage, type RoomFollower, type RoomHead } from "@raptscallions/bus";
import { AppError } from "@raptscallions/core";
import type { Logger } from "../lib/logger.ts";
import { FrameTail } from "./frame-tail.ts";
import type { RealtimeSocket, TopicPublisher } from "./socket.ts";

/** A local subscriber of rooms (a connection), as the room feeds see it. */
export interface FeedMember {
  readonly socket: RealtimeSocket;
  readonly isClosed: boolean;
  /** Sends one frame to this member alone, under its own send-queue bound (catch-up frames). */
  sendRaw(data: string): void;
  /** Closes the member as a slow consumer when its queue passed the bound. */
  checkBackpressure(): void;
}

/** The `event` frame of a bus event, as sent on the wire (see `encodeEventFrame`). */
export { eventFrame };

function resetFrame(room: string, m: { epoch: string | null; latestOffset: number; reason: string }): string {
  return JSON.stringify({ type: "reset", room, epoch: m.epoch, latestOffset: m.latestOffset, reason: m.reason });
}

export interface RoomFeedOptions {
  /** Recent frames kept per room, so a joiner a few events behind needs no replay. Default 64. */
  tailEvents?: number;
  /** …and at most this many characters of them. Default 64 Ki. */
  tailChars?: number;
  /** How long a joiner ahead of the feed waits for it before looking again. Default 500 ms. */
  waitMs?: number;
  /**
   * How long a feed outlives its last local watcher. Default 0 (it stops with them). Watchers come
   * and go (a tab reloads, a client reconnects, a teacher flips between sessions); a feed kept for
   * a few seconds spares the bus subscription, the catch-up read and the unsubscription each time,
   * and a joiner within the tail needs no replay.
   */
  lingerMs?: number;
}

// Replays one join may take, and how long it may wait for the feed, before giving up (the client
// subscribes again). Each replay brings the joiner to the head of the moment, so more than a few
// means events arrive faster than one replay takes.
const MAX_JOIN_REPLAYS = 10;
const MAX_JOIN_WAIT_MS = 10_000;

/**
 * One room on this instance: ONE bus subscription, however many local sockets watch the room.
 * Each event's frame is built once and published to the room's topic, which the runtime fans out
 * to the subscribed sockets in native code. Keeps the last frames (the tail) so a joiner can be
 * lined up with the topic without a replay.
 */
class RoomFeed implements FrameFollowListener {
  readonly members = new Set<FeedMember>();
  /** Pending joins plus members: the feed stops when it drops to 0. */
  refs = 0;
  stopped = false;
  /** Set while the feed has no watcher left and waits `lingerMs` before stopping. */
  lingering: ReturnType<typeof setTimeout> | null = null;
  readonly ready: Promise<void>;
  private follower: RoomFollower | null = null;
  // The last frames of the current epoch (see FrameTail).
  private readonly tail: FrameTail;
  private notify: (() => void) | null = null;
  private change: Promise<void> | null = null;

  constructor(
    readonly room: string,
    bus: Bus,
    private readonly publisher: () => TopicPublisher,
    options: Required<RoomFeedOptions>,
    logger: Logger,
  ) {
    this.tail = new FrameTail(options.tailEvents, options.tailChars);
    this.ready = followRoomFrames(bus, room, {}, this, {
      onError: (err, where) => logger.warn("room feed error", { room, where, err }),
    }).then((follower) => {
      if (this.stopped) follower.close();
      else this.follower = follower;
      if (this.tail.count === 0) this.tail.clear(follower.position().offset + 1);
    });
  }

  /** The position of the last frame published to the topic. */
  position(): RoomHead {
    return this.follower?.position() ?? { epoch: null, offset: -1 };
  }

  stop() {
    if (this.lingering) clearTimeout(this.lingering);
    this.lingering = null;
    this.stopped = true;
    this.follower?.close();
    this.follower = null;
    this.tail.clear(0);
    this.wake();
  }

  /**
   * The follower's listener (`FrameFollowListener`), called once per event and room on this
   * instance: the frame the bus carried goes into the tail and to the topic as it is (one native
   * publish for every local watcher).
   */
  frame(offset: number, frame: string) {
    this.tail.push(offset, frame);
    this.broadcast(frame);
    if (this.notify) this.wake();
  }

  /** The follower's listener for a reset (`FrameFollowListener`). */
  reset(m: ResetMessage) {
    this.tail.clear(m.latestOffset + 1);
    this.broadcast(resetFrame(this.room, m));
    this.wake();
  }

  private broadcast(frame: string) {
    if (this.members.size === 0) return;
    // -1: queued for some socket under backpressure; 0: dropped for some socket (Bun closes
    // those past the hard limit). Only then are the members' queues looked at.
    if (this.publisher().publish(this.room, frame) > 0) return;
    for (const member of this.members) member.checkBackpressure();
  }

  /**
   * Lines a member at `pos` up with the topic, synchronously: with the frames it misses from the
   * tail, then the topic, so no event published in between can fall between the two.
   * `ahead`: the member is past what this feed has published yet; `replay`: the tail does not
   * reach back to it (or it holds another epoch).
   */
  place(member: FeedMember, pos: RoomHead): "joined" | "ahead" | "replay" {
    const head = this.position();
    if (head.offset < 0) return "replay";
    const sameEpoch = pos.epoch === head.epoch || (pos.epoch === null && pos.offset === 0);
    if (!sameEpoch) return head.epoch === null && head.offset === 0 ? "ahead" : "replay";
    if (pos.offset > head.offset) return "ahead";
    if (pos.offset < head.offset) {
      if (!this.tail.reaches(pos.offset, head.offset)) return "replay";
      this.tail.sendAfter(pos.offset, (frame) => member.sendRaw(frame));
    }
    if (member.isClosed) return "joined";
    member.socket.subscribe(this.room);
    this.members.add(member);
    return "joined";
  }

  /** Resolves on the feed's next frame (or reset), or after `ms`. */
  changed(ms: number): Promise<void> {
    this.change ??= new Promise<void>((resolve) => {
      this.notify = resolve;
    });
    const change = this.change;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      void change.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake() {
    const notify = this.notify;
    if (!notify) return;
    this.notify = null;
    this.change = null;
    notify();
  }
}

/**
 * This instance's rooms. A connection joins a room at a position (its last offset, a snapshot's,
 * or the live head): it is caught up from the feed's tail or a replay, then subscribed to the
 * room's topic in the same synchronous step, so delivery stays exact (no gap, no duplicate, or an
 * explicit reset) while every later frame costs one native publish for all local watchers.
 */
export class RoomFeeds {
  private readonly feeds = new Map<string, RoomFeed>();
  private publisher: TopicPublisher | null = null;
  private readonly options: Required<RoomFeedOptions>;

  constructor(
    private readonly bus: Bus,
    private readonly logger: Logger,
    options: RoomFeedOptions = {},
  ) {
    this.options = { tailEvents: 64, tailChars: 64 * 1024, waitMs: 500, lingerMs: 0, ...options };
  }

  /** Where frames are published: the server, once it exists (Bun's `server.publish`). */
  setPublisher(publisher: TopicPublisher) {
    this.publisher = publisher;
  }

  /** Rooms with a live feed on this instance (lingering ones included). */
  rooms(): string[] {
    return [...this.feeds.keys()];
  }

  /** Rooms whose feed has no watcher left and is waiting out `lingerMs`. */
  lingering(): string[] {
    return [...this.feeds.values()].filter((f) => f.lingering !== null).map((f) => f.room);
  }

  private readonly publish = (): TopicPublisher => {
    if (!this.publisher) throw new Error("no topic publisher attached to the realtime runtime");
    return this.publisher;
  };

  private acquire(room: string): RoomFeed {
    let feed = this.feeds.get(room);
    if (!feed) {
      feed = new RoomFeed(room, this.bus, this.publish, this.options, this.logger);
      this.feeds.set(room, feed);
    }
    feed.refs += 1;
    if (feed.lingering) {
      clearTimeout(feed.lingering);
      feed.lingering = null;
    }
    return feed;
  }

  private release(feed: RoomFeed) {
    feed.refs -= 1;
    if (feed.refs > 0 || feed.stopped) return;
    if (this.options.lingerMs <= 0) {
      this.end(feed);
      return;
    }
    // The follower keeps the feed's position and tail exact meanwhile (it sees every event,
    // gap or reset as before), so a joiner within the grace period is placed as if it never left.
    feed.lingering = setTimeout(() => {
      feed.lingering = null;
      if (feed.refs === 0) this.end(feed);
    }, this.options.lingerMs);
    feed.lingering.unref?.();
  }

  private end(feed: RoomFeed) {
    feed.stop();
    if (this.feeds.get(feed.room) === feed) this.feeds.delete(feed.room);
  }

  /**
   * Subscribes `member` to `room` from `from` (null: the live head). Sends what it misses — tail
   * frames, replayed events, or a `reset` — before anything live. Resolves with the position the
   * live tail continues from (for a head join) or `from`; null when the member closed meanwhile.
   */
  async join(member: FeedMember, room: string, from: RoomHead | null): Promise<RoomHead | null> {
    if (!this.publisher) throw new Error("no topic publisher attached to the realtime runtime");
    const feed = this.acquire(room);
    let joined = false;
    try {
      try {
        await feed.ready;
      } catch (err) {
        // A feed that never came up is dropped so the next join starts a fresh one.
        if (this.feeds.get(room) === feed) this.feeds.delete(room);
        feed.stopped = true;
        throw err;
      }
      if (from === null) {
        const head = feed.position();
        if (member.isClosed || feed.stopped || feed.place(member, head) !== "joined") return null;
        joined = true;
        return head;
      }
      let pos = from;
      // A position the bus has vouched for (from a replay) may be waited for; one a client sent
      // is checked by a replay first, so a made-up offset ends in a reset, not a wait.
      let confirmed = false;
      let replays = 0;
      const waitUntil = Date.now() + MAX_JOIN_WAIT_MS;
      for (;;) {
        if (member.isClosed || feed.stopped) return null;
        const placed = feed.place(member, pos);
        if (placed === "joined") {
          joined = !member.isClosed;
          return joined ? from : null;
        }
        if (placed === "ahead" && confirmed && Date.now() < waitUntil) {
          await feed.changed(this.options.waitMs);
          continue;
        }
        if (++replays > MAX_JOIN_REPLAYS || Date.now() >= waitUntil) break;
        const result = await this.bus.replay(room, pos.offset, pos.epoch);
        if (member.isClosed) return null;
        if (result.kind === "reset") {
          member.sendRaw(resetFrame(room, result));
          pos = { epoch: result.epoch, offset: result.latestOffset };
        } else {
          for (const event of result.events) member.sendRaw(eventFrame(event));
          pos = { epoch: result.epoch, offset: result.events.at(-1)?.offset ?? pos.offset };
        }
        confirmed = true;
      }
      throw new AppError("SERVICE_UNAVAILABLE", "Could not catch up with the room; subscribe again", { retryAfterSeconds: 1 });
    } finally {
      if (!joined) this.release(feed);
    }
  }

  /** Unsubscribes `member` from `room`'s topic; the feed stops with its last member (after `lingerMs`). */
  leave(member: FeedMember, room: string) {
    const feed = this.feeds.get(room);
    if (!feed?.members.delete(member)) return;
    try {
      member.socket.unsubscribe(room);
    } catch {
      // the socket is already closed: Bun dropped its topics with it
    }
    this.release(feed);
  }

  /** Stops every feed (shutdown). */
  close() {
    for (const feed of this.feeds.values()) feed.stop();
    this.feeds.clear();
  }
}
