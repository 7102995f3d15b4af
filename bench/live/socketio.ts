/**
 * Socket.IO as a target of the live bench: two `socketio-server.ts` processes on Node (bundled for
 * Node by Bun first, since Node 20 runs no TypeScript) sharing one Redis through the Redis adapter,
 * and the sockets the bench's client process opens to them — WebSocket only, one connection per
 * socket (no multiplexing, no reconnection), so each watcher costs the server what a browser tab
 * would.
 *
 * Two clients, chosen by BENCH_LIVE_SIO_CLIENT:
 * - `wire` (default): Socket.IO's protocol (Engine.IO 4 + Socket.IO 5 packets) spoken over Bun's
 *   native WebSocket, with event frames scanned exactly as the app's and the relay's are. The
 *   client then costs the same per frame for all three targets, so the figures compare servers.
 * - `socket.io-client`: the library, over engine.io-client's browser `WebSocket` transport (under
 *   Bun, `transports: ["websocket"]` picks the transport built on the `ws` package's API, which Bun
 *   emulates so slowly that 80 watchers × 1,000 frames did not finish in 40 s). Even natively it
 *   parses and dispatches every frame: on this 2-core machine at a load of 17 (800 watchers, 4,000
 *   frames/s) it spent 1.4–2× the client CPU a frame of a plain WebSocket client, and its watchers
 *   saw p50 latencies of 69 and 690 ms in two runs where the plain client saw 2–51 ms from the same
 *   servers: on a busy machine the library, not the servers, sets the pace.
 */
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { WebSocket as NativeWebSocketTransport } from "engine.io-client";
import { io, type Socket } from "socket.io-client";
import { closeQuietly, EventTally, type Frame, inspectEvent, type LiveSocket, type Recorder, roomOf } from "./clients.ts";
import type { EventFrame } from "./frames.ts";
import { type Baseline, type BaselineConnect, type Endpoint, startBaseline } from "./targets.ts";

const ROOT = join(import.meta.dir, "..", "..");

/** Which client the Socket.IO target uses (see the header). */
export type SocketIoClient = "wire" | "socket.io-client";

/** A socket.io-client socket behind the scenarios' socket shape; event frames go to the same tally. */
class SocketIoLibrarySocket implements LiveSocket {
  private readonly tally: EventTally;
  closed: { code: number; reason: string } | null = null;
  errors: Frame[] = [];

  constructor(
    private readonly socket: Socket,
    recorder: Recorder | null,
    timelineRooms?: Set<string>,
  ) {
    this.tally = new EventTally(recorder, timelineRooms);
    socket.on("event", (f: EventFrame) => {
      // Socket.IO hands over the parsed frame; its size on the wire is not needed (only the app's
      // runs feed the replay plans), so it is not re-serialised.
      this.tally.event(Date.parse(f.at), f.event, () => f.room, 0);
    });
    socket.on("disconnect", (reason) => {
      this.closed = { code: 0, reason };
      this.tally.closeAll();
    });
  }

  get done(): Set<string> {
    return this.tally.done;
  }

  async request(frame: Record<string, unknown>, timeoutMs = 30_000): Promise<Frame> {
    const { type, ...rest } = frame;
    if (type !== "subscribe") throw new Error(`the Socket.IO baseline only answers subscribe, not ${String(type)}`);
    try {
      return (await this.socket.timeout(timeoutMs).emitWithAck("subscribe", rest.room)) as Frame;
    } catch (err) {
      return { type: "error", code: "NO_ACK", message: (err as Error).message };
    }
  }

  completed(room: string): Promise<void> {
    return this.tally.completed(room, this.closed !== null);
  }

  close() {
    this.socket.disconnect();
  }
}

/** Connects one socket.io-client socket (its own WebSocket) and resolves once Socket.IO connected. */
function connectLibrary(on: Endpoint, recorder: Recorder | null, timelineRooms?: Set<string>, timeoutMs = 30_000): Promise<LiveSocket> {
  const socket = io(on.baseUrl, { transports: [NativeWebSocketTransport], forceNew: true, reconnection: false, timeout: timeoutMs });
  const wrapped = new SocketIoLibrarySocket(socket, recorder, timelineRooms);
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(wrapped));
    socket.once("connect_error", (err) => {
      socket.disconnect();
      reject(new Error(`Socket.IO on ${on.name} did not connect: ${err.message}`));
    });
  });
}

/** Engine.IO packet types (first character) and Socket.IO packet types (second, in a message). */
const EIO_OPEN = "0";
const EIO_CLOSE = "1";
const EIO_PING = "2";
const EIO_PONG = "3";
const EIO_MESSAGE = "4";
const SIO_CONNECT = "0";
const SIO_DISCONNECT = "1";
const SIO_EVENT = "2";
const SIO_ACK = "3";
const SIO_CONNECT_ERROR = "4";

/**
 * Socket.IO's protocol on a native WebSocket: connect to the main namespace, answer pings,
 * `subscribe` with an ack id, and hand every `event` packet to the tally unparsed.
 */
class SocketIoWireSocket implements LiveSocket {
  private readonly tally: EventTally;
  private readonly acks = new Map<number, (f: Frame) => void>();
  private nextAck = 0;
  closed: { code: number; reason: string } | null = null;
  errors: Frame[] = [];
  private connectWaiter: { resolve: () => void; reject: (err: Error) => void } | null = null;
  /** Resolves once the namespace is connected (rejects on a connect error or close). */
  readonly connected = new Promise<void>((resolve, reject) => {
    this.connectWaiter = { resolve, reject };
  });

  constructor(
    private readonly ws: WebSocket,
    recorder: Recorder | null,
    timelineRooms?: Set<string>,
  ) {
    this.tally = new EventTally(recorder, timelineRooms);
    ws.addEventListener("message", (ev) => {
      const data = typeof ev.data === "string" ? ev.data : String(ev.data);
      if (data[0] === EIO_MESSAGE) {
        const kind = data[1];
        if (kind === SIO_EVENT) {
          const { at, event } = inspectEvent(data);
          this.tally.event(at, event, () => roomOf(data), data.length);
        } else if (kind === SIO_ACK) this.onAck(data);
        else if (kind === SIO_CONNECT) this.settle(null);
        else if (kind === SIO_CONNECT_ERROR) this.settle(new Error(`Socket.IO connect error: ${data.slice(2)}`));
        else if (kind === SIO_DISCONNECT) ws.close(1000, "namespace disconnected");
      } else if (data === EIO_PING) ws.send(EIO_PONG);
      else if (data[0] === EIO_OPEN) ws.send(`${EIO_MESSAGE}${SIO_CONNECT}`);
      else if (data[0] === EIO_CLOSE) ws.close(1000, "engine closed");
    });
    ws.addEventListener("close", (ev) => {
      this.closed = { code: ev.code, reason: ev.reason };
      this.settle(new Error(`closed ${ev.code} ${ev.reason} before connecting`));
      for (const a of this.acks.values()) a({ type: "error", code: "CLOSED", message: `closed ${ev.code} ${ev.reason}` });
      this.acks.clear();
      this.tally.closeAll();
    });
  }

  private settle(err: Error | null) {
    if (err) this.connectWaiter?.reject(err);
    else this.connectWaiter?.resolve();
    this.connectWaiter = null;
  }

  /** `43<id>[<answer>]`: the server's answer to the emit with that ack id. */
  private onAck(data: string) {
    const open = data.indexOf("[");
    const id = Number(data.slice(2, open));
    const answer = (JSON.parse(data.slice(open)) as unknown[])[0];
    this.acks.get(id)?.(answer && typeof answer === "object" ? (answer as Frame) : { type: "error", message: String(answer) });
    this.acks.delete(id);
  }

  get done(): Set<string> {
    return this.tally.done;
  }

  request(frame: Record<string, unknown>, timeoutMs = 30_000): Promise<Frame> {
    const { type, ...rest } = frame;
    if (type !== "subscribe") return Promise.reject(new Error(`the Socket.IO baseline only answers subscribe, not ${String(type)}`));
    const id = this.nextAck++;
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.acks.delete(id);
        resolve({ type: "error", code: "NO_ACK", message: `no ack within ${timeoutMs} ms` });
      }, timeoutMs);
      this.acks.set(id, (f) => {
        clearTimeout(t);
        resolve(f);
      });
      this.ws.send(`${EIO_MESSAGE}${SIO_EVENT}${id}${JSON.stringify(["subscribe", rest.room])}`);
    });
  }

  completed(room: string): Promise<void> {
    return this.tally.completed(room, this.closed !== null);
  }

  close() {
    closeQuietly(this.ws);
  }
}

/** Opens a WebSocket at Socket.IO's path and resolves once the main namespace is connected. */
function connectWire(on: Endpoint, recorder: Recorder | null, timelineRooms?: Set<string>, timeoutMs = 30_000): Promise<LiveSocket> {
  const ws = new WebSocket(`${on.wsUrl}/socket.io/?EIO=4&transport=websocket`);
  const socket = new SocketIoWireSocket(ws, recorder, timelineRooms);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Socket.IO on ${on.name} did not connect within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([socket.connected, timeout]).then(
    () => {
      clearTimeout(timer);
      return socket;
    },
    (err: Error) => {
      clearTimeout(timer);
      socket.close();
      throw err;
    },
  );
}

/** How the bench's client opens a Socket.IO socket (`wire` or the `socket.io-client` library). */
export const socketIoConnect = (client: SocketIoClient): BaselineConnect => (client === "wire" ? connectWire : connectLibrary);

/**
 * Bundles the server for Node into `workDir` (packages stay external and resolve through a link to
 * the repository's node_modules) and starts instances `a` and `b` on the same Redis.
 */
export async function startSocketIo(opts: {
  /** Empty: no Redis, Socket.IO's in-memory adapter (a and b then do not see each other's rooms). */
  redisUrl: string;
  logDir: string;
  workDir: string;
  client: SocketIoClient;
}): Promise<Baseline> {
  const connect = socketIoConnect(opts.client);
  const outdir = join(opts.workDir, "socketio");
  const built = await Bun.build({
    entrypoints: [join(ROOT, "bench/live/socketio-server.ts")],
    outdir,
    target: "node",
    format: "esm",
    packages: "external",
    naming: "[name].mjs",
  });
  const entry = built.outputs[0]?.path;
  if (!built.success || !entry) throw new Error(`building the Socket.IO server failed: ${built.logs.map(String).join("\n")}`);
  symlinkSync(join(ROOT, "node_modules"), join(outdir, "node_modules"), "dir");
  const node = Bun.which("node");
  if (!node) throw new Error("node is not on PATH (the Socket.IO baseline runs on Node)");

  return startBaseline({
    kind: "socket.io",
    logDir: opts.logDir,
    cwd: outdir,
    command: (port) => ({ cmd: [node, entry], env: { SIO_PORT: String(port), SIO_REDIS_URL: opts.redisUrl } }),
    connect,
  });
}
