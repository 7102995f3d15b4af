import type { BusErrorHandler, BusListener, BusSignal } from "./types.ts";

/**
 * The listeners one node holds per room. `add`/`remove` report the 0→1 and 1→0 transitions so
 * the node subscribes to the shared transport only while someone on it listens.
 */
export class LocalListeners {
  private readonly byRoom = new Map<string, Set<BusListener>>();
  private readonly onError: BusErrorHandler;

  constructor(onError: BusErrorHandler) {
    this.onError = onError;
  }

  /** Returns true when this is the room's first local listener. */
  add(room: string, listener: BusListener): boolean {
    const set = this.byRoom.get(room);
    if (set) {
      set.add(listener);
      return false;
    }
    this.byRoom.set(room, new Set([listener]));
    return true;
  }

  /** Returns true when the room's last local listener just left. */
  remove(room: string, listener: BusListener): boolean {
    const set = this.byRoom.get(room);
    if (!set?.delete(listener)) return false;
    if (set.size > 0) return false;
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

  /** Calls every listener of the room; one throwing listener never starves the others. */
  dispatch(room: string, signal: BusSignal): void {
    const set = this.byRoom.get(room);
    if (!set) return;
    // A listener may unsubscribe itself (or others) while we iterate: walk a snapshot.
    for (const listener of [...set]) {
      try {
        listener(signal);
      } catch (error) {
        this.onError(error, `bus listener for ${room} threw`);
      }
    }
  }
}

/** Default error handler: one line on stderr, never a throw. */
export const logBusError: BusErrorHandler = (error, context) => {
  const message = error instanceof Error ? error.message : String(error);
  console.warn(`[bus] ${context}: ${message}`);
};
