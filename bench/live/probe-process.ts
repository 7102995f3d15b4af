/**
 * The probe's process (probe.ts): opens PROBE_SPEC's sockets with the bench's own client code,
 * prints `ready`, and when its stdin ends (after a line with the grace in ms) waits for its rooms'
 * `message.completed` up to that grace, then writes what its watchers saw as JSON to PROBE_OUT.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { type LiveSocket, newRecorder, pool, settleWithin } from "./clients.ts";
import { watchLoopDelay } from "./loop-delay.ts";
import type { ProbeResult, ProbeSpec } from "./probe.ts";
import { socketIoConnect } from "./socketio.ts";
import { appSocket, relaySocket, subscribeTo } from "./targets.ts";

const specFile = process.env.PROBE_SPEC;
const out = process.env.PROBE_OUT;
if (!specFile || !out) throw new Error("PROBE_SPEC and PROBE_OUT are required");
const spec = JSON.parse(readFileSync(specFile, "utf8")) as ProbeSpec;
const recorder = newRecorder();

async function open(token: string | null): Promise<LiveSocket> {
  if (spec.kind === "app") {
    if (!token) throw new Error("app sockets need a user");
    return appSocket(spec.on, { token }, recorder);
  }
  if (spec.kind === "relay") return relaySocket(spec.on, recorder);
  return socketIoConnect(process.env.BENCH_LIVE_SIO_CLIENT === "socket.io-client" ? "socket.io-client" : "wire")(spec.on, recorder);
}

const sockets = await pool(spec.sockets, 8, async (s) => subscribeTo(await open(s.token), s.room, `probe ${spec.on.name}`));
const loop = watchLoopDelay();
process.stdout.write("ready\n");
const grace = Number((await Bun.stdin.text()).trim()) || 10_000;
await settleWithin(
  sockets.map((s, i) => s.completed(spec.sockets[i]?.room ?? "")),
  grace,
);
const result: ProbeResult = {
  sockets: sockets.length,
  events: recorder.events,
  latencies: recorder.latencies,
  incomplete: sockets.filter((s, i) => !s.done.has(spec.sockets[i]?.room ?? "")).length,
  loopDelay: loop.stop(),
};
for (const s of sockets) s.close();
writeFileSync(out, JSON.stringify(result));
process.exit(0);
