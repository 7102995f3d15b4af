import type { Bus, Unsubscribe } from "@raptscallions/bus";
import type { Logger } from "../../lib/logger.ts";

/**
 * The bus room every instance's dispatcher listens on. Not a room a client can subscribe to (the
 * socket layer knows only `session:` and `class:` rooms).
 */
export const OUTBOX_ROOM = "notifications:outbox";
const DUE = "outbox.due";

/**
 * Tells every instance's dispatcher that outbox rows were committed: they claim at once instead
 * of at their next poll. Call it only after the commit (a dispatcher woken earlier would not see
 * the rows yet). Best effort, never throws: a lost wake-up costs at most one poll interval.
 */
export async function wakeDispatchers(bus: Bus, logger: Logger): Promise<void> {
  try {
    await bus.publish(OUTBOX_ROOM, { type: DUE, payload: {} });
  } catch (err) {
    logger.warn("outbox wake-up failed; the dispatchers' poll finds the rows", { err });
  }
}

/**
 * Calls `onWake` on every wake-up, and when the bus may have missed some (its connection came
 * back), since a missed one would otherwise wait for the poll.
 */
export function listenForWakeUps(bus: Bus, onWake: () => void): Promise<Unsubscribe> {
  return bus.subscribe(OUTBOX_ROOM, (signal) => {
    if (signal.kind === "resync" || signal.event.type === DUE) onWake();
  });
}
