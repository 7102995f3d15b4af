import { type AlertDto, alertEventPayloadSchema } from "@raptscallions/core";
import { type BackoffOptions, DEFAULT_BACKOFF } from "./backoff.ts";
import { type ConnectionState, type ConnectionStatus, createConnection, type WebSocketConstructor } from "./connection.ts";
import type { Observable } from "./observable.ts";
import { createDownload, createRest, type RestCall } from "./rest.ts";
import type { RoomStore } from "./room.ts";
import { RealtimeError, SendQueue, type SendResult } from "./sends.ts";
import { createSubscriptions } from "./subscriptions.ts";

export { type ConnectionState, type ConnectionStatus, RealtimeError, type SendResult, type WebSocketConstructor };

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

export type RealtimeClient = ReturnType<typeof createClient>;

/**
 * The typed client: REST calls plus one self-healing realtime connection and a store per room.
 * The parts: connection.ts (tickets, socket, close codes), subscriptions.ts (rooms kept exact),
 * sends.ts (sends that arrive once), room.ts (what a UI binds to).
 */
export function createClient(opts: ClientOptions) {
  const rest: RestCall = createRest({ baseUrl: opts.baseUrl, getToken: opts.getToken, fetch: opts.fetch });
  const random = opts.random ?? Math.random;
  const backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
  const report = opts.onProtocolError ?? (() => {});

  const connection = createConnection({
    baseUrl: opts.baseUrl,
    rest,
    WebSocket: opts.WebSocket ?? globalThis.WebSocket,
    random,
    now: opts.now ?? Date.now,
    backoff,
    policyBackoffMs: opts.policyBackoffMs ?? 5000,
    keepAliveMs: opts.keepAliveMs ?? 25_000,
    report,
    onHello: (gen) => {
      rooms.resumeAll(gen);
      sends.flush();
    },
    onRoomFrame: (frame) => rooms.handle(frame),
    onSignedOut: () => sends.rejectAll(new RealtimeError("UNAUTHENTICATED", "signed out")),
  });
  const rooms = createSubscriptions({ connection, rest, backoff, random, report });
  const sends = new SendQueue(connection.request, connection.helloed);

  return {
    /** Typed REST calls by operation name (see `operations`). */
    rest,
    /** Downloads a file the API streams (not JSON), with the bearer token. */
    download: createDownload({ baseUrl: opts.baseUrl, getToken: opts.getToken, fetch: opts.fetch }),
    /** Connection status for a UI: connecting / resyncing / live / offline / signed-out. */
    connection: connection.state as Observable<ConnectionState>,

    /** Starts (or keeps) the connection; it reconnects by itself until `disconnect()`. */
    connect() {
      connection.start();
    },

    /** Closes the socket and stops reconnecting. Rooms and unacknowledged sends are kept for `connect()`. */
    disconnect() {
      connection.stop("idle");
    },

    /** Joins a room (`session:<id>`, `class:<id>` or `run:<id>`) and returns its store; joining twice returns the same store. */
    room(room: string): RoomStore {
      return rooms.join(room);
    },

    session(sessionId: string): RoomStore {
      return rooms.join(`session:${sessionId}`);
    },

    /** A class's live view: session activity, presence and alerts (loaded over REST on join and after `reset`). */
    classRoom(classId: string): RoomStore {
      return rooms.join(`class:${classId}`);
    },

    /** A product tool run as it streams: `run` holds it, its output growing until it is final (snapshot on join, reload after `reset`). */
    runRoom(runId: string): RoomStore {
      return rooms.join(`run:${runId}`);
    },

    /** Leaves a room; its store stops changing. */
    leave(room: string) {
      rooms.leave(room);
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

    /** Stops a running product tool run over REST (works while the socket is reconnecting). */
    stopRun(runId: string) {
      return rest("stopRun", { params: { id: runId } });
    },

    /** Stops the streaming answer over REST (works while the socket is reconnecting). */
    stopGeneration(sessionId: string) {
      return rest("stopGeneration", { params: { id: sessionId } });
    },

    /**
     * Acknowledges an alert (stops its escalation) and returns it as it now stands: over the
     * socket while it is live, over REST otherwise or when the socket drops mid-request
     * (acknowledging twice is harmless: the alert stays acknowledged).
     */
    async ackAlert(alertId: string): Promise<AlertDto> {
      if (connection.helloed()) {
        try {
          const parsed = alertEventPayloadSchema.safeParse(await connection.request({ type: "alert.ack", alertId }));
          if (parsed.success) return parsed.data.alert;
          report({ reason: "alert.ack answered without the alert" });
        } catch (err) {
          if (!(err instanceof RealtimeError) || err.code !== "DISCONNECTED") throw err;
        }
      }
      return rest("acknowledgeAlert", { params: { id: alertId } });
    },

    /** Sends still waiting for an acknowledgement. */
    pendingSends(): number {
      return sends.size;
    },
  };
}
