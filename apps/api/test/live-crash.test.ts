import { beforeAll, describe, expect, test } from "bun:test";
import { aiUsage, messages, runs } from "@raptscallions/db";
import { RedisLimitStore } from "@raptscallions/gateway";
import { makeSchoolScene, makeSession, makeTool, type SchoolScene } from "@raptscallions/db/testing";
import type { Subprocess } from "bun";
import { eq } from "drizzle-orm";
import Redis from "ioredis";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateDevKeys, mintSessionToken } from "../src/auth/dev-keys.ts";
import { useHarness } from "./helpers/harness.ts";
import { connect, ensureDevModels, textFromDeltas } from "./helpers/live.ts";

/**
 * Two real server processes on one Postgres and one redis-server; one is SIGKILLed mid-answer.
 * Several processes cannot share an embedded PGlite, so this runs where real servers exist
 * (CI's second pass sets TEST_DATABASE_URL and TEST_REDIS_URL).
 */
const databaseUrl = process.env.TEST_DATABASE_URL ?? "";
const redisUrl = process.env.TEST_REDIS_URL ?? "";
const apiDir = new URL("..", import.meta.url).pathname;

interface ServerProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  baseUrl: string;
  wsUrl: string;
}

async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const proc = Bun.spawn(["bun", "src/server.ts"], {
    cwd: apiDir,
    env: { ...process.env, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  // The "listening" line is the event waited for; the deadline only bounds a server that hangs
  // without printing (a pending read does not look at the clock by itself).
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    deadline = setTimeout(() => resolve("timeout"), 60_000);
  });
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), timedOut]);
      if (next === "timeout" || next.done) break;
      buffered += decoder.decode(next.value);
      const match = /"msg":"listening".*?"url":"http:\/\/[^:]+:(\d+)"/.exec(buffered);
      if (match) {
        reader.releaseLock();
        // Keep draining stdout so the child never blocks on a full pipe.
        void proc.stdout.pipeTo(new WritableStream()).catch(() => {});
        return { proc, baseUrl: `http://127.0.0.1:${match[1]}`, wsUrl: `ws://127.0.0.1:${match[1]}` };
      }
    }
  } finally {
    clearTimeout(deadline);
  }
  proc.kill();
  throw new Error(`server did not start: ${buffered.slice(-2000)} ${await new Response(proc.stderr).text()}`);
}

/** Resolves once `check` holds, looking again every `everyMs` (a state the test cannot subscribe to). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}

// Reported as skipped without TEST_DATABASE_URL and TEST_REDIS_URL.
describe.skipIf(!databaseUrl || !redisUrl)("an instance dies mid-answer (two processes, one Redis)", () => {
  // Postgres (TEST_DATABASE_URL): the server processes share it with this test.
  const h = useHarness();
  let scene: SchoolScene;
  let dataDir: string;
  let a: ServerProcess;
  let b: ServerProcess;
  let c: ServerProcess | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    await ensureDevModels(h.db);
    scene = await makeSchoolScene(h.db.db);
    dataDir = mkdtempSync(join(tmpdir(), "rapt-crash-"));
    await loadOrCreateDevKeys(dataDir);
    env = {
      PORT: "0",
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      LOG_LEVEL: "info",
      // Slow enough that the answer is still streaming when the kill lands, even under load.
      AI_DEV_TOKENS_PER_SECOND: "10",
      // Checkpoints (every heartbeat and every second) trail the published deltas by up to a
      // second, so a kill lands with deltas watchers saw that no checkpoint holds.
      LIVE_HEARTBEAT_MS: "1000",
      LIVE_STALE_AFTER_MS: "3000",
      LIVE_SWEEP_INTERVAL_MS: "250",
      LIVE_PRESENCE_TTL_MS: "1500",
      // The sweeper this test waits for runs on its own schedule: another suite's servers on the
      // same database (two-instances sweeps every 10 minutes) must not push its next run out.
      JOBS_NAMESPACE: `crash-${crypto.randomUUID()}`,
    };
    // Side by side: each start (migrations already applied, module load, connections) takes
    // seconds under load, and nothing orders them.
    [a, b] = await Promise.all([startServer({ ...env, INSTANCE_ID: "crash-a" }), startServer({ ...env, INSTANCE_ID: "crash-b" })]);
  }, 90_000);

  // The limits every server process charges (REDIS_URL, its default key prefix), read as they see them.
  let redis: Redis | undefined;
  const figures = () => {
    redis ??= new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    return new RedisLimitStore(redis, { keyPrefix: "rapt:limits:" }).usage({ userId: scene.student.id, groupIds: [scene.district.id], now: Date.now() });
  };

  h.beforeClose(async () => {
    await redis?.quit();
    a?.proc.kill("SIGKILL");
    c?.proc.kill("SIGKILL");
    b?.proc.kill("SIGTERM");
    await b?.proc.exited;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function clientFor(server: ServerProcess, clerkUserId: string | null) {
    const token = await mintSessionToken(await loadOrCreateDevKeys(dataDir), { userId: clerkUserId ?? "" });
    return connect(server, { token }, 10_000);
  }

  test("the answer ends interrupted holding every delta watchers saw, watchers on the survivor are told, its reservation is settled to what it used, and the student drops out of presence", async () => {
    const session = await makeSession(h.db.db, {
      toolId: scene.tool.id,
      studentId: scene.student.id,
      groupId: scene.department.id,
      classId: scene.cls.id,
    });
    const room = `session:${session.id}`;
    const watcher = await clientFor(b, scene.teacher.clerkUserId);
    await watcher.request({ type: "subscribe", room, lastOffset: 0 });
    await watcher.request({ type: "subscribe", room: `class:${scene.cls.id}` });
    const student = await clientFor(a, scene.student.clerkUserId);
    await student.request({ type: "subscribe", room, lastOffset: 0 });
    const isStudentPresence = (online: boolean) => (f: { type: string; event?: unknown; payload?: unknown }) =>
      f.type === "event" &&
      f.event === "presence.changed" &&
      (f.payload as { userId: string; online: boolean }).userId === scene.student.id &&
      (f.payload as { online: boolean }).online === online;
    await watcher.next(isStudentPresence(true), 10_000);
    const ack = await student.request({ type: "message.send", sessionId: session.id, clientMessageId: "k1", content: "Explain osmosis slowly" });
    expect(ack.type).toBe("ack");
    const answerId = (ack.result as { answerId: string }).answerId;
    // Let some text stream and be checkpointed, then kill the instance running the answer.
    for (let i = 0; i < 6; i++) {
      await watcher.next((f) => f.type === "event" && f.event === "message.delta" && watcher.events(room).filter((e) => e.event === "message.delta").length > i, 10_000);
    }
    // Kill once a checkpoint holds text and watchers have seen deltas past it, so the stored answer
    // can only be whole if it is rebuilt from the replay buffer (however slow the machine is).
    const sawPastCheckpoint = async () => {
      const [row] = await h.db.db.select({ content: messages.content }).from(messages).where(eq(messages.id, answerId));
      const seen = textFromDeltas(watcher.frames, answerId);
      return (row?.content.length ?? 0) > 0 && seen.length > (row?.content.length ?? 0);
    };
    await until("a checkpoint behind what watchers saw", sawPastCheckpoint, 20_000);
    // The estimate (prompt + the whole output allowance) is charged while the answer streams.
    const reserved = await figures();
    a.proc.kill("SIGKILL");
    await a.proc.exited;

    const told = await watcher.next((f) => f.type === "event" && f.event === "message.completed", 15_000);
    const message = (told.payload as { message: { id: string; state: string; content: string } }).message;
    expect(message.id).toBe(answerId);
    expect(message.state).toBe("interrupted");
    expect(message.content.length).toBeGreaterThan(0);
    const [row] = await h.db.db.select().from(messages).where(eq(messages.id, answerId));
    expect(row?.state).toBe("interrupted");
    expect(row?.content).toBe(message.content);
    // The stored text is everything watchers saw streaming (rebuilt from the room's replay
    // buffer), not just the dead instance's last checkpoint.
    expect(message.content).toBe(textFromDeltas(watcher.frames, answerId));
    // The dead instance's reservation is settled by the survivor to the usage it recorded: the
    // student's day and the district's month hold what the call consumed, not the estimate.
    await until("the estimated usage row", async () => (await h.db.db.select().from(aiUsage).where(eq(aiUsage.messageId, answerId))).length > 0, 5_000);
    const [usage] = await h.db.db.select().from(aiUsage).where(eq(aiUsage.messageId, answerId));
    const consumed = (usage?.inputTokens ?? 0) + (usage?.outputTokens ?? 0);
    expect(consumed).toBeGreaterThan(0);
    expect(consumed).toBeLessThan(reserved.tokensToday);
    await until("the reservation settled", async () => (await figures()).tokensToday === consumed, 5_000);
    expect((await figures()).spentThisMonthMicros[scene.district.id]).toBe(Math.round((usage?.costUsd ?? 0) * 1e6));
    // The dead instance never said goodbye for its student: presence drops them by TTL.
    await watcher.next(isStudentPresence(false), 10_000);
    watcher.close();
  }, 60_000);

  test("a product tool run on a killed instance ends interrupted holding every delta the watcher saw; the watcher on the survivor is told; its reservation is settled", async () => {
    c = await startServer({ ...env, INSTANCE_ID: "crash-c" });
    const beforeRun = (await figures()).tokensToday;
    const tool = await makeTool(h.db.db, scene.school.id, {
      kind: "product",
      createdBy: scene.teacher.id,
      definition: { model: "dev-tutor", form: [{ type: "text", name: "topic", label: "Topic" }], promptTemplate: "Write a long worksheet about {{topic}}." },
    });
    const token = await mintSessionToken(await loadOrCreateDevKeys(dataDir), { userId: scene.student.clerkUserId ?? "" });
    const res = await fetch(`${c.baseUrl}/api/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ toolId: tool.id, classId: scene.cls.id, input: { topic: "osmosis" } }),
    });
    expect(res.status).toBe(201);
    const { run, room } = (await res.json()) as { run: { id: string }; room: { name: string; epoch: string | null; offset: number } };
    const watcher = await clientFor(b, scene.teacher.clerkUserId);
    await watcher.request({ type: "subscribe", room: room.name, lastOffset: room.offset, ...(room.epoch ? { epoch: room.epoch } : {}) });
    const seen = () => {
      let text = "";
      for (const f of watcher.frames) {
        if (f.type !== "event" || f.event !== "run.delta") continue;
        const d = f.payload as { runId: string; charOffset: number; text: string };
        if (d.runId === run.id && d.charOffset === text.length) text += d.text;
      }
      return text;
    };
    const sawPastCheckpoint = async () => {
      const [row] = await h.db.db.select({ output: runs.output }).from(runs).where(eq(runs.id, run.id));
      return (row?.output?.length ?? 0) > 0 && seen().length > (row?.output?.length ?? 0);
    };
    await until("a run checkpoint behind what the watcher saw", sawPastCheckpoint, 20_000);
    const reserved = await figures();
    c.proc.kill("SIGKILL");
    await c.proc.exited;

    const told = await watcher.next((f) => f.type === "event" && f.event === "run.completed", 15_000);
    const final = (told.payload as { run: { id: string; state: string; output: string } }).run;
    expect(final.id).toBe(run.id);
    expect(final.state).toBe("interrupted");
    expect(final.output).toBe(seen());
    const [row] = await h.db.db.select().from(runs).where(eq(runs.id, run.id));
    expect(row?.state).toBe("interrupted");
    expect(row?.output).toBe(final.output);
    // Recorded by the sweep just after it told the watchers.
    await until("the estimated usage row", async () => (await h.db.db.select().from(aiUsage).where(eq(aiUsage.runId, run.id))).length > 0, 5_000);
    const usage = await h.db.db.select().from(aiUsage).where(eq(aiUsage.runId, run.id));
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({ status: "interrupted", estimated: true });
    // The run's estimate is given back down to what it consumed (the answer's settle came before).
    const consumed = (usage[0]?.inputTokens ?? 0) + (usage[0]?.outputTokens ?? 0);
    expect(reserved.tokensToday).toBeGreaterThan(beforeRun + consumed);
    await until("the run's reservation settled", async () => (await figures()).tokensToday === beforeRun + consumed, 5_000);
    watcher.close();
  }, 90_000);
});
