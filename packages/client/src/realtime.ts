import { CLOSE_CODES, PROTOCOL_VERSION, type ServerFrame, serverFrameSchema } from "@raptscallions/core";
import { backoffDelay, type BackoffOptions, DEFAULT_BACKOFF } from "./backoff.ts";
import { type Observable, observable } from "./observable.ts";
import { createRest, RestError, type RestCall } from "./rest.ts";
import { type RoomEvent, RoomStore, snapshotPayloadSchema } from "./room.ts";
import { RealtimeError, SendQueue, type SendResult } from "./sends.ts";

export { RealtimeError, type SendResult };

/**
 * idle: not started or disconnected on purpose; connecting: fetching a ticket or opening the
 * socket; resyncing: connected, rooms resubscribing or reloading; live: everything current;
 * offline: waiting to reconnect; signed-out: the server closed with 4001 or refused the token.
 */
export type ConnectionStatus = "idle" | "connecting" | "resyncing" | "live" | "offline" | "signed-out";

export interface ConnectionState {
  status: ConnectionStatus;
  /** Reconnect attempts since the connection was last live. */
  attempt: number;
  userId: string | null;
  /** Why the last connection ended or failed, for display. */
  lastError: string | null;
}

/** The subset of the WebSocket constructor the client uses (the browser's, Bun's, or a wrapper in tests). */
export type WebSocketConstructor = new (url: string) => WebSocket;

export interface ClientOptions {
  /** The API origin, e.g. `https://api.example.org` (in a browser, `location.origin` works). */
  baseUrl: string;
  /** The Clerk session token (called before each REST request, so a refreshed token is used). */
  getToken: () => Promise<string | null> | string | null;
  WebSocket?: WebSocketConstructor;
  fetch?: typeof fetch;
  /** Jitter source; tests pass a seeded one. */
  random?: () => number;
  now?: () => number;
  backoff?: Partial<BackoffOptions>;
  /** The least wait after a 1008 (policy) close, so a client that flooded does not hammer back. */
  policyBackoffMs?: number;
  /** A ping is sent after this long without a frame; no frame for twice as long drops the socket. */
  keepAliveMs?: number;
  /** Frames and payloads that fail validation are dropped and reported here. */
  onProtocolError?: (problem: { reason: string; frame?: unknown }) => void;
}

interface RoomSync {
  /** A REST reload after `reset` is under way; events wait here, then apply in order. */
  reloading: boolean;
  buffer: RoomEvent[];
  /** A resubscribe (gap, epoch change or hole) is under way: out-of-order events will be replayed. */
  resubscribing: boolean;
}

export type RealtimeClient = ReturnType<typeof createClient>;

/** The typed client: REST calls plus one self-healing realtime connection and a store per room. */
export function createClient(opts: ClientOptions) {
  const rest: RestCall = createRest({ baseUrl: opts.baseUrl, getToken: opts.getToken, fetch: opts.fetch });
  const Ctor: WebSocketConstructor = opts.WebSocket ?? globalThis.WebSocket;
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  const backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
  const policyBackoffMs = opts.policyBackoffMs ?? 5000;
  const keepAliveMs = opts.keepAliveMs ?? 25_000;
  const report = opts.onProtocolError ?? (() => {});

  const connection = observable<ConnectionState>({ status: "idle", attempt: 0, userId: null, lastError: null });
  const rooms = new Map<string, RoomStore>();
  const syncs = new Map<string, RoomSync>();
  const requests = new Map<string, { resolve(result: unknown): void; reject(err: Error): void }>();
  const sends = new SendQueue(request, () => helloed);

  let wanted = false;
  let generation = 0;
  let ws: WebSocket | null = null;
  let helloed = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let keepAlive: ReturnType<typeof setInterval> | null = null;
  let lastFrameAt = 0;
  let requestSeq = 0;

  const setConnection = (patch: Partial<ConnectionState>) => connection.set({ ...connection.get(), ...patch });

  function wait(ms: number, gen: number): Promise<boolean> {
    return new Promise((resolve) => {
      timer = setTimeout(() => {
        timer = null;
        resolve(gen === generation && wanted);
      }, ms);
    });
  }

  function nextDelay(): number {
    const attempt = connection.get().attempt;
    setConnection({ attempt: attempt + 1 });
    return backoffDelay(attempt, backoff, random);
  }

  /** Gets a ticket (retrying transient failures — a Redis outage answers 503) and opens the socket. */
  async function open(gen: number) {
    setConnection({ status: "connecting" });
    let url: string;
    for (;;) {
      try {
        const ticket = await rest("createTicket", {});
        url = ticket.url;
        break;
      } catch (err) {
        if (gen !== generation || !wanted) return;
        if (err instanceof RestError && !err.transient) {
          const signedOut = err.status === 401 || err.status === 403;
          setConnection({ status: signedOut ? "signed-out" : "offline", lastError: `${err.code}: ${err.message}` });
          if (signedOut) return stop("signed-out");
        } else {
          setConnection({ status: "offline", lastError: err instanceof Error ? err.message : String(err) });
        }
        if (!(await wait(nextDelay(), gen))) return;
        setConnection({ status: "connecting" });
      }
    }
    if (gen !== generation || !wanted) return;
    const wsUrl = new URL(url, opts.baseUrl);
    wsUrl.protocol = wsUrl.protocol === "https:" ? "wss:" : "ws:";
    let socket: WebSocket;
    try {
      socket = new Ctor(wsUrl.toString());
    } catch (err) {
      return closed(gen, 1006, err instanceof Error ? err.message : "socket failed");
    }
    ws = socket;
    helloed = false;
    lastFrameAt = now();
    socket.addEventListener("message", (ev) => {
      if (gen === generation) receive(ev.data);
    });
    socket.addEventListener("close", (ev) => closed(gen, ev.code, ev.reason));
  }

  function sendFrame(frame: Record<string, unknown>): boolean {
    if (!ws || ws.readyState !== 1 || !helloed) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  function request(frame: Record<string, unknown>): Promise<unknown> {
    const id = `r${++requestSeq}`;
    return new Promise((resolve, reject) => {
      if (!sendFrame({ ...frame, id })) return reject(new RealtimeError("DISCONNECTED", "not connected"));
      requests.set(id, { resolve, reject });
    });
  }

  /** The socket ended (or is abandoned): decide by close code whether and when to come back. */
  function closed(gen: number, code: number, reason: string) {
    if (gen !== generation) return;
    generation++;
    const old = ws;
    ws = null;
    helloed = false;
    if (keepAlive) clearInterval(keepAlive);
    keepAlive = null;
    if (old && old.readyState < 2) old.close();
    for (const r of requests.values()) r.reject(new RealtimeError("DISCONNECTED", "connection lost"));
    requests.clear();
    if (!wanted) return setConnection({ status: "idle" });
    if (code === CLOSE_CODES.unauthenticated) {
      setConnection({ lastError: reason || "signed out" });
      return stop("signed-out");
    }
    setConnection({ status: "offline", lastError: `closed ${code}${reason ? `: ${reason}` : ""}` });
    let delay = nextDelay();
    if (code === CLOSE_CODES.policyViolation) delay = Math.max(delay, policyBackoffMs);
    const next = generation;
    void wait(delay, next).then((go) => {
      if (go) void open(next);
    });
  }

  function stop(status: "idle" | "signed-out") {
    wanted = false;
    generation++;
    if (timer) clearTimeout(timer);
    timer = null;
    if (keepAlive) clearInterval(keepAlive);
    keepAlive = null;
    const old = ws;
    ws = null;
    helloed = false;
    if (old && old.readyState < 2) old.close(1000, "client disconnect");
    for (const r of requests.values()) r.reject(new RealtimeError("DISCONNECTED", "disconnected"));
    requests.clear();
    if (status === "signed-out") {
      sends.rejectAll(new RealtimeError("UNAUTHENTICATED", "signed out"));
    }
    setConnection({ status });
  }

  function receive(data: unknown) {
    lastFrameAt = now();
    let json: unknown;
    try {
      json = JSON.parse(String(data));
    } catch {
      return report({ reason: "malformed JSON", frame: data });
    }
    const parsed = serverFrameSchema.safeParse(json);
    if (!parsed.success) return report({ reason: "invalid frame", frame: json });
    handle(parsed.data);
  }

  function handle(frame: ServerFrame) {
    switch (frame.type) {
      case "hello":
        if (frame.protocolVersion !== PROTOCOL_VERSION) {
          report({ reason: `server speaks protocol ${frame.protocolVersion}, this client ${PROTOCOL_VERSION}`, frame });
          setConnection({ lastError: "protocol version mismatch" });
          return stop("idle");
        }
        helloed = true;
        setConnection({ userId: frame.userId });
        return resume();
      case "ack": {
        const r = frame.id ? requests.get(frame.id) : undefined;
        if (frame.id) requests.delete(frame.id);
        return r?.resolve(frame.result);
      }
      case "error": {
        const r = frame.id ? requests.get(frame.id) : undefined;
        if (frame.id) requests.delete(frame.id);
        if (r) return r.reject(new RealtimeError(frame.code, frame.message, frame.details));
        // A revoked room arrives without a request id, naming the room.
        const room = (frame.details as { room?: unknown } | undefined)?.room;
        const store = typeof room === "string" ? rooms.get(room) : undefined;
        store?.update({ status: "error", error: { code: frame.code, message: frame.message } });
        return;
      }
      case "event":
        return onEvent(frame.room, frame);
      case "snapshot":
        return onSnapshot(frame);
      case "reset":
        return void onReset(frame);
      case "pong":
        return;
    }
  }

  /** After `hello`: resubscribe every room from its position, then resend unacknowledged sends. */
  function resume() {
    const gen = generation;
    setConnection({ status: rooms.size > 0 ? "resyncing" : "live" });
    const subs = [...rooms.keys()].map((room) => subscribeRoom(room, false));
    sends.flush();
    keepAlive = setInterval(() => {
      const quiet = now() - lastFrameAt;
      if (quiet > 2 * keepAliveMs) closed(gen, 4000, "keep-alive timed out");
      else if (quiet >= keepAliveMs) sendFrame({ type: "ping" });
    }, Math.max(50, keepAliveMs / 2));
    void Promise.allSettled(subs).then(() => {
      if (gen === generation) refreshStatus();
    });
  }

  function refreshStatus() {
    if (!helloed) return;
    const busy = [...syncs.values()].some((s) => s.reloading || s.resubscribing);
    setConnection(busy ? { status: "resyncing" } : { status: "live", attempt: 0, lastError: null });
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
    try {
      const result = (await request(frame)) as { epoch?: string | null; offset?: number } | undefined;
      // Class rooms (no snapshot) start from the head the ack names.
      if (!store.get().position && result && typeof result.offset === "number") {
        store.update({ position: { epoch: result.epoch ?? null, offset: result.offset } });
      }
      if (!sync.reloading) store.update({ status: "live", error: null });
    } catch (err) {
      if (err instanceof RealtimeError && err.code !== "DISCONNECTED") {
        store.update({ status: "error", error: { code: err.code, message: err.message } });
      }
    } finally {
      sync.resubscribing = false;
      refreshStatus();
    }
  }

  function syncFor(room: string): RoomSync {
    let s = syncs.get(room);
    if (!s) syncs.set(room, (s = { reloading: false, buffer: [], resubscribing: false }));
    return s;
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
    if (result === "invalid") report({ reason: `invalid ${ev.event} payload`, frame: ev });
    if (result === "hole" && !sync.resubscribing) void subscribeRoom(room, true);
  }

  function onSnapshot(frame: Extract<ServerFrame, { type: "snapshot" }>) {
    const store = rooms.get(frame.room);
    if (!store) return;
    const p = snapshotPayloadSchema.safeParse(frame.payload);
    if (!p.success) return report({ reason: "invalid snapshot payload", frame });
    store.rebuild({ ...p.data, position: { epoch: frame.epoch, offset: frame.offset } });
  }

  /** `reset`: what we hold is stale. Reload over REST, then continue after `latestOffset`. */
  async function onReset(frame: Extract<ServerFrame, { type: "reset" }>) {
    const store = rooms.get(frame.room);
    if (!store) return;
    const gen = generation;
    const sync = syncFor(frame.room);
    sync.reloading = true;
    sync.buffer = [];
    store.update({ status: "resyncing" });
    refreshStatus();
    const position = { epoch: frame.epoch, offset: frame.latestOffset };
    for (let attempt = 0; ; attempt++) {
      try {
        if (frame.room.startsWith("session:")) {
          const sessionId = frame.room.slice("session:".length);
          const { session } = await rest("getSession", { params: { id: sessionId } });
          const messages = await loadAllMessages(sessionId);
          if (gen !== generation) return;
          const streaming = messages.find((m) => m.state === "streaming");
          store.rebuild({ session, messages, streamingMessageId: streaming?.id ?? null, position });
        } else {
          store.update({ position });
        }
        break;
      } catch (err) {
        if (gen !== generation) return;
        if (err instanceof RestError && !err.transient) {
          sync.reloading = false;
          store.update({ status: "error", error: { code: err.code, message: err.message } });
          return refreshStatus();
        }
        if (!(await wait(backoffDelay(attempt, backoff, random), gen))) return;
      }
    }
    sync.reloading = false;
    const buffered = sync.buffer;
    sync.buffer = [];
    for (const ev of buffered) onEvent(frame.room, ev);
    if (store.get().status === "resyncing") store.update({ status: "live", error: null });
    refreshStatus();
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
    /** Typed REST calls by operation name (see `operations`). */
    rest,
    /** Connection status for a UI: connecting / resyncing / live / offline / signed-out. */
    connection: connection as Observable<ConnectionState>,

    /** Starts (or keeps) the connection; it reconnects by itself until `disconnect()`. */
    connect() {
      if (wanted) return;
      wanted = true;
      setConnection({ attempt: 0, lastError: null });
      void open(generation);
    },

    /** Closes the socket and stops reconnecting. Rooms and unacknowledged sends are kept for `connect()`. */
    disconnect() {
      stop("idle");
    },

    /** Joins a room (`session:<id>` or `class:<id>`) and returns its store; joining twice returns the same store. */
    room(room: string): RoomStore {
      let store = rooms.get(room);
      if (store) return store;
      store = new RoomStore(room);
      rooms.set(room, store);
      if (helloed) void subscribeRoom(room, false);
      return store;
    },

    session(sessionId: string): RoomStore {
      return this.room(`session:${sessionId}`);
    },

    classRoom(classId: string): RoomStore {
      return this.room(`class:${classId}`);
    },

    /** Leaves a room; its store stops changing. */
    leave(room: string) {
      if (!rooms.delete(room)) return;
      syncs.delete(room);
      sendFrame({ type: "unsubscribe", room });
    },

    /**
     * Sends a student message. Until acknowledged it survives reconnects and is resent with the
     * same `clientMessageId`, which the server stores once (`duplicate: true` on a repeat).
     */
    sendMessage(input: { sessionId: string; content: string; clientMessageId?: string }): Promise<SendResult> {
      return sends.add("message.send", input);
    },

    /** A teacher's message into a session; resent across reconnects like `sendMessage`. */
    teacherMessage(input: { sessionId: string; content: string; clientMessageId?: string }): Promise<SendResult> {
      return sends.add("teacher.message", input);
    },

    /** Stops the streaming answer over REST (works while the socket is reconnecting). */
    stopGeneration(sessionId: string) {
      return rest("stopGeneration", { params: { id: sessionId } });
    },

    /** Sends still waiting for an acknowledgement. */
    pendingSends(): number {
      return sends.size;
    },
  };
}
