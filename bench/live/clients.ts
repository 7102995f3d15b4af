/**
 * WebSocket clients of the live bench, shared by the app and the relay runs so both are measured
 * by the same code: a socket that answers request/ack pairs, and a recorder that timestamps every
 * event frame a watcher receives (fan-out latency = receive time − the frame's `at`).
 */

export type Frame = { type: string; id?: string; [k: string]: unknown };

/** What the watchers of one run saw. */
export interface Recorder {
  /** Event frames received by all watchers. */
  events: number;
  /** Receive − `at` (ms) of every `message.delta` frame. */
  latencies: number[];
  firstMs: number;
  lastMs: number;
  /** Receive time (epoch ms) of every event frame, for the peak-window rate. */
  times: number[];
  /** Per room, as seen by its first watcher: `at` (epoch ms), frame bytes and event name of each event. */
  timelines: Map<string, { at: number; bytes: number; event: string }[]>;
  /**
   * Set for a run whose watchers check each event frame's offset (the app's frames only): per
   * watcher and room, a frame whose offset is not the last one's + 1 is a gap, one at or below it
   * a duplicate. A room's first frame sets the start (count the frames to catch a gap before it).
   */
  offsets?: { gaps: number; duplicates: number };
}

export function newRecorder(checkOffsets = false): Recorder {
  return {
    events: 0,
    latencies: [],
    firstMs: Number.POSITIVE_INFINITY,
    lastMs: 0,
    times: [],
    timelines: new Map(),
    ...(checkOffsets ? { offsets: { gaps: 0, duplicates: 0 } } : {}),
  };
}

const EVENT_PREFIX = '{"type":"event"';
const AT_KEY = '"at":"';
const EVENT_KEY = '"event":"';
const OFFSET_KEY = '"offset":';

/** The `offset` of an app's event frame (its first `"offset":`, before the payload). */
export function offsetOf(data: string): number {
  const k = data.indexOf(OFFSET_KEY) + OFFSET_KEY.length;
  let value = 0;
  for (let i = k; i < data.length; i++) {
    const digit = data.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * Event frames are picked apart without JSON.parse: `at` is their last key and `event` a plain
 * word, and both runs pay the same (small) client cost, so the client saturates as late as possible.
 */
export function inspectEvent(data: string): { at: number; event: string } {
  const a = data.lastIndexOf(AT_KEY);
  const at = Date.parse(data.slice(a + AT_KEY.length, a + AT_KEY.length + 24));
  const e = data.indexOf(EVENT_KEY);
  const end = data.indexOf('"', e + EVENT_KEY.length);
  return { at, event: data.slice(e + EVENT_KEY.length, end) };
}

/** What the scenarios need of a client socket, whichever protocol it speaks. */
export interface LiveSocket {
  readonly done: Set<string>;
  readonly closed: { code: number; reason: string } | null;
  readonly errors: Frame[];
  /** Sends a request; resolves with its ack or error frame. */
  request(frame: Record<string, unknown>, timeoutMs?: number): Promise<Frame>;
  /** Resolves when `message.completed` arrived in `room` (or the socket closed). */
  completed(room: string): Promise<void>;
  close(): void;
}

/**
 * Counts one event frame a watcher received, and tracks which rooms completed. Shared by every
 * client so the app and both baselines are timed by the same code; `room` is read only when needed.
 */
export class EventTally {
  readonly done = new Set<string>();
  private readonly doneWaiters = new Map<string, () => void>();
  // Room → the last event offset this socket saw, when the run checks offsets.
  private readonly lastOffsets: Map<string, number> | null;

  constructor(
    private readonly recorder: Recorder | null,
    /** Rooms whose timeline this socket records (it is their first watcher). */
    private readonly timelineRooms: Set<string> = new Set(),
  ) {
    this.lastOffsets = recorder?.offsets ? new Map() : null;
  }

  /** True when the run checks every event frame's offset (`Recorder.offsets`). */
  get checksOffsets(): boolean {
    return this.lastOffsets !== null;
  }

  /** Counts a gap or a duplicate against the last offset this socket saw in `room`. */
  offset(room: string, offset: number) {
    const counts = this.recorder?.offsets;
    if (!this.lastOffsets || !counts) return;
    const last = this.lastOffsets.get(room);
    if (last !== undefined) {
      if (offset <= last) counts.duplicates++;
      else if (offset !== last + 1) counts.gaps++;
    }
    if (last === undefined || offset > last) this.lastOffsets.set(room, offset);
  }

  event(at: number, event: string, room: () => string, bytes: number) {
    const r = this.recorder;
    if (r) {
      const now = Date.now();
      r.events++;
      r.times.push(now);
      if (now < r.firstMs) r.firstMs = now;
      if (now > r.lastMs) r.lastMs = now;
      if (event === "message.delta") r.latencies.push(now - at);
      if (this.timelineRooms.size > 0) {
        const name = room();
        if (this.timelineRooms.has(name)) {
          const t = r.timelines.get(name) ?? [];
          r.timelines.set(name, t);
          t.push({ at, bytes, event });
        }
      }
    }
    if (event === "message.completed") {
      const name = room();
      this.done.add(name);
      this.doneWaiters.get(name)?.();
      this.doneWaiters.delete(name);
    }
  }

  completed(room: string, closed: boolean): Promise<void> {
    if (this.done.has(room) || closed) return Promise.resolve();
    return new Promise((resolve) => this.doneWaiters.set(room, resolve));
  }

  /** The socket closed: nobody waits for a room any more. */
  closeAll() {
    for (const d of this.doneWaiters.values()) d();
    this.doneWaiters.clear();
  }
}

/** A plain WebSocket speaking the app's (and the Bun relay's) JSON frames. */
export class BenchSocket implements LiveSocket {
  private readonly waiters = new Map<string, (f: Frame) => void>();
  private readonly typeWaiters: { type: string; resolve: (f: Frame) => void }[] = [];
  // Frames nobody waited for yet (`hello` can arrive before its waiter is registered).
  private readonly unclaimed: Frame[] = [];
  private readonly tally: EventTally;
  closed: { code: number; reason: string } | null = null;
  private nextId = 0;
  errors: Frame[] = [];

  constructor(
    readonly ws: WebSocket,
    recorder: Recorder | null,
    timelineRooms?: Set<string>,
  ) {
    this.tally = new EventTally(recorder, timelineRooms);
    ws.addEventListener("message", (ev) => this.onMessage(typeof ev.data === "string" ? ev.data : String(ev.data)));
    ws.addEventListener("close", (ev) => {
      this.closed = { code: ev.code, reason: ev.reason };
      for (const w of this.waiters.values()) w({ type: "error", code: "CLOSED", message: `closed ${ev.code} ${ev.reason}` });
      this.waiters.clear();
      this.tally.closeAll();
    });
  }

  get done(): Set<string> {
    return this.tally.done;
  }

  private onMessage(data: string) {
    if (data.startsWith(EVENT_PREFIX)) {
      if (this.tally.checksOffsets) this.tally.offset(roomOf(data), offsetOf(data));
      const { at, event } = inspectEvent(data);
      this.tally.event(at, event, () => roomOf(data), data.length);
      return;
    }
    const frame = JSON.parse(data) as Frame;
    if (frame.type === "error") this.errors.push(frame);
    if (frame.id && this.waiters.has(frame.id)) {
      this.waiters.get(frame.id)?.(frame);
      this.waiters.delete(frame.id);
      return;
    }
    const i = this.typeWaiters.findIndex((w) => w.type === frame.type);
    if (i >= 0) {
      const [w] = this.typeWaiters.splice(i, 1);
      w?.resolve(frame);
    } else if (this.unclaimed.length < 16) this.unclaimed.push(frame);
  }

  /** Sends a frame with a fresh id; resolves with its ack or error frame. */
  request(frame: Record<string, unknown>, timeoutMs = 30_000): Promise<Frame> {
    const id = `r${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(id);
        reject(new Error(`no answer to ${String(frame.type)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(id, (f) => {
        clearTimeout(t);
        resolve(f);
      });
      this.ws.send(JSON.stringify({ ...frame, id }));
    });
  }

  /** Resolves with the next frame of `type` (e.g. `hello`). */
  nextOfType(type: string, timeoutMs = 30_000): Promise<Frame> {
    const k = this.unclaimed.findIndex((f) => f.type === type);
    if (k >= 0) return Promise.resolve(this.unclaimed.splice(k, 1)[0] as Frame);
    if (this.closed) return Promise.reject(new Error(`closed ${this.closed.code} ${this.closed.reason} before ${type}`));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${type} frame within ${timeoutMs} ms`)), timeoutMs);
      this.typeWaiters.push({
        type,
        resolve: (f) => {
          clearTimeout(t);
          resolve(f);
        },
      });
    });
  }

  completed(room: string): Promise<void> {
    return this.tally.completed(room, this.closed !== null);
  }

  close() {
    closeQuietly(this.ws);
  }
}

/** Closes a socket normally; one that is already closed is left alone. */
export function closeQuietly(ws: WebSocket): void {
  try {
    ws.close(1000, "bench done");
  } catch {
    // already closed
  }
}

export function roomOf(data: string): string {
  const k = data.indexOf('"room":"');
  return data.slice(k + 8, data.indexOf('"', k + 8));
}

/** Opens a WebSocket and resolves once it is open. */
export function openSocket(url: string, recorder: Recorder | null, timelineRooms?: Set<string>, timeoutMs = 30_000): Promise<BenchSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const socket = new BenchSocket(ws, recorder, timelineRooms);
    const t = setTimeout(() => {
      ws.close();
      reject(new Error(`WebSocket ${url.replace(/ticket=.*/, "ticket=…")} did not open within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.addEventListener(
      "open",
      () => {
        clearTimeout(t);
        resolve(socket);
      },
      { once: true },
    );
    ws.addEventListener(
      "error",
      () => {
        clearTimeout(t);
        reject(new Error(`WebSocket ${url.replace(/ticket=.*/, "ticket=…")} failed to open`));
      },
      { once: true },
    );
  });
}

/** Runs `fn` over `items` with at most `limit` in flight; rejects on the first failure. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Nearest-rank percentile of unsorted samples (NaN when empty). */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

/**
 * The highest rate (per second) over any `windowMs` window of `times` (epoch ms). Unlike first-to-
 * last averaging it is not diluted by ramp-up (turns starting one by one) or a straggler's tail.
 */
export function peakRate(times: readonly number[], windowMs: number): number {
  if (times.length === 0) return Number.NaN;
  const sorted = Float64Array.from(times).sort();
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] ?? 0) - (sorted[lo] ?? 0) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  const span = (sorted[sorted.length - 1] ?? 0) - (sorted[0] ?? 0);
  // A burst shorter than the window is rated over its own length (at least 1 ms per frame span).
  return (best / Math.max(Math.min(windowMs, span), 1)) * 1000;
}

/** Resolves when every promise settled or `timeoutMs` passed; returns how many settled. */
export async function settleWithin(promises: Promise<unknown>[], timeoutMs: number): Promise<number> {
  let settled = 0;
  const all = Promise.all(
    promises.map((p) =>
      p.then(
        () => settled++,
        () => settled++,
      ),
    ),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
  clearTimeout(timer);
  return settled;
}
