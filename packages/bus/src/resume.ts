import { logBusError } from "./local-listeners.ts";
import type { Bus, BusErrorHandler, BusEvent, BusSignal, ResetReason, RoomHead, Unsubscribe } from "./types.ts";

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
export type ResumeMessage = { kind: "event"; event: BusEvent } | { kind: "reset"; room: string; epoch: string | null; latestOffset: number; reason: ResetReason };

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
export async function followRoom(
  bus: Bus,
  room: string,
  from: ResumeFrom,
  listener: (message: ResumeMessage) => void,
  options: ResumeOptions = {},
): Promise<RoomFollower> {
  const onError = options.onError ?? logBusError;
  const retryDelayMs = options.retryDelayMs ?? 250;
  let epoch: string | null = from.epoch ?? null;
  // -1: position not known yet (start from the live tail once the head is read).
  let delivered = from.afterOffset ?? -1;
  let pending: BusEvent[] = [];
  let catchingUp = true;
  let again = false;
  let closed = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const emit = (message: ResumeMessage): void => {
    try {
      listener(message);
    } catch (error) {
      onError(error, `resume listener for ${room} threw`);
    }
  };

  const deliver = (event: BusEvent): void => {
    delivered = event.offset;
    epoch = event.epoch;
    emit({ kind: "event", event });
  };

  // An unknown epoch at offset 0 accepts the first event of whatever numbering starts next.
  const inEpoch = (event: BusEvent): boolean => event.epoch === epoch || (epoch === null && delivered === 0 && event.offset === 1);

  /** Delivers what follows `delivered` from the buffer; returns false if another catch-up is needed. */
  const drainPending = (): boolean => {
    const buffered = pending.sort((a, b) => a.offset - b.offset);
    pending = [];
    let complete = true;
    for (const [index, event] of buffered.entries()) {
      if (!inEpoch(event)) {
        // Either stale (from before a reset) or from a numbering newer than our last look. Drop
        // it and look again: a newer epoch shows up as a reset, a stale one as nothing new.
        complete = false;
        continue;
      }
      if (event.offset <= delivered) continue;
      if (event.offset === delivered + 1) {
        deliver(event);
        continue;
      }
      pending = buffered.slice(index).filter(inEpoch);
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
      emit({ kind: "reset", room, epoch: result.epoch, latestOffset: result.latestOffset, reason: result.reason });
      return;
    }
    if (result.epoch !== null) epoch = result.epoch;
    for (const event of result.events) if (event.offset === delivered + 1) deliver(event);
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

  const onSignal = (signal: BusSignal): void => {
    if (closed) return;
    if (signal.kind === "resync") {
      requestCatchUp();
      return;
    }
    const event = signal.event;
    if (catchingUp) {
      pending.push(event);
      return;
    }
    if (inEpoch(event) && event.offset <= delivered) return;
    if (inEpoch(event) && event.offset === delivered + 1) {
      deliver(event);
      return;
    }
    pending.push(event);
    requestCatchUp();
  };

  const unsubscribe = await bus.subscribe(room, onSignal);
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
