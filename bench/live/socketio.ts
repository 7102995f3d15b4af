/**
 * Socket.IO as a target of the live bench: two `socketio-server.ts` processes on Node (bundled for
 * Node by Bun first, since Node 20 runs no TypeScript) sharing one Redis through the Redis adapter,
 * and the `socket.io-client` sockets the bench's client process opens to them — WebSocket only,
 * one connection per socket (no multiplexing, no reconnection), so each watcher costs the server
 * what a browser tab would.
 *
 * The client's transport is engine.io-client's browser `WebSocket` transport, over Bun's native
 * WebSocket: under Bun, `transports: ["websocket"]` picks the Node transport built on the `ws`
 * package's API, which Bun emulates so slowly that the client, not Socket.IO, set the pace
 * (80 watchers × 1,000 frames did not finish in 40 s; natively ~17 µs of client CPU a frame, about
 * 1.5× what the other clients spend scanning a frame without parsing it).
 */
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { WebSocket as NativeWebSocketTransport } from "engine.io-client";
import { io, type Socket } from "socket.io-client";
import { EventTally, type Frame, type LiveSocket, type Recorder } from "./clients.ts";
import type { EventFrame } from "./frames.ts";
import { freePort, spawnChild, waitHttp } from "./procs.ts";
import { type Baseline, type Instance, publishPlan } from "./targets.ts";

const ROOT = join(import.meta.dir, "..", "..");

/** A socket.io-client socket behind the scenarios' socket shape; event frames go to the same tally. */
class SocketIoSocket implements LiveSocket {
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
function connect(on: Instance, recorder: Recorder | null, timelineRooms?: Set<string>, timeoutMs = 30_000): Promise<SocketIoSocket> {
  const socket = io(on.baseUrl, { transports: [NativeWebSocketTransport], forceNew: true, reconnection: false, timeout: timeoutMs });
  const wrapped = new SocketIoSocket(socket, recorder, timelineRooms);
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(wrapped));
    socket.once("connect_error", (err) => {
      socket.disconnect();
      reject(new Error(`Socket.IO on ${on.name} did not connect: ${err.message}`));
    });
  });
}

/**
 * Bundles the server for Node into `workDir` (packages stay external and resolve through a link to
 * the repository's node_modules) and starts instances `a` and `b` on the same Redis.
 */
export async function startSocketIo(opts: { redisUrl: string; logDir: string; workDir: string }): Promise<Baseline> {
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

  const start = async (name: string): Promise<Instance> => {
    const port = freePort();
    const child = spawnChild(`socketio-${name}`, [node, entry], {
      env: { SIO_PORT: String(port), SIO_REDIS_URL: opts.redisUrl },
      logDir: opts.logDir,
      cwd: outdir,
    });
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitHttp(`${baseUrl}/health`, child, 30_000);
    return { name, baseUrl, wsUrl: `ws://127.0.0.1:${port}`, child };
  };
  const a = await start("a");
  const b = await start("b");
  return {
    kind: "socket.io",
    a,
    b,
    idle: (on) => connect(on, null),
    async watch(on, _user, room, recorder, timelineRooms) {
      const socket = await connect(on, recorder, timelineRooms);
      const ack = await socket.request({ type: "subscribe", room });
      if (ack.type !== "ack") throw new Error(`Socket.IO subscribe ${room}: ${JSON.stringify(ack)}`);
      return socket;
    },
    publish: (plan) => publishPlan(a, plan),
    async stop() {
      await Promise.all([a.child.stop(), b.child.stop()]);
    },
  };
}
