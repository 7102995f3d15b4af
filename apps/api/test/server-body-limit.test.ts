import { beforeAll, describe, expect, test } from "bun:test";
import { makeGroup, makeUser } from "@raptscallions/db/testing";
import type { Server } from "bun";
import { bunServeOptions } from "../src/bun-serve.ts";
import { attachServer } from "../src/realtime/bun.ts";
import { authHeader } from "./helpers/auth.ts";
import { useHarness } from "./helpers/harness.ts";

/**
 * With the production `Bun.serve` options, an over-size body is answered by the app's own limit
 * in the error envelope — never by Bun's bare, empty 413 — whatever the path, with or without a
 * Content-Length.
 */
const h = useHarness({ deps: (base) => ({ config: { ...base.config, bodyLimitBytes: 1024 * 1024, uploadLimitBytes: 2 * 1024 * 1024 } }) });
let server: Server<unknown>;
let base: string;
let admin: Record<string, string>;
let groupId: string;
const TWENTY_MB = 20 * 1024 * 1024;

beforeAll(async () => {
  const { app, deps } = h;
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", ...bunServeOptions(app, deps) }) as Server<unknown>;
  attachServer(app.realtime, server as never);
  base = `http://127.0.0.1:${server.port}`;
  const user = await makeUser(h.db.db, { isSystemAdmin: true });
  admin = await authHeader(user);
  groupId = (await makeGroup(h.db.db)).id;
}, 60_000);
h.beforeClose(async () => {
  server.stop(true);
});

async function expect413(res: Response) {
  const text = await res.text();
  expect(res.status).toBe(413);
  const body = JSON.parse(text) as { error: { code: string; requestId: string } };
  expect(body.error.code).toBe("PAYLOAD_TOO_LARGE");
  expect(body.error.requestId).toBeString();
}

function chunked(bytes: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      controller.enqueue(new Uint8Array(1024 * 1024).fill(0x20));
      sent += 1024 * 1024;
    },
  });
}

describe("Bun never answers a body before the app", () => {
  test("20 MB to a JSON route, an unknown path and the upload route: 413 in the envelope", async () => {
    const body = new Uint8Array(TWENTY_MB).fill(0x20);
    for (const [path, type] of [
      [`/api/groups/${groupId}`, "application/json"],
      ["/no/such/path", "application/json"],
      [`/api/groups/${groupId}/theme/assets`, "multipart/form-data; boundary=x"],
    ] as const) {
      const method = path.startsWith("/api/groups/") && !path.endsWith("assets") ? "PATCH" : "POST";
      await expect413(await fetch(`${base}${path}`, { method, headers: { ...admin, "content-type": type }, body }));
    }
  }, 60_000);

  test("20 MB streamed without a Content-Length: 413 in the envelope", async () => {
    await expect413(
      await fetch(`${base}/api/groups/${groupId}`, { method: "PATCH", headers: { ...admin, "content-type": "application/json" }, body: chunked(TWENTY_MB) }),
    );
  }, 60_000);

  test("a body within the limit still reaches its route", async () => {
    const res = await fetch(`${base}/api/groups/${groupId}`, {
      method: "PATCH",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ settings: { note: "x".repeat(500_000) } }),
    });
    expect(res.status).toBe(200);
  }, 30_000);
});
