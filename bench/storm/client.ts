/**
 * The storm bench's client: one app socket watching one room, kept as lean as the live bench's
 * (Bun's WebSocket, event frames picked apart without JSON.parse) so one process can hold
 * thousands. It follows the room's (epoch, offset) and checks every event against it: the next
 * offset is counted, a repeat is a duplicate, a jump is a gap. Tickets come from REST on the
 * instance it connects to.
 */

export interface RoomPosition {
  epoch: string | null;
  offset: number;
}

export interface StormTally {
  events: number;
  duplicates: number;
  gaps: number;
  resets: number;
  errors: string[];
}

const EVENT_PREFIX = '{"type":"event"';
const EPOCH_KEY = '"epoch":';
const OFFSET_KEY = '"offset":';

/** `(epoch, offset)` of an event frame; the app writes room, epoch, offset first (connection.ts). */
function positionOf(data: string): RoomPosition {
  const e = data.indexOf(EPOCH_KEY) + EPOCH_KEY.length;
  const epoch = data.startsWith("null", e) ? null : data.slice(e + 1, data.indexOf('"', e + 1));
  const o = data.indexOf(OFFSET_KEY, e) + OFFSET_KEY.length;
  let offset = 0;
  for (let i = o; i < data.length; i++) {
    const c = data.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    offset = offset * 10 + c;
  }
  return { epoch, offset };
}

type Frame = { type: string; id?: string; [k: string]: unknown };

/** Opens an app socket with a fresh ticket; resolves after `hello`. */
export async function openAppSocket(baseUrl: string, wsUrl: string, token: string, onFrame: (data: string) => void, timeoutMs: number): Promise<WebSocket> {
  const res = await fetch(`${baseUrl}/api/realtime/tickets`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 201) throw new Error(`ticket: ${res.status} ${(await res.text()).slice(0, 200)}`);
  const { ticket } = (await res.json()) as { ticket: string };
  const ws = new WebSocket(`${wsUrl}/ws?ticket=${encodeURIComponent(ticket)}`);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      ws.close();
      reject(new Error(`no hello within ${timeoutMs} ms`));
    }, timeoutMs);
    const first = (ev: MessageEvent) => {
      const data = String(ev.data);
      if (!data.startsWith('{"type":"hello"')) return;
      clearTimeout(t);
      ws.removeEventListener("message", first);
      ws.addEventListener("message", (m) => onFrame(String(m.data)));
      resolve(ws);
    };
    ws.addEventListener("message", first);
    ws.addEventListener("close", (ev) => {
      clearTimeout(t);
      reject(new Error(`closed ${ev.code} before hello`));
    });
  });
}

/** One watcher of one room that can lose its instance and resume on another. */
export class StormClient {
  ws: WebSocket | null = null;
  position: RoomPosition | null = null;
  /** Set when the socket closes; the reconnect logic reads it. */
  lostAt: number | null = null;
  private pending: ((f: Frame) => void) | null = null;
  private onLost: (() => void) | null = null;
  private caughtUpTarget = Number.POSITIVE_INFINITY;
  private onCaughtUp: (() => void) | null = null;

  constructor(
    readonly token: string,
    readonly room: string,
    private readonly tally: StormTally,
  ) {}

  private onFrame = (data: string) => {
    if (data.startsWith(EVENT_PREFIX)) {
      const p = positionOf(data);
      this.tally.events++;
      const cur = this.position;
      if (cur && cur.epoch === p.epoch) {
        if (p.offset <= cur.offset) {
          this.tally.duplicates++;
          return;
        }
        if (p.offset > cur.offset + 1) this.tally.gaps++;
      } else if (cur && !(cur.epoch === null && p.offset === cur.offset + 1)) {
        // A room's first numbering starts after a position without one; any other new numbering
        // must be announced by a reset first.
        this.tally.gaps++;
      }
      this.position = p;
      if (p.offset >= this.caughtUpTarget) this.reached();
      return;
    }
    const frame = JSON.parse(data) as Frame;
    if (frame.type === "snapshot") this.position = { epoch: (frame.epoch as string | null) ?? null, offset: Number(frame.offset) };
    else if (frame.type === "reset") {
      this.tally.resets++;
      this.position = { epoch: (frame.epoch as string | null) ?? null, offset: Number(frame.latestOffset) };
    } else if (frame.type === "error" && !frame.id) this.tally.errors.push(`${frame.code}: ${String(frame.message)}`);
    if (frame.id && this.pending) {
      const p = this.pending;
      this.pending = null;
      p(frame);
    }
  };

  /** Ticket, upgrade, subscribe: from the last position when there is one, else by snapshot. */
  async connect(baseUrl: string, wsUrl: string, timeoutMs: number): Promise<void> {
    const ws = await openAppSocket(baseUrl, wsUrl, this.token, this.onFrame, timeoutMs);
    this.ws = ws;
    this.lostAt = null;
    ws.addEventListener("close", () => {
      this.lostAt = Date.now();
      this.ws = null;
      this.pending?.({ type: "error", code: "CLOSED" });
      this.pending = null;
      this.onLost?.();
    });
    const resume = this.position ? { lastOffset: this.position.offset, ...(this.position.epoch ? { epoch: this.position.epoch } : {}) } : {};
    const ack = await new Promise<Frame>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no subscribe ack within ${timeoutMs} ms`)), timeoutMs);
      this.pending = (f) => {
        clearTimeout(t);
        resolve(f);
      };
      ws.send(JSON.stringify({ type: "subscribe", id: "s", room: this.room, ...resume }));
    });
    if (ack.type !== "ack") throw new Error(`subscribe: ${JSON.stringify(ack).slice(0, 200)}`);
  }

  /** Resolves once the socket closed (immediately if it already has). */
  lost(): Promise<void> {
    if (!this.ws) return Promise.resolve();
    return new Promise((resolve) => (this.onLost = resolve));
  }

  /** Resolves once an event at or past `offset` arrived (immediately if one has). */
  caughtUp(offset: number): Promise<void> {
    if ((this.position?.offset ?? -1) >= offset) return Promise.resolve();
    this.caughtUpTarget = offset;
    return new Promise((resolve) => (this.onCaughtUp = resolve));
  }

  private reached() {
    this.caughtUpTarget = Number.POSITIVE_INFINITY;
    const done = this.onCaughtUp;
    this.onCaughtUp = null;
    done?.();
  }

  close() {
    this.ws?.close(1000, "bench done");
  }
}
