/**
 * A second reader of a run, in a process of its own: one extra watcher on every `every`-th room,
 * opened by bench/live/probe-process.ts with the same client code as the bench's own watchers.
 * The bench's client carries 800 watcher sockets (and, for the app, 200 students) on one loop, so
 * a frame that arrives during a burst is stamped only when that loop gets to it; the probe's loop
 * holds a few dozen sockets, so its figure is much less the reader's own queue. Every target gets
 * the same probe (the same rooms, one socket more on each), so its figures compare like for like.
 */
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LoopDelay } from "./loop-delay.ts";
import type { BenchUser } from "./scene.ts";
import { startSideProcess } from "./side-process.ts";
import type { Endpoint, TargetKind } from "./targets.ts";

/** What the probe process is asked to open: one socket per entry, subscribed to its room. */
export interface ProbeSpec {
  kind: TargetKind;
  on: Endpoint;
  sockets: { room: string; token: string | null }[];
}

/** What the probe's watchers saw. */
export interface ProbeResult {
  sockets: number;
  events: number;
  /** Receive − `at` (ms) of every `message.delta` its watchers saw. */
  latencies: number[];
  /** Watchers that had not seen their room's `message.completed` when stopped. */
  incomplete: number;
  loopDelay: LoopDelay;
}

/** The rooms the probe watches: every `every`-th (0: none). */
export function probedRooms<T>(rooms: readonly T[], every: number): { room: T; index: number }[] {
  if (every <= 0) return [];
  return rooms.flatMap((room, index) => (index % every === 0 ? [{ room, index }] : []));
}

/** Starts the probe process; resolves once every socket is subscribed. `stop()` waits for its rooms to complete (≤ `graceMs`). */
export async function startProbe(
  kind: TargetKind,
  on: Endpoint,
  rooms: readonly string[],
  every: number,
  userOf: (index: number) => BenchUser | null,
): Promise<{ stop(graceMs?: number): Promise<ProbeResult> } | null> {
  const picked = probedRooms(rooms, every);
  if (picked.length === 0) return null;
  const spec: ProbeSpec = {
    kind,
    on: { name: on.name, baseUrl: on.baseUrl, wsUrl: on.wsUrl },
    sockets: picked.map((p) => ({ room: p.room, token: userOf(p.index)?.token ?? null })),
  };
  const specFile = join(tmpdir(), `rapt-live-probe-${process.pid}-${crypto.randomUUID()}.spec.json`);
  writeFileSync(specFile, JSON.stringify(spec));
  try {
    const proc = await startSideProcess<ProbeResult>(join(import.meta.dir, "probe-process.ts"), "probe", { PROBE_SPEC: specFile }, "PROBE_OUT");
    return {
      async stop(graceMs = 10_000) {
        try {
          return await proc.stop(String(graceMs));
        } finally {
          rmSync(specFile, { force: true });
        }
      },
    };
  } catch (err) {
    rmSync(specFile, { force: true });
    throw err;
  }
}
