import { authHeader } from "./auth.ts";

/**
 * The one way tests reach `/ws`: a ticket over authenticated REST, then a socket on that ticket
 * that records every frame and waits for the ones a test expects. Deliberately raw clients (a
 * paused TCP reader, the product's own client) live elsewhere: raw-ws.ts, packages/client.
 */

/** A server frame as the tests read it: its `type` and whatever else it carries. */
export type Frame = { type: string; [k: string]: unknown };

/** A WebSocket client that records every frame and can wait for one matching a predicate. */
export class TestClient {
  readonly frames: Frame[] = [];
  private waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  closed: { code: number; reason: string } | null = null;
  private closeWaiters: ((c: { code: number; reason: string }) => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (ev) => {
      const frame = JSON.parse(String(ev.data)) as Frame;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    ws.addEventListener("close", (ev) => {
      this.closed = { code: ev.code, reason: ev.reason };
      for (const w of this.closeWaiters) w(this.closed);
    });
  }

  send(frame: Record<string, unknown>) {
    this.ws.send(JSON.stringify(frame));
  }

  /** Resolves with the first frame (already received or future) matching `pred`. */
  next(pred: (f: Frame) => boolean, timeoutMs = 5000, from = 0): Promise<Frame> {
    const found = this.frames.slice(from).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for a frame; got ${JSON.stringify(this.frames.slice(-5))}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(t);
          resolve(f);
        },
      });
    });
  }

  /** Sends a frame with an id and waits for its ack or error. */
  async request(frame: Record<string, unknown>, timeoutMs = 5000): Promise<Frame> {
    const id = crypto.randomUUID().slice(0, 12);
    const start = this.frames.length;
    this.send({ ...frame, id });
    return this.next((f) => (f.type === "ack" || f.type === "error" || f.type === "pong") && f.id === id, timeoutMs, start);
  }

  events(room?: string): Frame[] {
    return this.frames.filter((f) => f.type === "event" && (!room || f.room === room));
  }

  waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("socket did not close")), timeoutMs);
      this.closeWaiters.push((c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
  }

  close() {
    this.ws.close();
  }
}

/** Who asks for a ticket: a user row (signed with the test key), a token minted elsewhere, or nobody. */
export type TicketCaller = { clerkUserId: string | null } | { token: string } | null;

async function callerHeaders(who: TicketCaller): Promise<Record<string, string>> {
  if (who === null) return {};
  if ("token" in who) return { authorization: `Bearer ${who.token}` };
  return authHeader(who);
}

/** `POST /api/realtime/tickets` on an instance: the status and, when issued (201), the ticket ("" otherwise). */
export async function requestTicket(instance: { baseUrl: string }, who: TicketCaller): Promise<{ status: number; ticket: string; body: unknown }> {
  const res = await fetch(`${instance.baseUrl}/api/realtime/tickets`, { method: "POST", headers: await callerHeaders(who) });
  const text = await res.text();
  const body: unknown = text ? JSON.parse(text) : null;
  const ticket = res.status === 201 ? String((body as { ticket?: unknown }).ticket ?? "") : "";
  return { status: res.status, ticket, body };
}

/** Opens `/ws?ticket=` and waits for the server's `hello`. */
export async function openSocket(instance: { wsUrl: string }, ticket: string, helloTimeoutMs = 5000): Promise<TestClient> {
  const client = new TestClient(new WebSocket(`${instance.wsUrl}/ws?ticket=${ticket}`));
  await client.next((f) => f.type === "hello", helloTimeoutMs);
  return client;
}

/** Gets a ticket over authenticated REST and opens `/ws?ticket=` on the instance. */
export async function connect(instance: { baseUrl: string; wsUrl: string }, who: Exclude<TicketCaller, null>, helloTimeoutMs = 5000): Promise<TestClient> {
  const issued = await requestTicket(instance, who);
  if (issued.status !== 201) throw new Error(`ticket: ${issued.status} ${JSON.stringify(issued.body)}`);
  return openSocket(instance, issued.ticket, helloTimeoutMs);
}
