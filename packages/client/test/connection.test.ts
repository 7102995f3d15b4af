import { afterEach, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { createClient, type RealtimeClient } from "../src/index.ts";
import { eventually } from "./helpers.ts";

const USER = "b6960000-0000-4000-8000-000000000001";

/**
 * A stand-in server on a real socket for what the app cannot be made to do on demand: refuse
 * tickets for a while (as during a Redis outage) and close with a chosen code after `hello`.
 */
function fakeServer(opts: { failTickets: number; closeWith?: number }) {
  let ticketCalls = 0;
  let sockets = 0;
  const server: Server<unknown> = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req, srv) {
      const url = new URL(req.url);
      if (url.pathname === "/api/realtime/tickets") {
        ticketCalls++;
        if (ticketCalls <= opts.failTickets) {
          return Response.json({ error: { code: "UNAVAILABLE", message: "store down", requestId: "r" } }, { status: 503 });
        }
        return Response.json({ ticket: `t${ticketCalls}`, expiresAt: new Date().toISOString(), url: `/ws?ticket=t${ticketCalls}` }, { status: 201 });
      }
      if (url.pathname === "/ws" && srv.upgrade(req, { data: undefined })) return undefined;
      return new Response("not found", { status: 404 });
    },
    websocket: {
      open(ws) {
        sockets++;
        ws.send(JSON.stringify({ type: "hello", protocolVersion: 1, connectionId: "c", userId: USER, limits: {} }));
        if (opts.closeWith) ws.close(opts.closeWith, "bye");
      },
      message() {},
    },
  });
  return { server, baseUrl: `http://127.0.0.1:${server.port}`, ticketCalls: () => ticketCalls, sockets: () => sockets };
}

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

function start(baseUrl: string, extra: { policyBackoffMs?: number } = {}): RealtimeClient {
  const client = createClient({ baseUrl, getToken: () => "token", backoff: { initialMs: 5, maxMs: 40 }, ...extra });
  cleanup.push(() => client.disconnect());
  client.connect();
  return client;
}

describe("connection handling", () => {
  test("failed ticket requests are retried with backoff until the socket is live", async () => {
    const fake = fakeServer({ failTickets: 4 });
    cleanup.push(() => fake.server.stop(true));
    const client = start(fake.baseUrl);
    const seen: string[] = [];
    client.connection.subscribe((s) => seen.push(s.status));
    await eventually(() => client.connection.get().status === "live", "the connection to be live");
    expect(fake.ticketCalls()).toBe(5);
    expect(seen).toContain("offline");
    expect(client.connection.get()).toMatchObject({ userId: USER, attempt: 0, lastError: null });
  });

  test("4001 signs out and stops reconnecting", async () => {
    const fake = fakeServer({ failTickets: 0, closeWith: 4001 });
    cleanup.push(() => fake.server.stop(true));
    const client = start(fake.baseUrl);
    await eventually(() => client.connection.get().status === "signed-out", "signed-out");
    // A send made while signed out waits for the next connect(); that one is refused with 4001 too.
    const outcome = client.sendMessage({ sessionId: USER, content: "hello" }).then(
      () => "sent",
      (e: Error) => e.name,
    );
    expect(fake.ticketCalls()).toBe(1);
    client.connect();
    expect(await outcome).toBe("RealtimeError");
    expect(client.connection.get().status).toBe("signed-out");
    expect(fake.ticketCalls()).toBe(2);
  });

  test("4012 and 4008 reconnect and resume; 1008 waits at least the policy backoff", async () => {
    for (const code of [4012, 4008]) {
      const fake = fakeServer({ failTickets: 0, closeWith: code });
      cleanup.push(() => fake.server.stop(true));
      start(fake.baseUrl);
      await eventually(() => fake.sockets() >= 3, `reconnects after ${code}`);
    }
    const flood = fakeServer({ failTickets: 0, closeWith: 1008 });
    cleanup.push(() => flood.server.stop(true));
    const client = start(flood.baseUrl, { policyBackoffMs: 60_000 });
    await eventually(() => client.connection.get().lastError?.startsWith("closed 1008"), "the 1008 close");
    expect(client.connection.get().status).toBe("offline");
    expect(flood.ticketCalls()).toBe(1);
  });
});
