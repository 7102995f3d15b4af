import { eventFrame } from "./event-body.ts";
import { logBusError } from "./local-listeners.ts";
import type { Bus, BusErrorHandler, BusEvent, ResetReason, RoomHead, Unsubscribe } from "./types.ts";

/**
 * Where a listener resumes. `afterOffset` omitted: start at the live tail (nothing replayed).
 * `epoch` is the epoch of the last applied event; pass it whenever known, so that a restarted
 * numbering is detected instead of replaying someone else's offsets.
 */
export interface ResumeFrom {
  afterOffset?: number;
  epoch?: string | null;
}

/**
 * What a resuming listener receives, strictly in order: events with consecutive offsets, or a
 * reset meaning "what you hold is stale: reload over REST; events after `latestOffset` of `epoch`
 * follow".
 */
export type ResumeMessage = { kind: "event"; event: BusEvent } | ResetMessage;

/** See `ResumeMessage`. */
export type ResetMessage = { kind: "reset"; room: string; epoch: string | null; latestOffset: number; reason: ResetReason };

/** What `followRoomFrames` delivers, with the same ordering guarantees as `ResumeMessage`. */
export interface FrameFollowListener {
  /** The next event (offset `last + 1` of the current epoch) as its `event` wire frame. */
  frame(offset: number, frame: string): void;
  reset(message: ResetMessage): void;
}

export interface ResumeOptions {
  onError?: BusErrorHandler;
  /** Delay before retrying a catch-up that threw. Default 250 ms. */
  retryDelayMs?: number;
}

/** A resuming subscription that can say where it stands. */
export interface RoomFollower {
  /**
   * The position of the last message handed to the listener: the last event's `(epoch, offset)`,
   * or a reset's `(epoch, latestOffset)`; before any, where the subscription started. Whatever the
   * listener receives next follows it exactly, so a caller can line other readers up with it.
   */
  position(): RoomHead;
  /** Stops the subscription. Idempotent. */
  close: Unsubscribe;
}

/**
 * Subscribes with exactly-once, in-order delivery from a resume point: missed events (replay)
 * then the live tail with no gap, duplicate or reordering, even while events are published
 * concurrently. The live subscription is taken *first* and buffered, so nothing published
 * between the replay's snapshot and the live feed can fall between the two; the buffer is then
 * drained skipping offsets already delivered. A gap in the live tail, a different epoch or a
 * `resync` signal triggers another catch-up from the last delivered offset. Resolves once the
 * initial catch-up has been delivered.
 */
export async function subscribeWithResume(
  bus: Bus,
  room: string,
  from: ResumeFrom,
  listener: (message: ResumeMessage) => void,
  options: ResumeOptions = {},
): Promise<Unsubscribe> {
  return (await followRoom(bus, room, from, listener, options)).close;
}

/** `subscribeWithResume`, also exposing the position the listener has reached. */
export function followRoom(bus: Bus, room: string, from: ResumeFrom, listener: (message: ResumeMessage) => void, options: ResumeOptions = {}): Promise<RoomFollower> {
  return follow<BusEvent>(
    bus,
    room,
    from,
    {
      live: (push, resync) =>
        bus.subscribe(room, (signal) => {
          if (signal.kind === "resync") resync();
          else push(signal.event.epoch, signal.event.offset, signal.event);
        }),
      fromEvent: (event) => event,
      deliver: (_offset, event) => listener({ kind: "event", event }),
      reset: listener,
    },
    options,
  );
}

/**
 * `followRoom` for a socket layer: the same exact, in-order delivery, each event as its `event`
 * wire frame. Live events arrive as the frames the bus carries (`Bus.subscribeFrames`), so nothing
 * is decoded or encoded per event; only replayed events are turned into frames.
 */
export function followRoomFrames(bus: Bus, room: string, from: ResumeFrom, listener: FrameFollowListener, options: ResumeOptions = {}): Promise<RoomFollower> {
  return follow<string>(
    bus,
    room,
    from,
    {
      live: (push, resync) => bus.subscribeFrames(room, { frame: push, resync: () => resync() }),
      fromEvent: eventFrame,
      deliver: (offset, frame) => listener.frame(offset, frame),
      reset: (message) => listener.reset(message),
    },
    options,
  );
}

/** An event held back while catching up. */
interface Held<V> {
  epoch: string;
  offset: number;
  value: V;
}

/** How `follow` reads a room and hands events of one representation (`V`) on. */
interface FollowSource<V> {
  /** Subscribes to the live feed: `push` for each event in arrival order, `resync` when some may be lost. */
  live(push: (epoch: string, offset: number, value: V) => void, resync: () => void): Promise<Unsubscribe>;
  /** A replayed event in the listener's representation. */
  fromEvent(event: BusEvent): V;
  deliver(offset: number, value: V): void;
  reset(message: ResetMessage): void;
}

async function follow<V>(bus: Bus, room: string, from: ResumeFrom, source: FollowSource<V>, options: ResumeOptions): Promise<RoomFollower> {
  const onError = options.onError ?? logBusError;
  const retryDelayMs = options.retryDelayMs ?? 250;
  let epoch: string | null = from.epoch ?? null;
  // -1: position not known yet (start from the live tail once the head is read).
  let delivered = from.afterOffset ?? -1;
  let pending: Held<V>[] = [];
  let catchingUp = true;
  let again = false;
  let closed = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const deliver = (eventEpoch: string, offset: number, value: V): void => {
    delivered = offset;
    epoch = eventEpoch;
    try {
      source.deliver(offset, value);
    } catch (error) {
      onError(error, `resume listener for ${room} threw`);
    }
  };

  const emitReset = (message: ResetMessage): void => {
    try {
      source.reset(message);
    } catch (error) {
      onError(error, `resume listener for ${room} threw`);
    }
  };

  // An unknown epoch at offset 0 accepts the first event of whatever numbering starts next.
  const inEpoch = (eventEpoch: string, offset: number): boolean => eventEpoch === epoch || (epoch === null && delivered === 0 && offset === 1);

  /** Delivers what follows `delivered` from the buffer; returns false if another catch-up is needed. */
  const drainPending = (): boolean => {
    const buffered = pending.sort((a, b) => a.offset - b.offset);
    pending = [];
    let complete = true;
    for (const [index, held] of buffered.entries()) {
      if (!inEpoch(held.epoch, held.offset)) {
        // Either stale (from before a reset) or from a numbering newer than our last look. Drop
        // it and look again: a newer epoch shows up as a reset, a stale one as nothing new.
        complete = false;
        continue;
      }
      if (held.offset <= delivered) continue;
      if (held.offset === delivered + 1) {
        deliver(held.epoch, held.offset, held.value);
        continue;
      }
      pending = buffered.slice(index).filter((h) => inEpoch(h.epoch, h.offset));
      return false;
    }
    return complete;
  };

  const catchUpOnce = async (): Promise<void> => {
    if (delivered < 0) {
      const head = await bus.head(room);
      epoch = head.epoch;
      delivered = head.offset;
      return;
    }
    const result = await bus.replay(room, delivered, epoch);
    if (closed) return;
    if (result.kind === "reset") {
      epoch = result.epoch;
      delivered = result.latestOffset;
      emitReset({ kind: "reset", room, epoch: result.epoch, latestOffset: result.latestOffset, reason: result.reason });
      return;
    }
    if (result.epoch !== null) epoch = result.epoch;
    for (const event of result.events) if (event.offset === delivered + 1) deliver(event.epoch, event.offset, source.fromEvent(event));
  };

  const catchUp = async (): Promise<void> => {
    catchingUp = true;
    try {
      do {
        again = false;
        await catchUpOnce();
        if (closed) return;
        if (!drainPending()) again = true;
      } while (again && !closed);
    } finally {
      catchingUp = false;
    }
  };

  const requestCatchUp = (): void => {
    if (closed) return;
    if (catchingUp) {
      again = true;
      return;
    }
    catchUp().catch((error: unknown) => {
      onError(error, `catch-up of ${room} failed; retrying`);
      retryTimer = setTimeout(requestCatchUp, retryDelayMs);
    });
  };

  // The live path, once per event: the next offset of the current epoch goes straight to the
  // listener, with no allocation (the bus hands a room's epoch on as one string, so the comparison
  // is usually of a string with itself).
  const onLive = (eventEpoch: string, offset: number, value: V): void => {
    if (offset === delivered + 1 && eventEpoch === epoch && !catchingUp && !closed) {
      deliver(eventEpoch, offset, value);
      return;
    }
    if (closed) return;
    if (catchingUp) {
      pending.push({ epoch: eventEpoch, offset, value });
      return;
    }
    if (inEpoch(eventEpoch, offset)) {
      if (offset <= delivered) return;
      if (offset === delivered + 1) {
        deliver(eventEpoch, offset, value);
        return;
      }
    }
    pending.push({ epoch: eventEpoch, offset, value });
    requestCatchUp();
  };

  const onResync = (): void => {
    if (!closed) requestCatchUp();
  };

  const unsubscribe = await source.live(onLive, onResync);
  try {
    await catchUp();
  } catch (error) {
    closed = true;
    unsubscribe();
    throw error;
  }
  return {
    position: () => ({ epoch, offset: delivered }),
    close: () => {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      unsubscribe();
    },
  };
}
