import { AppError } from "@raptscallions/core";
import { DEFAULT_MAX_PAYLOAD_BYTES, decodeBody, encodeBody, rememberWireBody } from "./event-body.ts";
import { LocalListeners, logBusError } from "./local-listeners.ts";
import { assertOffset, assertRoom } from "./room.ts";
import { RoomLog, resolveReplay } from "./room-log.ts";
import type { Bus, BusErrorHandler, BusEvent, BusEventInput, BusListener, BusSignal, FrameListener, ReplayResult, RoomHead, Unsubscribe } from "./types.ts";

export interface MemoryBusOptions {
  /** Events kept per room for replay (at least this many). Default 1000. */
  replayLimit?: number;
  /** A room with no publish for this long is forgotten (its next event starts a new epoch). Default 24 h. */
  roomTtlMs?: number;
  maxPayloadBytes?: number;
  now?: () => number;
  onError?: BusErrorHandler;
}

/**
 * The in-process stand-in for Redis: one numbering and replay buffer per room, shared by every
 * node created from it. Several apps in one process each take a `node()` to act as several
 * instances; each node keeps its own listener ref-counts, like a Redis subscriber connection.
 */
export interface MemoryBusHub {
  node(options?: { nodeId?: string }): Bus;
}

interface MemoryNodeSink {
  deliver(room: string, signal: BusSignal): void;
}

/** Creates the embedded bus used when `REDIS_URL` is not set, and by tests. */
export function createMemoryBus(options: MemoryBusOptions = {}): MemoryBusHub {
  const replayLimit = options.replayLimit ?? 1000;
  const roomTtlMs = options.roomTtlMs ?? 24 * 60 * 60 * 1000;
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const now = options.now ?? Date.now;
  const onError = options.onError ?? logBusError;
  if (!Number.isSafeInteger(replayLimit) || replayLimit < 1) throw new RangeError("replayLimit must be >= 1");

  // Map order doubles as LRU order: a publish moves its room to the end, so idle rooms are
  // evicted from the front without scanning.
  const logs = new Map<string, RoomLog>();
  const subscribers = new Map<string, Set<MemoryNodeSink>>();
  // Deliveries go through one FIFO so that a listener publishing from inside its callback cannot
  // make other listeners see offset n+1 before n.
  const queue: Array<() => void> = [];
  let draining = false;
  let nodeCount = 0;

  function drain(): void {
    if (draining) return;
    draining = true;
    try {
      for (let task = queue.shift(); task; task = queue.shift()) task();
    } finally {
      draining = false;
    }
  }

  function evictIdle(nowMs: number): void {
    for (const [room, log] of logs) {
      if (nowMs - log.lastPublishAt < roomTtlMs) break;
      logs.delete(room);
    }
  }

  function publish(room: string, input: BusEventInput): BusEvent {
    assertRoom(room);
    const nowMs = now();
    const { json } = encodeBody(input, nowMs, maxPayloadBytes);
    const body = decodeBody(json);
    evictIdle(nowMs);
    let log = logs.get(room);
    if (log) logs.delete(room);
    else log = new RoomLog(crypto.randomUUID(), replayLimit);
    log.lastPublishAt = nowMs;
    logs.set(room, log);
    const event = rememberWireBody(log.append(room, body.type, body.payload, body.at), json);
    for (const sink of subscribers.get(room) ?? []) {
      queue.push(() => sink.deliver(room, { kind: "event", event }));
    }
    drain();
    return event;
  }

  function head(room: string): RoomHead {
    assertRoom(room);
    return logs.get(room)?.head() ?? { epoch: null, offset: 0 };
  }

  function replay(room: string, afterOffset: number, epoch?: string | null): ReplayResult {
    assertRoom(room);
    assertOffset(afterOffset);
    const log = logs.get(room);
    if (log) return log.replay(afterOffset, epoch);
    return resolveReplay({ epoch: null, offset: 0 }, afterOffset, epoch, []);
  }

  function node(nodeOptions: { nodeId?: string } = {}): Bus {
    nodeCount += 1;
    const nodeId = nodeOptions.nodeId ?? `memory-${nodeCount}`;
    const listeners = new LocalListeners(onError);
    let closed = false;
    const sink: MemoryNodeSink = { deliver: (room, signal) => listeners.dispatch(room, signal) };

    const assertOpen = () => {
      if (closed) throw new AppError("SERVICE_UNAVAILABLE", "Bus node is closed");
    };

    async function listen(room: string, listener: BusListener | FrameListener): Promise<Unsubscribe> {
      assertOpen();
      assertRoom(room);
      if (listeners.add(room, listener)) {
        const set = subscribers.get(room) ?? new Set<MemoryNodeSink>();
        set.add(sink);
        subscribers.set(room, set);
      }
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        if (!listeners.remove(room, listener)) return;
        const set = subscribers.get(room);
        set?.delete(sink);
        if (set?.size === 0) subscribers.delete(room);
      };
    }

    return {
      nodeId,
      async publish<P>(room: string, input: BusEventInput<P>) {
        assertOpen();
        return publish(room, input) as BusEvent<P>;
      },
      subscribe: (room, listener) => listen(room, listener),
      subscribeFrames: (room, listener) => listen(room, listener),
      async replay(room, afterOffset, epoch) {
        assertOpen();
        return replay(room, afterOffset, epoch);
      },
      async head(room) {
        assertOpen();
        return head(room);
      },
      async latestOffset(room) {
        assertOpen();
        return head(room).offset;
      },
      subscribedRooms: () => [...subscribers].filter(([, set]) => set.has(sink)).map(([room]) => room),
      ping: async () => !closed,
      async close() {
        if (closed) return;
        closed = true;
        for (const room of listeners.rooms()) {
          const set = subscribers.get(room);
          set?.delete(sink);
          if (set?.size === 0) subscribers.delete(room);
        }
        listeners.clear();
      },
    };
  }

  return { node };
}
