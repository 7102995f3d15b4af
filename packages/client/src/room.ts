import {
  type AlertDto,
  attentionEventPayloadSchema,
  type ClassAttentionDto,
  type MessageDto,
  messageDtoSchema,
  type RunDto,
  RUN_STATE_VALUES,
  runDtoSchema,
  runSnapshotPayloadSchema,
  type SessionSummaryDto,
  sessionDtoSchema,
  sessionSnapshotPayloadSchema,
  summaryEventPayloadSchema,
} from "@raptscallions/core";
import { z } from "zod";

export type SessionDto = z.infer<typeof sessionDtoSchema>;

/** Where a room stands: the `(epoch, offset)` of the last event applied. */
export interface RoomPosition {
  epoch: string | null;
  offset: number;
}

/** A class-room finding (`alert` or `struggle`), as the server sent it. */
export interface RoomAlert {
  event: "alert" | "struggle";
  offset: number;
  at: string;
  payload: unknown;
}

/** Class rooms: the latest message of a session as the class room summarises it. */
export interface SessionActivity {
  sessionId: string;
  messageId: string;
  role: string;
  /** Set by `message.completed` (the answer's terminal state); absent for a new student or teacher message. */
  state?: string | undefined;
  studentId?: string | undefined;
  preview: string;
  at: string;
}

/** Class rooms: a product tool run that finished in the class, as the class room summarises it. */
export interface RunActivity {
  runId: string;
  toolId: string;
  userId: string;
  state: RunDto["state"];
  preview: string;
  at: string;
}

export interface PresenceEntry {
  online: boolean;
  role?: string | undefined;
}

/**
 * What a UI binds to for one room. Every change produces a new object (and new arrays), so it
 * can be compared by reference (`useSyncExternalStore`, signals, Svelte stores).
 */
export interface RoomState {
  room: string;
  /** joining: waiting for the first subscribe ack; resyncing: reloading after `reset` or a gap. */
  status: "joining" | "live" | "resyncing" | "error";
  error: { code: string; message: string } | null;
  session: SessionDto | null;
  /** Ordered by `seq`; a streaming answer is here with its text growing in place. */
  messages: MessageDto[];
  streamingMessageId: string | null;
  position: RoomPosition | null;
  /** Class rooms: who is online, by user id. */
  presence: Record<string, PresenceEntry>;
  /** Class rooms: findings in arrival order (the last 200), one entry per alert (its latest state). */
  alerts: RoomAlert[];
  /** Class rooms: sessions as their `session.started` / `updated` / `ended` events left them, by id. */
  sessions: Record<string, SessionDto>;
  /** Class rooms: each session's latest message summary, by session id. */
  activity: Record<string, SessionActivity>;
  /** Class rooms: the latest attention list (`attention.changed`); null until one arrives. */
  attention: ClassAttentionDto | null;
  /** Class rooms: each session's latest summary as announced (`summary`), by session id. */
  summaries: Record<string, SessionSummaryDto>;
  /** Run rooms (`run:<id>`): the run, its output growing in place while it is `running`; null until loaded. */
  run: RunDto | null;
  /** Class rooms: runs that finished in the class (`run.completed`), by run id. */
  runs: Record<string, RunActivity>;
}

const MAX_ALERTS = 200;

const messagePayload = z.object({ message: messageDtoSchema });
const deltaPayload = z.object({ messageId: z.string(), charOffset: z.number().int().min(0), text: z.string() });
const sessionPayload = z.object({ session: sessionDtoSchema });
const presencePayload = z.object({
  userId: z.string(),
  online: z.boolean(),
  role: z.string().optional(),
  /** Everyone present after this change (sent on joins): replaces what the room held. */
  members: z.array(z.object({ userId: z.string(), role: z.string().optional() })).optional(),
});
const activityPayload = z.object({
  sessionId: z.string(),
  messageId: z.string(),
  role: z.string(),
  state: z.string().nullish(),
  studentId: z.string().nullish(),
  preview: z.string(),
});
const runPayload = z.object({ run: runDtoSchema });
const runDeltaPayload = z.object({ runId: z.string(), charOffset: z.number().int().min(0), text: z.string() });
const runActivityPayload = z.object({ runId: z.string(), toolId: z.string(), userId: z.string(), state: z.enum(RUN_STATE_VALUES), preview: z.string() });
/** What a `snapshot` frame carries (the same schema the server documents for the REST snapshot). */
export const snapshotPayloadSchema = sessionSnapshotPayloadSchema;
/** What a run room's `snapshot` frame carries: the run with its output as of the snapshot's offset. */
export const runSnapshotSchema = runSnapshotPayloadSchema;

export type ApplyResult = "ok" | "invalid" | "hole";

/** An event as the room applies it (already validated as a frame). */
export interface RoomEvent {
  epoch: string;
  offset: number;
  event: string;
  payload: unknown;
  at: string;
}

/** One room's state with the protocol's rules for changing it; `RealtimeClient` feeds it frames. */
export class RoomStore {
  private state: RoomState;
  private readonly listeners = new Set<(s: RoomState) => void>();

  constructor(room: string) {
    this.state = {
      room,
      status: "joining",
      error: null,
      session: null,
      messages: [],
      streamingMessageId: null,
      position: null,
      presence: {},
      alerts: [],
      sessions: {},
      activity: {},
      attention: null,
      summaries: {},
      run: null,
      runs: {},
    };
  }

  get(): RoomState {
    return this.state;
  }

  /** Calls `listener` on every change; returns the unsubscribe function. */
  subscribe(listener: (s: RoomState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A message by id, or undefined. */
  message(id: string): MessageDto | undefined {
    return this.state.messages.find((m) => m.id === id);
  }

  update(patch: Partial<RoomState>) {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l(this.state);
  }

  /** A snapshot or a REST reload replaces the room's messages and position wholesale. */
  rebuild(input: { session: SessionDto; messages: MessageDto[]; streamingMessageId: string | null; position: RoomPosition }) {
    this.update({
      session: input.session,
      messages: sortBySeq(input.messages),
      streamingMessageId: input.streamingMessageId,
      position: input.position,
    });
  }

  /** A run room's snapshot or REST reload replaces the run and the position wholesale. */
  rebuildRun(input: { run: RunDto; position: RoomPosition }) {
    this.update({ run: input.run, position: input.position });
  }

  /**
   * A class room (re)loaded over REST — on first join, or after `reset`, since presence and alert
   * events are not replayed: who is present now, and the open alerts (oldest first), each held as
   * the `alert` event that would have announced it. Findings already held that REST does not list
   * (struggle signals, alerts resolved meanwhile) are kept; an alert held and listed is replaced.
   */
  reloadClass(input: { presence: { userId: string; role: string }[]; alerts: AlertDto[]; position: RoomPosition }) {
    const presence: Record<string, PresenceEntry> = Object.fromEntries(input.presence.map((m) => [m.userId, { online: true, role: m.role }]));
    this.update({ presence, position: input.position });
    for (const alert of [...input.alerts].reverse()) {
      this.upsertAlert({ event: "alert", offset: input.position.offset, at: alert.createdAt, payload: { alert } });
    }
  }

  /**
   * Applies one event and moves the position. `invalid`: the payload is not what the protocol
   * promises (dropped). `hole`: a delta starts past the text held (after a REST reload that lags
   * the stream) — the caller fetches a snapshot, which is exact.
   */
  apply(ev: RoomEvent): ApplyResult {
    const result = this.applyPayload(ev);
    this.update({ position: { epoch: ev.epoch, offset: ev.offset } });
    return result;
  }

  private applyPayload(ev: RoomEvent): ApplyResult {
    switch (ev.event) {
      case "message.created":
      case "message.started":
      case "message.completed": {
        if (this.state.room.startsWith("class:")) return this.applyActivity(ev);
        const p = messagePayload.safeParse(ev.payload);
        if (!p.success) return "invalid";
        this.upsert(p.data.message);
        return "ok";
      }
      case "message.delta": {
        const p = deltaPayload.safeParse(ev.payload);
        if (!p.success) return "invalid";
        return this.applyDelta(p.data);
      }
      case "session.updated":
      case "session.ended":
      case "session.started": {
        const p = sessionPayload.safeParse(ev.payload);
        if (!p.success) return "invalid";
        if (this.state.room.startsWith("class:")) {
          this.update({ sessions: { ...this.state.sessions, [p.data.session.id]: p.data.session } });
          return "ok";
        }
        this.update({ session: p.data.session });
        return "ok";
      }
      case "presence.changed": {
        const p = presencePayload.safeParse(ev.payload);
        if (!p.success) return "invalid";
        const base: Record<string, PresenceEntry> = p.data.members
          ? Object.fromEntries(p.data.members.map((m) => [m.userId, { online: true, role: m.role }]))
          : this.state.presence;
        this.update({ presence: { ...base, [p.data.userId]: { online: p.data.online, role: p.data.role } } });
        return "ok";
      }
      case "alert":
      case "struggle": {
        this.upsertAlert({ event: ev.event, offset: ev.offset, at: ev.at, payload: ev.payload });
        return "ok";
      }
      case "attention.changed": {
        const p = attentionEventPayloadSchema.safeParse(ev.payload);
        if (!p.success) return "invalid";
        const { changed: _changed, ...attention } = p.data;
        this.update({ attention });
        return "ok";
      }
      case "summary": {
        const p = summaryEventPayloadSchema.safeParse(ev.payload);
        if (!p.success) return "invalid";
        this.update({ summaries: { ...this.state.summaries, [p.data.summary.sessionId]: p.data.summary } });
        return "ok";
      }
      case "run.started":
      case "run.completed": {
        if (this.state.room.startsWith("class:")) {
          const p = runActivityPayload.safeParse(ev.payload);
          if (!p.success) return "invalid";
          this.update({ runs: { ...this.state.runs, [p.data.runId]: { ...p.data, at: ev.at } } });
          return "ok";
        }
        const p = runPayload.safeParse(ev.payload);
        if (!p.success) return "invalid";
        this.upsertRun(p.data.run);
        return "ok";
      }
      case "run.delta": {
        const p = runDeltaPayload.safeParse(ev.payload);
        if (!p.success) return "invalid";
        return this.applyRunDelta(p.data);
      }
      default:
        // generation.stop-requested, run.stop-requested and events newer than this client: nothing to hold.
        return "ok";
    }
  }

  /** A class room's message summary: the session's latest message, kept by session id. */
  private applyActivity(ev: RoomEvent): ApplyResult {
    const p = activityPayload.safeParse(ev.payload);
    if (!p.success) return "invalid";
    const { state, studentId, ...rest } = p.data;
    const entry: SessionActivity = { ...rest, state: state ?? undefined, studentId: studentId ?? undefined, at: ev.at };
    this.update({ activity: { ...this.state.activity, [p.data.sessionId]: entry } });
    return "ok";
  }

  /** An alert is announced again when a teacher acknowledges or dismisses it: keep one entry per alert, the latest. */
  private upsertAlert(entry: RoomAlert) {
    const id = alertIdOf(entry);
    const index = id === null ? -1 : this.state.alerts.findIndex((a) => alertIdOf(a) === id);
    const alerts = index === -1 ? [...this.state.alerts, entry] : this.state.alerts.map((a, i) => (i === index ? entry : a));
    this.update({ alerts: alerts.slice(-MAX_ALERTS) });
  }

  /** Upsert by id: a message repeated (snapshot, then its event) is harmless; a final row always wins. */
  private upsert(message: MessageDto) {
    const existing = this.message(message.id);
    // A late `message.started` must not wipe text that deltas already grew.
    if (existing && message.state === "streaming" && existing.content.length > message.content.length) return;
    const messages = existing ? this.state.messages.map((m) => (m.id === message.id ? message : m)) : sortBySeq([...this.state.messages, message]);
    const streamingMessageId = message.state === "streaming" ? message.id : this.state.streamingMessageId === message.id ? null : this.state.streamingMessageId;
    this.update({ messages, streamingMessageId });
  }

  /** As for a message: a final run always wins; a late `run.started` must not wipe output that deltas grew. */
  private upsertRun(run: RunDto) {
    const held = this.state.run;
    if (held && held.id === run.id && run.state === "running" && (held.state !== "running" || held.output.length > run.output.length)) return;
    this.update({ run });
  }

  /** The same rule as a message's delta, on the run's output (see {@link applyDelta}). */
  private applyRunDelta(d: { runId: string; charOffset: number; text: string }): ApplyResult {
    const run = this.state.run;
    if (!run || run.id !== d.runId) return "hole";
    if (run.state !== "running") return "ok";
    const held = run.output.length;
    if (d.charOffset > held) return "hole";
    if (d.charOffset + d.text.length <= held) return "ok";
    this.update({ run: { ...run, output: run.output + d.text.slice(held - d.charOffset) } });
    return "ok";
  }

  /**
   * The documented rule: append when `charOffset` equals the length held; ignore deltas for a
   * message held as final. A delta that overlaps what is held (a REST reload can run ahead of
   * the stream) contributes only its new tail; one beyond a hole waits for `message.completed`.
   */
  private applyDelta(d: { messageId: string; charOffset: number; text: string }): ApplyResult {
    const m = this.message(d.messageId);
    if (!m) return "hole";
    if (m.state !== "streaming") return "ok";
    const held = m.content.length;
    if (d.charOffset > held) return "hole";
    if (d.charOffset + d.text.length <= held) return "ok";
    const content = m.content + d.text.slice(held - d.charOffset);
    this.update({ messages: this.state.messages.map((x) => (x.id === m.id ? { ...x, content } : x)) });
    return "ok";
  }
}

const alertPayload = z.object({ alert: z.object({ id: z.string() }) });

/** The alert a finding announces (`alert` events); null for struggle signals, which are kept as they come. */
export function alertIdOf(entry: RoomAlert): string | null {
  if (entry.event !== "alert") return null;
  const p = alertPayload.safeParse(entry.payload);
  return p.success ? p.data.alert.id : null;
}

function sortBySeq(messages: MessageDto[]): MessageDto[] {
  return [...messages].sort((a, b) => a.seq - b.seq);
}
