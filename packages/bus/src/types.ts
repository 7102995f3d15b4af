/**
 * One event as stored in a room's replay buffer and fanned out to subscribers.
 *
 * `offset` is dense per room and per `epoch`: 1, 2, 3… A client keeps `(epoch, offset)` of the
 * last event it applied; a missing offset is a gap, a different epoch means the numbering
 * restarted (Redis lost the room, the room expired, or an instance delivered locally while cut
 * off from Redis) and the client must reload over REST.
 */
export interface BusEvent<P = unknown> {
  room: string;
  /** Identifies one unbroken numbering of the room. Epochs starting with `local:` are node-local. */
  epoch: string;
  offset: number;
  type: string;
  payload: P;
  /** ISO timestamp taken by the publishing instance. */
  at: string;
}

/** What a caller publishes; the bus assigns room, epoch, offset and time. */
export interface BusEventInput<P = unknown> {
  type: string;
  payload: P;
}

/** Where a room's numbering stands: `epoch` is null while the room has never had an event. */
export interface RoomHead {
  epoch: string | null;
  offset: number;
}

/**
 * Why a replay could not be exact:
 * - `trimmed`: the replay buffer no longer reaches back to `afterOffset + 1`;
 * - `epoch-changed`: the numbering the client holds is not the room's current one;
 * - `unknown-offset`: the client claims an offset the room never reached (state lost).
 */
export type ResetReason = "trimmed" | "epoch-changed" | "unknown-offset";

/** Exactly the events after the requested offset, or an explicit reset — never a partial list. */
export type ReplayResult =
  | { kind: "events"; epoch: string | null; events: BusEvent[] }
  | { kind: "reset"; epoch: string | null; latestOffset: number; reason: ResetReason };

/**
 * Why the live feed of a room may have missed events: the subscriber connection came back
 * (`reconnected`), the node left local-only mode (`recovered`), or another node restarted the
 * room's numbering after delivering locally (`epoch-rotated`). The cure is a replay from the last
 * applied offset; `subscribeWithResume` does it for you.
 */
export type ResyncReason = "reconnected" | "recovered" | "epoch-rotated";

/** What a raw `subscribe` listener receives. */
export type BusSignal = { kind: "event"; event: BusEvent } | { kind: "resync"; room: string; reason: ResyncReason };

export type BusListener = (signal: BusSignal) => void;

/**
 * A listener for a socket layer: each event arrives as the protocol's `event` frame (JSON text,
 * `encodeEventFrame`), ready to write to sockets, with its position read from a fixed header
 * rather than from the JSON. Nothing is decoded for it. Called in offset order per room.
 */
export interface FrameListener {
  frame(epoch: string, offset: number, frame: string): void;
  resync(reason: ResyncReason): void;
}

/** Stops one subscription. Idempotent. */
export type Unsubscribe = () => void;

/** Reports problems the bus survives (lost connections, throwing listeners) without crashing. */
export type BusErrorHandler = (error: unknown, context: string) => void;

/**
 * The realtime fan-out of one API instance (a "node"). Rooms are strings such as
 * `session:<uuid>` or `class:<uuid>`.
 */
export interface Bus {
  /** Identifies this instance in logs and in local epochs. */
  readonly nodeId: string;
  /** Stores the event under the room's next offset and fans it out to every subscribed node. */
  publish<P>(room: string, input: BusEventInput<P>): Promise<BusEvent<P>>;
  /**
   * Adds a local listener. Resolves once the live subscription is effective: every event
   * published after that reaches the listener (unless a `resync` says otherwise).
   */
  subscribe(room: string, listener: BusListener): Promise<Unsubscribe>;
  /** `subscribe` for frame listeners: the same events, delivered as wire frames. */
  subscribeFrames(room: string, listener: FrameListener): Promise<Unsubscribe>;
  /** Exactly the events with offset > `afterOffset`, or a reset. `epoch` is checked when given. */
  replay(room: string, afterOffset: number, epoch?: string | null): Promise<ReplayResult>;
  head(room: string): Promise<RoomHead>;
  latestOffset(room: string): Promise<number>;
  /** Rooms this node holds a shared-transport subscription for (for tests and metrics). */
  subscribedRooms(): string[];
  /** True when the shared transport is reachable (always true in-process). For readiness probes. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
