import type { Bus, BusEvent, BusEventInput, KeyValueStore } from "@raptscallions/bus";
import type { AttentionEntry } from "@raptscallions/core";
import type { Db } from "@raptscallions/db";
import type { Clock } from "../../lib/clock.ts";
import type { InsightsConfig } from "../../lib/insights-config.ts";
import type { Logger } from "../../lib/logger.ts";
import { classRoom, publishBestEffort } from "../rooms.ts";
import { computeClassAttention } from "./attention.ts";

/** Class-room events after which a student's place on the attention list may have moved. */
const TRIGGERS: ReadonlySet<string> = new Set(["alert", "struggle", "message.created", "message.completed", "session.started", "session.ended"]);
// What was last published per class, shared by the instances (any of them may publish next).
const LAST_KEY = (classId: string) => `attention:last:${classId}`;
const LAST_TTL_MS = 24 * 3_600_000;
// A time-driven flag (stuck, silent) further away than this is picked up by a later event.
const MAX_DEADLINE_MS = 3_600_000;

/** Recomputes a class's attention list after the events that can change it, debounced per class. */
export interface AttentionTracker {
  /** Something happened in the class: recompute once the debounce window closes. */
  touch(classId: string): void;
  /** Waits for the recomputations in flight (tests, shutdown). */
  settle(): Promise<void>;
  stop(): void;
}

/**
 * Per class, the first event opens a window of `attentionDebounceMs`; when it closes the list is
 * computed once and, if any student's rank or flags differ from what was last published for the
 * class (kept in the key-value store so instances agree), published as `attention.changed` with
 * the students that moved. A session waiting for an answer, or a student going quiet, changes the
 * list by time alone: a timer is set for the earliest such moment.
 */
export function createAttentionTracker(
  deps: { db: Db; bus: Bus; kv: KeyValueStore; logger: Logger; clock: Clock },
  config: Pick<InsightsConfig, "attentionDebounceMs" | "stuckAfterSeconds" | "silentAfterSeconds">,
): AttentionTracker {
  const windows = new Map<string, ReturnType<typeof setTimeout>>();
  const deadlines = new Map<string, { at: number; timer: ReturnType<typeof setTimeout> }>();
  const inFlight = new Set<Promise<void>>();
  let stopped = false;

  function touch(classId: string) {
    if (stopped || windows.has(classId)) return;
    const timer = setTimeout(() => {
      windows.delete(classId);
      const run = flush(classId).finally(() => inFlight.delete(run));
      inFlight.add(run);
    }, config.attentionDebounceMs);
    windows.set(classId, timer);
  }

  async function flush(classId: string) {
    try {
      const now = deps.clock.now();
      const { attention, nextDeadline } = await computeClassAttention(deps.db, classId, now, config);
      armDeadline(classId, nextDeadline, now.getTime());
      const current = attention.students.map((s) => [s.studentId, s.rank, s.flags.join(",")] as const);
      const previous = parseLast(await deps.kv.get(LAST_KEY(classId)));
      const changed = changedStudents(previous, attention.students);
      if (changed.length === 0 && previous !== null && previous.size === current.length) return;
      await deps.kv.set(LAST_KEY(classId), JSON.stringify(current), LAST_TTL_MS);
      await publishBestEffort(deps.bus, deps.logger, classRoom(classId), "attention.changed", { ...attention, changed });
    } catch (err) {
      deps.logger.warn("attention list not recomputed", { classId, err });
    }
  }

  function armDeadline(classId: string, at: number | null, nowMs: number) {
    const armed = deadlines.get(classId);
    if (at === null || at - nowMs > MAX_DEADLINE_MS || stopped) return;
    if (armed && armed.at <= at) return;
    if (armed) clearTimeout(armed.timer);
    const timer = setTimeout(
      () => {
        deadlines.delete(classId);
        touch(classId);
      },
      // A little past the moment, so the recomputation sees the threshold crossed.
      Math.max(0, at - nowMs) + 50,
    );
    deadlines.set(classId, { at, timer });
  }

  return {
    touch,
    async settle() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    stop() {
      stopped = true;
      for (const t of windows.values()) clearTimeout(t);
      for (const d of deadlines.values()) clearTimeout(d.timer);
      windows.clear();
      deadlines.clear();
    },
  };
}

function parseLast(raw: string | null): Map<string, string> | null {
  if (!raw) return null;
  try {
    const rows = JSON.parse(raw) as unknown;
    if (!Array.isArray(rows)) return null;
    const out = new Map<string, string>();
    for (const r of rows) if (Array.isArray(r) && typeof r[0] === "string") out.set(r[0], `${String(r[1])}|${String(r[2])}`);
    return out;
  } catch {
    return null;
  }
}

function changedStudents(previous: Map<string, string> | null, students: readonly AttentionEntry[]): string[] {
  return students.filter((s) => previous?.get(s.studentId) !== `${s.rank}|${s.flags.join(",")}`).map((s) => s.studentId);
}

/**
 * The bus as the app uses it, telling `onClassEvent` after each class-room event that can move
 * a student on the attention list. Every path that changes one (an alert raised or acknowledged,
 * a struggle finding, a message, a finished answer, a session starting or ending) already
 * publishes such an event, so this is the one place that hears all of them.
 */
export function observeClassEvents(bus: Bus, onClassEvent: (classId: string) => void): Bus {
  return {
    get nodeId() {
      return bus.nodeId;
    },
    // Every delta passes here: a session room's publish is handed through without a promise hop.
    publish<P>(room: string, input: BusEventInput<P>): Promise<BusEvent<P>> {
      const published = bus.publish(room, input);
      if (!room.startsWith("class:") || !TRIGGERS.has(input.type)) return published;
      return published.then((event) => {
        onClassEvent(room.slice("class:".length));
        return event;
      });
    },
    subscribe: (room, listener) => bus.subscribe(room, listener),
    subscribeFrames: (room, listener) => bus.subscribeFrames(room, listener),
    replay: (room, afterOffset, epoch) => bus.replay(room, afterOffset, epoch),
    head: (room) => bus.head(room),
    latestOffset: (room) => bus.latestOffset(room),
    subscribedRooms: () => bus.subscribedRooms(),
    ping: () => bus.ping(),
    close: () => bus.close(),
  };
}
