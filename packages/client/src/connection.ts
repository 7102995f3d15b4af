import { CLOSE_CODES, PROTOCOL_VERSION, type ServerFrame, serverFrameSchema } from "@raptscallions/core";
import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import { type Observable, observable } from "./observable.ts";
import { RestError, type RestCall } from "./rest.ts";
import { RealtimeError } from "./sends.ts";

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

/** Frames about rooms, which the connection hands on (everything else it handles itself). */
export type RoomFrame = Extract<ServerFrame, { type: "event" | "snapshot" | "reset" }> | Extract<ServerFrame, { type: "error" }>;

export interface ConnectionOptions {
  baseUrl: string;
  rest: RestCall;
  WebSocket: WebSocketConstructor;
  random: () => number;
  now: () => number;
  backoff: BackoffOptions;
  policyBackoffMs: number;
  keepAliveMs: number;
  report: (problem: { reason: string; frame?: unknown }) => void;
  /** After every `hello`: resubscribe rooms, resend unacknowledged sends. */
  onHello: (generation: number) => void;
  /** Room frames, and errors not answering a request of ours. */
  onRoomFrame: (frame: RoomFrame) => void;
  /** The server signed us out (4001, or a ticket refused with 401/403). */
  onSignedOut: () => void;
}

/**
 * One WebSocket at a time, kept alive: a ticket over REST (retried with backoff and jitter; a
 * Redis outage answers 503), `/ws?ticket=`, keep-alive pings, request/ack matching, and a
 * decision by close code whether and when to come back (docs/protocol.md).
 */
export function createConnection(opts: ConnectionOptions) {
  const state = observable<ConnectionState>({ status: "idle", attempt: 0, userId: null, lastError: null });
  const requests = new Map<string, { resolve(result: unknown): void; reject(err: Error): void }>();
  let wanted = false;
  // Bumped whenever a socket is abandoned: callbacks of an older socket (or reload) see a stale number and stop.
  let generation = 0;
  let ws: WebSocket | null = null;
  let helloed = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let keepAlive: ReturnType<typeof setInterval> | null = null;
  let lastFrameAt = 0;
  let requestSeq = 0;

  const set = (patch: Partial<ConnectionState>) => state.set({ ...state.get(), ...patch });

  /** Resolves true after `ms` if the connection is still the one of `gen` and still wanted. */
  function wait(ms: number, gen: number): Promise<boolean> {
    return new Promise((resolve) => {
      timer = setTimeout(() => {
        timer = null;
        resolve(gen === generation && wanted);
      }, ms);
    });
  }

  function nextDelay(): number {
    const attempt = state.get().attempt;
    set({ attempt: attempt + 1 });
    return backoffDelay(attempt, opts.backoff, opts.random);
  }

  async function open(gen: number) {
    set({ status: "connecting" });
    let url: string;
    for (;;) {
      try {
        url = (await opts.rest("createTicket", {})).url;
        break;
      } catch (err) {
        if (gen !== generation || !wanted) return;
        if (err instanceof RestError && !err.transient) {
          const signedOut = err.status === 401 || err.status === 403;
          set({ status: signedOut ? "signed-out" : "offline", lastError: `${err.code}: ${err.message}` });
          if (signedOut) return stop("signed-out");
        } else {
          set({ status: "offline", lastError: err instanceof Error ? err.message : String(err) });
        }
        if (!(await wait(nextDelay(), gen))) return;
        set({ status: "connecting" });
      }
    }
    if (gen !== generation || !wanted) return;
    const wsUrl = new URL(url, opts.baseUrl);
    wsUrl.protocol = wsUrl.protocol === "https:" ? "wss:" : "ws:";
    let socket: WebSocket;
    try {
      socket = new opts.WebSocket(wsUrl.toString());
    } catch (err) {
      return closed(gen, 1006, err instanceof Error ? err.message : "socket failed");
    }
    ws = socket;
    helloed = false;
    lastFrameAt = opts.now();
    socket.addEventListener("message", (ev) => {
      if (gen === generation) receive(ev.data);
    });
    socket.addEventListener("close", (ev) => closed(gen, ev.code, ev.reason));
  }

  function sendFrame(frame: Record<string, unknown>): boolean {
    if (ws?.readyState !== 1 || !helloed) return false;
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

  function dropSocket(reason: string) {
    if (keepAlive) clearInterval(keepAlive);
    keepAlive = null;
    const old = ws;
    ws = null;
    helloed = false;
    for (const r of requests.values()) r.reject(new RealtimeError("DISCONNECTED", reason));
    requests.clear();
    return old;
  }

  /** The socket ended (or is abandoned): decide by close code whether and when to come back. */
  function closed(gen: number, code: number, reason: string) {
    if (gen !== generation) return;
    generation++;
    const old = dropSocket("connection lost");
    if (old && old.readyState < 2) old.close();
    if (!wanted) return set({ status: "idle" });
    if (code === CLOSE_CODES.unauthenticated) {
      set({ lastError: reason || "signed out" });
      return stop("signed-out");
    }
    set({ status: "offline", lastError: `closed ${code}${reason ? `: ${reason}` : ""}` });
    let delay = nextDelay();
    if (code === CLOSE_CODES.policyViolation) delay = Math.max(delay, opts.policyBackoffMs);
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
    const old = dropSocket("disconnected");
    if (old && old.readyState < 2) old.close(1000, "client disconnect");
    if (status === "signed-out") opts.onSignedOut();
    set({ status });
  }

  function receive(data: unknown) {
    lastFrameAt = opts.now();
    let json: unknown;
    try {
      json = JSON.parse(String(data));
    } catch {
      return opts.report({ reason: "malformed JSON", frame: data });
    }
    const parsed = serverFrameSchema.safeParse(json);
    if (!parsed.success) return opts.report({ reason: "invalid frame", frame: json });
    handle(parsed.data);
  }

  function handle(frame: ServerFrame) {
    switch (frame.type) {
      case "hello": {
        if (frame.protocolVersion !== PROTOCOL_VERSION) {
          opts.report({ reason: `server speaks protocol ${frame.protocolVersion}, this client ${PROTOCOL_VERSION}`, frame });
          set({ lastError: "protocol version mismatch" });
          return stop("idle");
        }
        helloed = true;
        set({ userId: frame.userId });
        const gen = generation;
        keepAlive = setInterval(
          () => {
            const quiet = opts.now() - lastFrameAt;
            if (quiet > 2 * opts.keepAliveMs) closed(gen, 4000, "keep-alive timed out");
            else if (quiet >= opts.keepAliveMs) sendFrame({ type: "ping" });
          },
          Math.max(50, opts.keepAliveMs / 2),
        );
        return opts.onHello(gen);
      }
      case "ack": {
        const r = frame.id ? requests.get(frame.id) : undefined;
        if (frame.id) requests.delete(frame.id);
        return r?.resolve(frame.result);
      }
      case "error": {
        const r = frame.id ? requests.get(frame.id) : undefined;
        if (frame.id) requests.delete(frame.id);
        if (r) return r.reject(new RealtimeError(frame.code, frame.message, frame.details));
        return opts.onRoomFrame(frame);
      }
      case "pong":
        return;
      default:
        return opts.onRoomFrame(frame);
    }
  }

  return {
    state: state as Observable<ConnectionState>,
    /** Starts (or keeps) the connection; it reconnects by itself until `stop`. */
    start() {
      if (wanted) return;
      wanted = true;
      set({ attempt: 0, lastError: null });
      void open(generation);
    },
    stop,
    request,
    sendFrame,
    wait,
    /** The current socket's number: work started under an older one is abandoned. */
    generation: () => generation,
    helloed: () => helloed,
    /** Connected: `live`, or `resyncing` while some room is still catching up. */
    settle(busy: boolean) {
      if (!helloed) return;
      set(busy ? { status: "resyncing" } : { status: "live", attempt: 0, lastError: null });
    },
  };
}

export type Connection = ReturnType<typeof createConnection>;
