import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createGatewayClient, GatewayError, Http1Agent, type GatewayClientOptions, type GatewayEvent } from "../src/index.ts";
import { chunk, SSE_HEAD, startRawUpstream, type RawUpstream } from "./raw-upstream.ts";
import { DONE, deltaLine, finishLine, usageLine } from "./scripted-upstream.ts";

const messages = [{ role: "user" as const, content: "Hi" }];
const servers: Array<{ stop(): void }> = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.stop();
});

function raw(handler: Parameters<typeof startRawUpstream>[0]): RawUpstream {
  const server = startRawUpstream(handler);
  servers.push(server);
  return server;
}

function client(baseUrl: string, agent: Http1Agent, overrides: Partial<GatewayClientOptions> = {}) {
  return createGatewayClient({ baseUrl, agent, firstTokenTimeoutMs: 5_000, idleTimeoutMs: 5_000, maxRetries: 0, retryBaseMs: 10, random: () => 1, ...overrides });
}

async function collect(stream: AsyncIterable<GatewayEvent>): Promise<{ text: string; events: GatewayEvent[]; error: unknown }> {
  const events: GatewayEvent[] = [];
  try {
    for await (const event of stream) events.push(event);
    return { text: events.map((e) => (e.type === "delta" ? e.text : "")).join(""), events, error: null };
  } catch (error) {
    return { text: events.map((e) => (e.type === "delta" ? e.text : "")).join(""), events, error };
  }
}

const answer = (text: string) => [deltaLine(text), finishLine(), usageLine(3, 1), DONE].join("");

/** Waits until `check` holds (a socket's close reaches the other side a loop turn later). */
async function until(check: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await Bun.sleep(5);
  }
}

describe("Http1Agent: bodies", () => {
  test("a chunked event stream, split across writes mid-frame, reads as the client's events", async () => {
    const server = raw(async (_req, conn) => {
      const body = `${chunk(deltaLine("Hello")) + chunk(deltaLine(" there")) + chunk(finishLine() + DONE)}0\r\n\r\n`;
      const bytes = SSE_HEAD + body;
      let sent = 0;
      // Cut inside the head, inside a chunk-size line, inside a frame and inside an event.
      for (const cut of [10, 70, 75, 200, bytes.length]) {
        conn.write(bytes.slice(sent, cut));
        sent = cut;
        await Bun.sleep(2);
      }
    });
    const agent = new Http1Agent();
    const { text, error, events } = await collect(client(server.url, agent).streamChat({ models: ["m"], messages }));
    expect(error).toBeNull();
    expect(text).toBe("Hello there");
    expect(events.at(-1)).toEqual({ type: "finish", reason: "stop" });
    expect(server.requests[0]?.head).toStartWith("POST /v1/chat/completions HTTP/1.1\r\n");
    expect(server.requests[0]?.head).toContain("connection: keep-alive");
    expect(JSON.parse(server.requests[0]?.body ?? "{}")).toMatchObject({ model: "m", stream: true });
  });

  test("a content-length body is read to its length, and the connection carries the next answer", async () => {
    const server = raw((_req, conn) => {
      const body = answer("sized");
      conn.write(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
    const agent = new Http1Agent();
    for (let i = 0; i < 3; i++) {
      const { text, error } = await collect(client(server.url, agent).streamChat({ models: ["m"], messages }));
      expect(error).toBeNull();
      expect(text).toBe("sized");
    }
    expect(server.connections).toHaveLength(1);
    expect(server.requests.map((r) => r.onConnection)).toEqual([1, 2, 3]);
  });

  test("a body that runs to the connection's close ends there", async () => {
    const server = raw((_req, conn) => {
      conn.write(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n${deltaLine("until close")}${finishLine()}`);
      conn.end();
    });
    const { text, error } = await collect(client(server.url, new Http1Agent()).streamChat({ models: ["m"], messages }));
    expect(error).toBeNull();
    expect(text).toBe("until close");
  });

  test("an error answer's body is read whole and its connection kept", async () => {
    const server = raw((req, conn) => {
      if (req.onConnection === 1) {
        const body = JSON.stringify({ error: { message: "slow down" } });
        conn.write(`HTTP/1.1 429 Too Many Requests\r\nretry-after: 7\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
      } else conn.write(`${SSE_HEAD + chunk(answer("second"))}0\r\n\r\n`);
    });
    const agent = new Http1Agent();
    const first = await collect(client(server.url, agent).streamChat({ models: ["m"], messages }));
    expect((first.error as GatewayError).code).toBe("RATE_LIMITED");
    expect((first.error as GatewayError).retryAfterSeconds).toBe(7);
    expect(first.error).toMatchObject({ details: { attempts: [{ status: 429, message: "slow down" }] } });
    const second = await collect(client(server.url, agent).streamChat({ models: ["m"], messages }));
    expect(second.text).toBe("second");
    expect(server.connections).toHaveLength(1);
  });
});

describe("Http1Agent: broken answers", () => {
  test("a server closing mid-stream (a truncated chunked body) fails after the first token", async () => {
    const server = raw((_req, conn) => {
      conn.write(`${SSE_HEAD + chunk(deltaLine("Half"))}40\r\ndata: {"choi`);
      conn.end();
    });
    const agent = new Http1Agent();
    const stream = client(server.url, agent, { maxRetries: 2 }).streamChat({ models: ["m"], messages });
    const { text, error } = await collect(stream);
    expect(text).toBe("Half");
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe("UPSTREAM_ERROR");
    expect((error as GatewayError).afterFirstToken).toBe(true);
    expect(stream.attempts.at(-1)?.message).toContain("closed before the answer ended");
    expect(server.requests).toHaveLength(1);
    expect(agent.stats(server.url).open).toBe(0);
  });

  test("a malformed status line is an UPSTREAM_ERROR, retried", async () => {
    const server = raw((_req, conn) => conn.write("HTTP/1.1 OK but not\r\n\r\n"));
    const stream = client(server.url, new Http1Agent(), { maxRetries: 1 }).streamChat({ models: ["m"], messages });
    const { error } = await collect(stream);
    expect((error as GatewayError).code).toBe("UPSTREAM_ERROR");
    expect(stream.attempts.map((a) => a.next)).toEqual(["retry", "stop"]);
    expect(stream.attempts[0]?.message).toContain("malformed HTTP answer");
  });

  test("a malformed header (a content-length that is not a number) is an UPSTREAM_ERROR", async () => {
    const server = raw((_req, conn) => conn.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: lots\r\n\r\ndata: x\n\n"));
    const stream = client(server.url, new Http1Agent()).streamChat({ models: ["m"], messages });
    const { error } = await collect(stream);
    expect((error as GatewayError).code).toBe("UPSTREAM_ERROR");
    expect(stream.attempts[0]?.message).toContain("HPE_INVALID_CONTENT_LENGTH");
  });

  test("a compressed body that was not asked for is refused, not parsed", async () => {
    const server = raw((_req, conn) => conn.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-encoding: gzip\r\ncontent-length: 3\r\n\r\nabc"));
    const stream = client(server.url, new Http1Agent()).streamChat({ models: ["m"], messages });
    const { error } = await collect(stream);
    expect((error as GatewayError).code).toBe("UPSTREAM_ERROR");
    expect(stream.attempts[0]?.message).toContain("encoded body (gzip)");
  });

  test("an unreadable chunk size ends the answer short (an UPSTREAM_ERROR) and the connection is not kept", async () => {
    const server = raw((_req, conn) => conn.write(`${SSE_HEAD}${chunk(deltaLine("Half"))}zz\r\n${deltaLine("rest")}\r\n`));
    const agent = new Http1Agent();
    const stream = client(server.url, agent).streamChat({ models: ["m"], messages });
    const { text, error } = await collect(stream);
    expect(text).toBe("Half");
    expect((error as GatewayError).code).toBe("UPSTREAM_ERROR");
    expect((error as GatewayError).afterFirstToken).toBe(true);
    await until(() => agent.stats(server.url).open === 0);
  });

  test("a kept connection the server dropped without answering is replaced once, unseen", async () => {
    const server = raw((req, conn) => {
      // Every connection answers once, then drops the next request unanswered.
      if (req.onConnection === 1) conn.write(`${SSE_HEAD + chunk(answer("ok"))}0\r\n\r\n`);
      else conn.end();
    });
    const agent = new Http1Agent();
    for (const expected of ["ok", "ok"]) {
      const { text, error } = await collect(client(server.url, agent).streamChat({ models: ["m"], messages }));
      expect(error).toBeNull();
      expect(text).toBe(expected);
    }
    expect(server.connections).toHaveLength(2);
    expect(server.requests.map((r) => r.onConnection)).toEqual([1, 2, 1]);
  });

  test("a refused connection is an UPSTREAM_ERROR naming the refusal", async () => {
    const server = raw(() => {});
    const url = server.url;
    server.stop();
    servers.length = 0;
    const stream = client(url, new Http1Agent()).streamChat({ models: ["m"], messages });
    const { error } = await collect(stream);
    expect((error as GatewayError).code).toBe("UPSTREAM_ERROR");
    expect(stream.attempts[0]?.message).toMatch(/ECONNREFUSED|refused/i);
  });
});

describe("Http1Agent: the pool", () => {
  test("aborting mid-stream closes the socket and frees its place", async () => {
    const server = raw((_req, conn) => conn.write(SSE_HEAD + chunk(deltaLine("Hi"))));
    const agent = new Http1Agent();
    const controller = new AbortController();
    const stream = client(server.url, agent).streamChat({ models: ["m"], messages, signal: controller.signal });
    let error: unknown = null;
    try {
      for await (const event of stream) if (event.type === "delta") controller.abort();
    } catch (err) {
      error = err;
    }
    expect((error as Error).name).toBe("AbortError");
    expect(agent.stats(server.url)).toEqual({ open: 0, idle: 0, waiting: 0 });
    await server.connections[0]?.closed;
    expect(server.connections[0]?.isClosed()).toBe(true);
  });

  test("the cap holds: answers beyond it wait for a connection, then take it", async () => {
    const release: Array<() => void> = [];
    const server = raw((_req, conn) => {
      conn.write(SSE_HEAD + chunk(deltaLine("go")));
      release.push(() => conn.write(`${chunk(finishLine() + DONE)}0\r\n\r\n`));
    });
    const agent = new Http1Agent({ maxConnectionsPerOrigin: 2 });
    const c = client(server.url, agent);
    const runs = [0, 1, 2].map(() => collect(c.streamChat({ models: ["m"], messages })));
    await until(() => release.length === 2);
    await until(() => agent.stats(server.url).waiting === 1);
    expect(agent.stats(server.url)).toEqual({ open: 2, idle: 0, waiting: 1 });
    release.shift()?.();
    await until(() => release.length === 2);
    for (const r of release.splice(0)) r();
    const results = await Promise.all(runs);
    expect(results.map((r) => r.text)).toEqual(["go", "go", "go"]);
    expect(server.connections).toHaveLength(2);
    expect(agent.stats(server.url)).toEqual({ open: 2, idle: 2, waiting: 0 });
  });

  test("an answer read to [DONE] keeps its connection when the body's end follows a moment later", async () => {
    const server = raw(async (_req, conn) => {
      conn.write(SSE_HEAD + chunk(answer("done first")));
      await Bun.sleep(30);
      conn.write("0\r\n\r\n");
    });
    const agent = new Http1Agent();
    for (let i = 0; i < 2; i++) {
      expect((await collect(client(server.url, agent).streamChat({ models: ["m"], messages }))).text).toBe("done first");
      await until(() => agent.stats(server.url).idle === 1);
    }
    expect(server.connections).toHaveLength(1);
  });

  test("an answer read to [DONE] whose body never ends gives its connection up after a second", async () => {
    const server = raw((_req, conn) => conn.write(SSE_HEAD + chunk(answer("no end"))));
    const agent = new Http1Agent();
    expect((await collect(client(server.url, agent).streamChat({ models: ["m"], messages }))).text).toBe("no end");
    expect(agent.stats(server.url)).toEqual({ open: 1, idle: 0, waiting: 0 });
    await until(() => agent.stats(server.url).open === 0, 3_000);
    await server.connections[0]?.closed;
  });

  test("a request waiting for a connection past its first-token time-out leaves the queue as UPSTREAM_TIMEOUT", async () => {
    const server = raw((_req, conn) => conn.write(SSE_HEAD + chunk(deltaLine("held"))));
    const agent = new Http1Agent({ maxConnectionsPerOrigin: 1 });
    const controller = new AbortController();
    const holding = collect(client(server.url, agent).streamChat({ models: ["m"], messages, signal: controller.signal }));
    await until(() => agent.stats(server.url).open === 1);
    const stream = client(server.url, agent, { firstTokenTimeoutMs: 100 }).streamChat({ models: ["m"], messages });
    const { error } = await collect(stream);
    expect((error as GatewayError).code).toBe("UPSTREAM_TIMEOUT");
    expect(agent.stats(server.url)).toEqual({ open: 1, idle: 0, waiting: 0 });
    controller.abort();
    await holding;
    expect(server.requests).toHaveLength(1);
  });

  test("idle connections are closed after idleMs", async () => {
    const server = raw((_req, conn) => conn.write(`${SSE_HEAD + chunk(answer("x"))}0\r\n\r\n`));
    const agent = new Http1Agent({ idleMs: 50 });
    await collect(client(server.url, agent).streamChat({ models: ["m"], messages }));
    expect(agent.stats(server.url).idle).toBe(1);
    await until(() => agent.stats(server.url).open === 0);
    await server.connections[0]?.closed;
  });
});

describe("Http1Agent over TLS", () => {
  const dir = join(import.meta.dir, "fixtures");
  const tlsServer = async () => {
    const [key, cert] = await Promise.all([Bun.file(join(dir, "localhost-key.pem")).text(), Bun.file(join(dir, "localhost-cert.pem")).text()]);
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      tls: { key, cert },
      fetch: async (req) => {
        const body = (await req.json()) as { model: string };
        return new Response(answer(`over tls to ${body.model}`), { headers: { "content-type": "text/event-stream" } });
      },
    });
    servers.push({ stop: () => void server.stop(true) });
    return { cert, port: server.port };
  };

  test("a self-signed server trusted through the agent's ca answers, by name (SNI) and kept alive", async () => {
    const { cert, port } = await tlsServer();
    const agent = new Http1Agent({ ca: cert });
    for (let i = 0; i < 2; i++) {
      const { text, error } = await collect(client(`https://localhost:${port}/v1`, agent).streamChat({ models: ["m"], messages }));
      expect(error).toBeNull();
      expect(text).toBe("over tls to m");
    }
    expect(agent.stats(`https://localhost:${port}/v1`)).toMatchObject({ open: 1, idle: 1 });
  });

  test("a certificate no trusted authority signed is an UPSTREAM_ERROR, nothing sent", async () => {
    const { port } = await tlsServer();
    const stream = client(`https://localhost:${port}/v1`, new Http1Agent()).streamChat({ models: ["m"], messages });
    const { error } = await collect(stream);
    expect((error as GatewayError).code).toBe("UPSTREAM_ERROR");
    expect(stream.attempts[0]?.message).toContain("TLS");
  });
});
