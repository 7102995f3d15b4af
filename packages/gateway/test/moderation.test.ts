import { afterAll, describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { createDevModelApp, createModerationClient, GatewayError, parseGuardReply, type ModerationMode } from "../src/index.ts";

const devApp = new Hono().route("/v1", createDevModelApp({ tokensPerSecond: 0 }));
// The dev model in process, and over a real socket (the client's own connections).
const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: devApp.fetch });
afterAll(() => server.stop(true));
const clients = {
  "in process": createModerationClient({ baseUrl: "http://dev-model.test/v1", fetch: (url, init) => Promise.resolve(devApp.request(url, init)) }),
  "over a socket": createModerationClient({ baseUrl: `http://127.0.0.1:${server.port}/v1` }),
};
const MODEL: Record<ModerationMode, string> = { moderations: "dev-moderation", "chat-guard": "dev-guard" };

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
}

const suites = (["moderations", "chat-guard"] as const).flatMap((mode) => (["in process", "over a socket"] as const).map((via) => [mode, via] as const));
describe.each(suites)("moderation client, %s mode, against the dev model %s", (mode, via) => {
  const client = clients[via];
  const moderate = (input: string, signal?: AbortSignal) => client.moderate({ model: MODEL[mode], mode, input, signal });

  test("text without markers is clean", async () => {
    const res = await moderate("I want to kill the process on port 3000");
    expect(res.flagged).toBe(false);
    expect(Object.values(res.categories).some(Boolean)).toBe(false);
  });

  test("a marker flags its category in OpenAI's vocabulary", async () => {
    const res = await moderate("hello [mod:self-harm]");
    expect(res.flagged).toBe(true);
    expect(res.categories["self-harm"]).toBe(true);
    expect(res.scores["self-harm"]).toBeGreaterThanOrEqual(0.9);
    expect(res.categories.violence ?? false).toBe(false);
  });

  test("sexual/minors is reported as such", async () => {
    const res = await moderate("[mod:sexual/minors]");
    expect(res.categories["sexual/minors"]).toBe(true);
  });

  test("a 500 is an UPSTREAM_ERROR, not a verdict", async () => {
    const err = await failure(moderate("[mod:error]"));
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe("UPSTREAM_ERROR");
  });

  test("a malformed answer is an UPSTREAM_ERROR marked malformed", async () => {
    const err = await failure(moderate("[mod:malformed]"));
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).details).toMatchObject({ malformed: true });
  });

  test("a slow model is abandoned when the caller's budget runs out", async () => {
    const started = Date.now();
    const err = await failure(moderate("[mod:slow]", AbortSignal.timeout(100)));
    expect((err as Error).name).toBe("TimeoutError");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test("an unknown model is MODEL_UNAVAILABLE", async () => {
    const err = await failure(client.moderate({ model: "no-such-model", mode, input: "hi" }));
    expect((err as GatewayError).code).toBe("MODEL_UNAVAILABLE");
  });
});

describe("moderation parsing", () => {
  test("the dev endpoint honours an explicit score", async () => {
    const res = await clients["over a socket"].moderate({ model: "dev-moderation", mode: "moderations", input: "[mod:violence=0.6]" });
    expect(res.scores.violence).toBe(0.6);
  });

  test("guard replies: codes map to OpenAI names; unsafe without a code is still unsafe", () => {
    expect(parseGuardReply("safe", "g")).toMatchObject({ flagged: false });
    expect(parseGuardReply("unsafe\nS11,S4", "g").categories).toEqual({ "self-harm": true, "sexual/minors": true });
    expect(parseGuardReply(" unsafe ", "g")).toMatchObject({ flagged: true, categories: { "guard/unspecified": true } });
    expect(() => parseGuardReply("maybe", "g")).toThrow(GatewayError);
  });

  test("the dev endpoint refuses a bad body with OpenAI's 400", async () => {
    const res = await devApp.request("/v1/moderations", { method: "POST", body: '{"model":1}' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
  });
});
