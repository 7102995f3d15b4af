import type { FeedMember } from "../../src/realtime/room-feed.ts";
import type { RealtimeSocket, TopicPublisher } from "../../src/realtime/socket.ts";

type Frame = { type: string; offset?: number; epoch?: string | null; latestOffset?: number; [k: string]: unknown };

/** Topics the way Bun's server keeps them: a publish reaches the sockets subscribed at that moment. */
export class FakeTopics implements TopicPublisher {
  readonly topics = new Map<string, Set<FakeSocket>>();
  publishes = 0;

  publish(topic: string, data: string): number {
    this.publishes += 1;
    const sockets = this.topics.get(topic);
    if (!sockets || sockets.size === 0) return 0;
    let result = data.length;
    for (const socket of [...sockets]) {
      const sent = socket.send(data);
      if (sent === 0) result = 0;
      else if (sent < 0 && result !== 0) result = -1;
    }
    return result;
  }
}

/** A socket that records what it is sent; `buffered` plays a client that stopped reading. */
export class FakeSocket implements RealtimeSocket {
  readonly frames: Frame[] = [];
  readyState = 1;
  buffered = 0;
  closedWith: { code?: number; reason?: string } | null = null;

  constructor(private readonly topics: FakeTopics) {}

  send(data: string): number {
    if (this.readyState !== 1) return 0;
    this.frames.push(JSON.parse(data) as Frame);
    return this.buffered > 0 ? -1 : data.length;
  }

  close(code?: number, reason?: string) {
    if (this.readyState !== 1) return;
    this.readyState = 3;
    this.closedWith = { code, reason };
    for (const sockets of this.topics.topics.values()) sockets.delete(this);
  }

  getBufferedAmount() {
    return this.buffered;
  }

  subscribe(topic: string) {
    if (this.readyState !== 1) return;
    const sockets = this.topics.topics.get(topic) ?? new Set();
    sockets.add(this);
    this.topics.topics.set(topic, sockets);
  }

  unsubscribe(topic: string) {
    this.topics.topics.get(topic)?.delete(this);
  }

  /** Offsets of the event frames of `room`, in arrival order. */
  offsets(room: string): number[] {
    return this.frames.filter((f) => f.type === "event" && f.room === room).map((f) => f.offset ?? -1);
  }
}

/** A room-feed member on a fake socket, closing itself past `maxBuffered` like a Connection. */
export function fakeMember(topics: FakeTopics, maxBuffered = 1024): FeedMember & { socket: FakeSocket } {
  const socket = new FakeSocket(topics);
  return {
    socket,
    get isClosed() {
      return socket.readyState !== 1;
    },
    sendRaw: (data) => {
      socket.send(data);
    },
    checkBackpressure: () => {
      if (socket.getBufferedAmount() > maxBuffered) socket.close(4008, "slow consumer");
    },
  };
}
