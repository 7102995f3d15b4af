import { afterAll, describe, expect, test } from "bun:test";
import { createDb, messages } from "@raptscallions/db";
import { eq } from "drizzle-orm";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevKeys, mintSessionToken } from "../src/auth/dev-keys.ts";

/**
 * The real entry point on its embedded defaults: started as a new user would, stopped with
 * SIGTERM while an answer streams. The answer is finished (not left `streaming`), the process
 * exits 0, and the data is still there for the next start.
 */
const apiDir = new URL("..", import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), "rapt-shutdown-"));

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function start() {
  const proc = Bun.spawn(["bun", "src/server.ts"], {
    cwd: apiDir,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, AI_DEV_TOKENS_PER_SECOND: "30", LOG_LEVEL: "info", DATABASE_URL: "", REDIS_URL: "" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = proc.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
    const m = /"msg":"listening".*?"url":"http:\/\/[^:]+:(\d+)"/.exec(out);
    if (m) {
      const logs = { text: out };
      void (async () => {
        for (;;) {
          const r = await reader.read();
          if (r.done) return;
          logs.text += new TextDecoder().decode(r.value);
        }
      })();
      return { proc, base: `http://127.0.0.1:${m[1]}`, logs };
    }
  }
  proc.kill("SIGKILL");
  throw new Error(`did not start: ${out.slice(-1500)}`);
}

describe("graceful shutdown on the embedded defaults", () => {
  test("SIGTERM finishes the streaming answer, exits 0, and a restart keeps the data", async () => {
    const keys = await loadOrCreateDevKeys(dataDir);
    const auth = { authorization: `Bearer ${await mintSessionToken(keys, { userId: "user_dev_student1" })}` };
    const first = await start();
    const tools = (await (await fetch(`${first.base}/api/tools`, { headers: auth })).json()) as { items: { id: string; kind: string }[] };
    // The seed holds a product tool too; a session needs a chat tool.
    const toolId = tools.items.find((t) => t.kind === "chat")?.id;
    expect(toolId).toBeDefined();
    const started = await fetch(`${first.base}/api/sessions`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ toolId }),
    });
    expect(started.status).toBe(201);
    const sessionId = ((await started.json()) as { session: { id: string } }).session.id;
    const sent = await fetch(`${first.base}/api/sessions/${sessionId}/messages`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ clientMessageId: "c1", content: "What is a cell?" }),
    });
    expect(sent.status).toBe(201);
    const answerId = ((await sent.json()) as { answer: { id: string } }).answer.id;
    await Bun.sleep(300);
    first.proc.kill("SIGTERM");
    expect(await first.proc.exited).toBe(0);
    expect(first.logs.text).toContain('"msg":"stopped"');

    // PGlite is single-process: the data directory opens only once the server let go of it.
    const db = await createDb({ dataDir: join(dataDir, "pg") });
    const [row] = await db.db.select().from(messages).where(eq(messages.id, answerId));
    await db.close();
    expect(row?.state).toBe("complete");
    expect(row?.content.length).toBeGreaterThan(0);

    const second = await start();
    const res = await fetch(`${second.base}/api/sessions/${sessionId}/messages`, { headers: auth });
    const items = ((await res.json()) as { items: { id: string; state: string | null }[] }).items;
    expect(items.find((m) => m.id === answerId)?.state).toBe("complete");
    second.proc.kill("SIGTERM");
    expect(await second.proc.exited).toBe(0);
  }, 120_000);
});
