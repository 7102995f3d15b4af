import type { ServerFrame } from "@raptscallions/core";
import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import type { Connection, RoomFrame } from "./connection.ts";
import { RestError, type RestCall } from "./rest.ts";
import { type RoomEvent, RoomStore, runSnapshotSchema, snapshotPayloadSchema } from "./room.ts";
import { RealtimeError } from "./sends.ts";

interface RoomSync {
  /** A REST reload (after `reset`, or a class room's first join) is under way; events wait here, then apply in order. */
  reloading: boolean;
  buffer: RoomEvent[];
  /** A resubscribe (gap, epoch change or hole) is under way: out-of-order events will be replayed. */
  resubscribing: boolean;
}

export interface SubscriptionOptions {
  connection: Connection;
  rest: RestCall;
  backoff: BackoffOptions;
  random: () => number;
  report: (problem: { reason: string; frame?: unknown }) => void;
}

/**
 * The rooms the client has joined, each kept exact by the protocol's rules: resubscribe with
 * `(epoch, offset)` after every `hello`; apply events in order and resubscribe on a gap or a new
 * epoch; rebuild on `snapshot`; on `reset`, reload over REST (events buffered meanwhile) and go on
 * after `latestOffset` (a run room reloads its run). Class rooms also load who is present and the open alerts over REST when
 * first joined and after a `reset`, since those events are not replayed.
 */
export function createSubscriptions(opts: SubscriptionOptions) {
  const { connection, rest } = opts;
  const rooms = new Map<string, RoomStore>();
  const syncs = new Map<string, RoomSync>();

  function syncFor(room: string): RoomSync {
    let s = syncs.get(room);
    if (!s) syncs.set(room, (s = { reloading: false, buffer: [], resubscribing: false }));
    return s;
  }

  function settle() {
    connection.settle([...syncs.values()].some((s) => s.reloading || s.resubscribing));
  }

  async function subscribeRoom(room: string, fresh: boolean) {
    const store = rooms.get(room);
    if (!store) return;
    const sync = syncFor(room);
    sync.reloading = false;
    sync.buffer = [];
    sync.resubscribing = true;
    const pos = fresh ? null : store.get().position;
    const frame: Record<string, unknown> = { type: "subscribe", room };
    if (pos) {
      frame.lastOffset = pos.offset;
      if (pos.epoch !== null) frame.epoch = pos.epoch;
    }
    // A class room joined afresh has no snapshot: its presence and open alerts come over REST.
    let loadClass = pos === null && room.startsWith("class:");
    try {
      const result = (await connection.request(frame)) as { epoch?: string | null; offset?: number } | undefined;
      // Class rooms (no snapshot) start from the head the ack names.
      if (!store.get().position && result && typeof result.offset === "number") {
        store.update({ position: { epoch: result.epoch ?? null, offset: result.offset } });
      }
      if (!sync.reloading) store.update({ status: "live", error: null });
    } catch (err) {
      loadClass = false;
      if (err instanceof RealtimeError && err.code !== "DISCONNECTED") {
        store.update({ status: "error", error: { code: err.code, message: err.message } });
      }
    } finally {
      sync.resubscribing = false;
      settle();
    }
    // From where the room stands now: events may have arrived before the ack.
    const position = store.get().position;
    if (loadClass && position) await reload(room, position);
  }

  function onEvent(room: string, ev: RoomEvent) {
    const store = rooms.get(room);
    if (!store) return;
    const sync = syncFor(room);
    if (sync.reloading) return void sync.buffer.push(ev);
    const pos = store.get().position;
    if (pos && pos.epoch === ev.epoch && ev.offset <= pos.offset) return; // already applied
    const gap = pos !== null && pos.epoch === ev.epoch && ev.offset !== pos.offset + 1;
    const otherEpoch = pos !== null && pos.epoch !== null && pos.epoch !== ev.epoch;
    if (gap || otherEpoch) {
      // The server replays from our position (or answers `reset`); until then, drop what it will resend.
      if (!sync.resubscribing) void subscribeRoom(room, false);
      return;
    }
    const result = store.apply(ev);
    if (result === "invalid") opts.report({ reason: `invalid ${ev.event} payload`, frame: ev });
    if (result === "hole" && !sync.resubscribing) void subscribeRoom(room, true);
  }

  function onSnapshot(frame: Extract<ServerFrame, { type: "snapshot" }>) {
    const store = rooms.get(frame.room);
    if (!store) return;
    if (frame.room.startsWith("run:")) {
      const r = runSnapshotSchema.safeParse(frame.payload);
      if (!r.success) return opts.report({ reason: "invalid snapshot payload", frame });
      return store.rebuildRun({ run: r.data.run, position: { epoch: frame.epoch, offset: frame.offset } });
    }
    const p = snapshotPayloadSchema.safeParse(frame.payload);
    if (!p.success) return opts.report({ reason: "invalid snapshot payload", frame });
    store.rebuild({ ...p.data, position: { epoch: frame.epoch, offset: frame.offset } });
  }

  /** What we hold is stale (`reset`) or was never loaded (a class room's first join): reload over REST, then continue at `position`. */
  async function reload(room: string, position: { epoch: string | null; offset: number }) {
    const store = rooms.get(room);
    if (!store) return;
    const gen = connection.generation();
    const sync = syncFor(room);
    sync.reloading = true;
    sync.buffer = [];
    store.update({ status: "resyncing" });
    settle();
    for (let attempt = 0; ; attempt++) {
      try {
        if (room.startsWith("session:")) {
          const sessionId = room.slice("session:".length);
          const { session } = await rest("getSession", { params: { id: sessionId } });
          const messages = await loadAllMessages(sessionId);
          if (gen !== connection.generation()) return;
          const streaming = messages.find((m) => m.state === "streaming");
          store.rebuild({ session, messages, streamingMessageId: streaming?.id ?? null, position });
        } else if (room.startsWith("run:")) {
          const { run } = await rest("getRun", { params: { id: room.slice("run:".length) } });
          if (gen !== connection.generation()) return;
          store.rebuildRun({ run, position });
        } else {
          const classId = room.slice("class:".length);
          const [presence, alerts] = await Promise.all([
            rest("getClassPresence", { params: { id: classId } }),
            rest("listAlerts", { query: { classId, status: "open", limit: 100 } }),
          ]);
          if (gen !== connection.generation()) return;
          store.reloadClass({ presence: presence.items, alerts: alerts.items, position });
        }
        break;
      } catch (err) {
        if (gen !== connection.generation()) return;
        if (err instanceof RestError && !err.transient) {
          sync.reloading = false;
          store.update({ status: "error", error: { code: err.code, message: err.message } });
          return settle();
        }
        if (!(await connection.wait(backoffDelay(attempt, opts.backoff, opts.random), gen))) return;
      }
    }
    sync.reloading = false;
    const buffered = sync.buffer;
    sync.buffer = [];
    for (const ev of buffered) onEvent(room, ev);
    if (store.get().status === "resyncing") store.update({ status: "live", error: null });
    settle();
  }

  async function loadAllMessages(sessionId: string) {
    const all = [];
    let cursor: string | undefined;
    do {
      const page = await rest("listMessages", { params: { id: sessionId }, query: { limit: 200, ...(cursor ? { cursor } : {}) } });
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return all;
  }

  return {
    /** After `hello`: resubscribe every room from its position. */
    resumeAll(gen: number) {
      connection.settle(rooms.size > 0);
      const subs = [...rooms.keys()].map((room) => subscribeRoom(room, false));
      void Promise.allSettled(subs).then(() => {
        if (gen === connection.generation()) settle();
      });
    },

    handle(frame: RoomFrame) {
      switch (frame.type) {
        case "event":
          return onEvent(frame.room, frame);
        case "snapshot":
          return onSnapshot(frame);
        case "reset":
          return void reload(frame.room, { epoch: frame.epoch, offset: frame.latestOffset });
        case "error": {
          // A revoked room arrives without a request id, naming the room.
          const room = (frame.details as { room?: unknown } | undefined)?.room;
          const store = typeof room === "string" ? rooms.get(room) : undefined;
          store?.update({ status: "error", error: { code: frame.code, message: frame.message } });
        }
      }
    },

    join(room: string): RoomStore {
      let store = rooms.get(room);
      if (store) return store;
      store = new RoomStore(room);
      rooms.set(room, store);
      if (connection.helloed()) void subscribeRoom(room, false);
      return store;
    },

    leave(room: string) {
      if (!rooms.delete(room)) return;
      syncs.delete(room);
      connection.sendFrame({ type: "unsubscribe", room });
    },
  };
}
