import { eventFrame } from "./event-body.ts";
import type { BusErrorHandler, BusEvent, BusListener, BusSignal, FrameListener } from "./types.ts";

/** A room's listeners. Arrays replaced on change (never mutated), so a dispatch walks a stable list without copying it. */
interface RoomListeners {
  signals: readonly BusListener[];
  frames: readonly FrameListener[];
}

/**
 * The listeners one node holds per room, of both kinds (`subscribe`'s signal listeners and
 * `subscribeFrames`' frame listeners). `add`/`remove` report the 0→1 and 1→0 transitions so the
 * node subscribes to the shared transport only while someone on it listens.
 */
export class LocalListeners {
  private readonly byRoom = new Map<string, RoomListeners>();
  private readonly onError: BusErrorHandler;

  constructor(onError: BusErrorHandler) {
    this.onError = onError;
  }

  /** Returns true when this is the room's first local listener. */
  add(room: string, listener: BusListener | FrameListener): boolean {
    const entry = this.byRoom.get(room);
    const first = entry === undefined;
    const next: RoomListeners = entry ?? { signals: [], frames: [] };
    if (typeof listener === "function") next.signals = [...next.signals, listener];
    else next.frames = [...next.frames, listener];
    if (first) this.byRoom.set(room, next);
    return first;
  }

  /** Returns true when the room's last local listener just left. */
  remove(room: string, listener: BusListener | FrameListener): boolean {
    const entry = this.byRoom.get(room);
    if (!entry) return false;
    const before = entry.signals.length + entry.frames.length;
    if (typeof listener === "function") entry.signals = entry.signals.filter((l) => l !== listener);
    else entry.frames = entry.frames.filter((l) => l !== listener);
    const after = entry.signals.length + entry.frames.length;
    if (after === before || after > 0) return false;
    this.byRoom.delete(room);
    return true;
  }

  has(room: string): boolean {
    return this.byRoom.has(room);
  }

  rooms(): string[] {
    return [...this.byRoom.keys()];
  }

  clear(): void {
    this.byRoom.clear();
  }

  /**
   * Calls every listener of the room with a signal; frame listeners get an event's frame (built
   * once, only when one listens) or the resync. One throwing listener never starves the others.
   */
  dispatch(room: string, signal: BusSignal): void {
    const entry = this.byRoom.get(room);
    if (!entry) return;
    for (const listener of entry.signals) this.call(room, listener, signal);
    if (entry.frames.length === 0) return;
    if (signal.kind === "resync") {
      for (const listener of entry.frames) this.callResync(room, listener, signal.reason);
      return;
    }
    const { event } = signal;
    const frame = eventFrame(event);
    for (const listener of entry.frames) this.callFrame(room, listener, event.epoch, event.offset, frame);
  }

  /**
   * Delivers an event that arrived as a wire frame: frame listeners get it as it is; signal
   * listeners (if any) the event `decode` rebuilds from it, decoded once for all of them.
   */
  dispatchFrame(room: string, epoch: string, offset: number, frame: string, decode: (room: string, epoch: string, offset: number, frame: string) => BusEvent): void {
    const entry = this.byRoom.get(room);
    if (!entry) return;
    // Indexed, not for…of: this runs per event from an instance's first event, before the
    // optimising tiers have compiled away the iterator.
    const frames = entry.frames;
    for (let i = 0; i < frames.length; i++) {
      try {
        (frames[i] as FrameListener).frame(epoch, offset, frame);
      } catch (error) {
        this.onError(error, `bus listener for ${room} threw`);
      }
    }
    if (entry.signals.length === 0) return;
    let event: BusEvent;
    try {
      event = decode(room, epoch, offset, frame);
    } catch (error) {
      this.onError(error, `malformed event frame for ${room}`);
      return;
    }
    const signal: BusSignal = { kind: "event", event };
    for (const listener of entry.signals) this.call(room, listener, signal);
  }

  private call(room: string, listener: BusListener, signal: BusSignal): void {
    try {
      listener(signal);
    } catch (error) {
      this.onError(error, `bus listener for ${room} threw`);
    }
  }

  private callFrame(room: string, listener: FrameListener, epoch: string, offset: number, frame: string): void {
    try {
      listener.frame(epoch, offset, frame);
    } catch (error) {
      this.onError(error, `bus listener for ${room} threw`);
    }
  }

  private callResync(room: string, listener: FrameListener, reason: Extract<BusSignal, { kind: "resync" }>["reason"]): void {
    try {
      listener.resync(reason);
    } catch (error) {
      this.onError(error, `bus listener for ${room} threw`);
    }
  }
}

/** Default error handler: one line on stderr, never a throw. */
export const logBusError: BusErrorHandler = (error, context) => {
  const message = error instanceof Error ? error.message : String(error);
  console.warn(`[bus] ${context}: ${message}`);
};
