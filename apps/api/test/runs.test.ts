import { beforeAll, describe, expect, test } from "bun:test";
import { aiSettings, aiUsage, runs, toolVersions, tools } from "@raptscallions/db";
import { makeSchoolScene, makeTool, type SchoolScene } from "@raptscallions/db/testing";
import { productToolScene } from "./helpers/ai.ts";
import { renderPrompt } from "@raptscallions/core";
import { tutorReply } from "@raptscallions/gateway";
import { eq } from "drizzle-orm";
import { useHarness } from "./helpers/harness.ts";
import { deploymentTransports, useDeployment, useDevModel } from "./helpers/deployment.ts";
import { connect, type Frame, type Instance, restCall as rest, sweepOn } from "./helpers/live.ts";

const h = useHarness();
const dev = useDevModel(h, 150);

const TEMPLATE = "Write a {{count}}-question quiz about {{topic}} for {{level}} learners.";
const FORM = [
  { type: "text", name: "topic", label: "Topic", required: true, maxLength: 100 },
  { type: "number", name: "count", label: "Questions", required: true, min: 1, max: 20, integer: true },
  { type: "select", name: "level", label: "Level", required: true, options: ["beginner", "advanced"] },
];

type RunBody = {
  run: { id: string; state: string; output: string; toolVersion: number; meta: Record<string, unknown> };
  room: { name: string; epoch: string | null; offset: number };
};

function deltaText(frames: Frame[], room: string, runId: string, from = "") {
  let text = from;
  for (const f of frames) {
    if (f.type !== "event" || f.room !== room || f.event !== "run.delta") continue;
    const p = f.payload as { runId: string; charOffset: number; text: string };
    if (p.runId !== runId) continue;
    expect(p.charOffset).toBe(text.length);
    text += p.text;
  }
  return text;
}

async function finished(runId: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await h.db.db.select().from(runs).where(eq(runs.id, runId));
    if (row && row.state !== "running") return row;
    if (Date.now() > deadline) throw new Error(`run ${runId} still running`);
    await Bun.sleep(50);
  }
}

for (const [name, skip] of deploymentTransports(["in-process bus", "redis"]))
  describe.skipIf(skip)(`product tool runs (${name})`, () => {
    const d = useDeployment(h, dev, name);
    let a: Instance;
    let b: Instance;
    let s: SchoolScene;
    let toolId: string;

    beforeAll(async () => {
      a = await d.start();
      b = await d.start();
      ({ scene: s, toolId } = await productToolScene(h.db.db, { form: FORM, promptTemplate: TEMPLATE }));
    }, 60_000);

    test("a run streams to a teacher watching on another instance; stored with output and usage; content from the dev model", async () => {
      const input = { topic: "photosynthesis", count: 3, level: "beginner" };
      const started = await rest<RunBody>(a, s.student, "POST", "/api/runs", { toolId, classId: s.cls.id, input });
      expect(started.status).toBe(201);
      const { run, room } = started.body;
      expect(room.name).toBe(`run:${run.id}`);
      const teacher = await connect(b, s.teacher);
      const sub = await teacher.request({ type: "subscribe", room: room.name, lastOffset: room.offset, ...(room.epoch ? { epoch: room.epoch } : {}) });
      expect(sub.type).toBe("ack");
      await teacher.next((f) => f.type === "event" && f.event === "run.completed", 15_000);
      const row = await finished(run.id);
      const expected = tutorReply([{ role: "user", content: renderPrompt(TEMPLATE, input) }]);
      expect(row.state).toBe("complete");
      expect(row.output).toBe(expected);
      expect(deltaText(teacher.frames, room.name, run.id)).toBe(expected);
      expect(row.meta.outputTokens).toBeGreaterThan(0);
      const usage = await h.db.db.select().from(aiUsage).where(eq(aiUsage.runId, run.id));
      expect(usage).toHaveLength(1);
      expect(usage[0]?.status).toBe("complete");
      // The class's teacher sees it over REST; another student does not.
      expect((await rest(a, s.teacher, "GET", `/api/runs/${run.id}`)).status).toBe(200);
      expect((await rest(a, s.otherStudent, "GET", `/api/runs/${run.id}`)).status).toBe(404);
      const listed = await rest<{ items: { id: string }[] }>(a, s.teacher, "GET", `/api/runs?classId=${s.cls.id}`);
      expect(listed.body.items.map((x) => x.id)).toContain(run.id);
      const refused = await connect(a, s.otherStudent);
      expect((await refused.request({ type: "subscribe", room: room.name })).type).toBe("error");
      teacher.close();
      refused.close();
    }, 60_000);

    test("stopped mid-stream from another instance; a watcher that disconnected resumes by offset with nothing lost or repeated", async () => {
      const crawl = await makeTool(h.db.db, s.school.id, {
        kind: "product",
        createdBy: s.teacher.id,
        definition: { model: "dev-crawl", form: FORM, promptTemplate: TEMPLATE },
      });
      const started = await rest<RunBody>(a, s.teacher, "POST", "/api/runs", {
        toolId: crawl.id,
        classId: s.cls.id,
        input: { topic: "volcanoes", count: 2, level: "advanced" },
      });
      expect(started.status).toBe(201);
      const { run, room } = started.body;
      const first = await connect(b, s.teacher);
      await first.request({ type: "subscribe", room: room.name, lastOffset: room.offset, ...(room.epoch ? { epoch: room.epoch } : {}) });
      const firstDelta = (await first.next((f) => f.type === "event" && f.event === "run.delta", 10_000)) as Frame & { offset: number; epoch: string };
      first.close();
      const seen = deltaText([firstDelta], room.name, run.id);
      await Bun.sleep(600);
      const again = await connect(a, s.teacher);
      await again.request({ type: "subscribe", room: room.name, lastOffset: firstDelta.offset, epoch: firstDelta.epoch });
      await again.next((f) => f.type === "event" && f.event === "run.delta", 10_000);
      const stop = await rest<{ stopping: boolean }>(b, s.teacher, "POST", `/api/runs/${run.id}/stop`);
      expect(stop.status).toBe(202);
      expect(stop.body.stopping).toBe(true);
      await again.next((f) => f.type === "event" && f.event === "run.completed", 10_000);
      const row = await finished(run.id);
      expect(row.state).toBe("stopped");
      const full = tutorReply([{ role: "user", content: renderPrompt(TEMPLATE, { topic: "volcanoes", count: 2, level: "advanced" }) }]);
      expect((row.output ?? "").length).toBeLessThan(full.length);
      expect(deltaText(again.frames, room.name, run.id, seen)).toBe(row.output ?? "");
      const usage = await h.db.db.select().from(aiUsage).where(eq(aiUsage.runId, run.id));
      expect(usage[0]?.status).toBe("stopped");
      again.close();
    }, 60_000);

    test("a run whose instance died mid-stream is finalised interrupted by the sweeper: watchers are told, usage is estimated", async () => {
      const input = { topic: "glaciers", count: 2, level: "beginner" };
      // What a dead instance leaves: a run row still `running` with a stale heartbeat, a checkpoint,
      // and deltas it published past that checkpoint before it died.
      const [orphan] = await h.db.db
        .insert(runs)
        .values({
          toolId,
          toolVersion: 1,
          userId: s.student.id,
          groupId: s.department.id,
          classId: s.cls.id,
          input,
          output: "",
          state: "running",
          streamOwner: "dead-instance",
          heartbeatAt: new Date(Date.now() - 60_000),
          meta: { model: "dev-tutor" },
        })
        .returning();
      const runId = orphan?.id ?? "";
      const room = `run:${runId}`;
      const watcher = await connect(b, s.teacher);
      await watcher.request({ type: "subscribe", room, lastOffset: 0 });
      const classWatcher = await connect(b, s.teacher);
      await classWatcher.request({ type: "subscribe", room: `class:${s.cls.id}` });
      const delta = (charOffset: number, text: string, id = runId) => a.deps.bus.publish(room, { type: "run.delta", payload: { runId: id, charOffset, text } });
      const checkpointed = await delta(0, "Question 1: what ");
      await h.db.db
        .update(runs)
        .set({ output: "Question 1: what ", checkpointOffset: checkpointed.offset, checkpointEpoch: checkpointed.epoch })
        .where(eq(runs.id, runId));
      await delta(17, "is a glacier?");
      await delta(0, "not this run's text", crypto.randomUUID());
      await delta(30, " Question 2");
      // A run still heart-beating is left alone by the same sweep.
      const live = await rest<RunBody>(a, s.teacher, "POST", "/api/runs", { toolId, input: { topic: "lakes", count: 1, level: "beginner" } });
      expect(live.status).toBe(201);

      const swept = await sweepOn(a, 30_000);
      expect(swept).toBeGreaterThanOrEqual(1);
      const told = (await watcher.next((f) => f.type === "event" && f.event === "run.completed", 10_000)) as Frame & {
        payload: { run: { id: string; state: string; output: string } };
      };
      const shown = deltaText(watcher.frames, room, runId);
      expect(shown).toBe("Question 1: what is a glacier? Question 2");
      expect(told.payload.run).toMatchObject({ id: runId, state: "interrupted", output: shown });
      const classNote = await classWatcher.next((f) => f.type === "event" && f.event === "run.completed" && (f.payload as { runId: string }).runId === runId, 10_000);
      expect(classNote.payload).toMatchObject({ state: "interrupted", userId: s.student.id });
      const [row] = await h.db.db.select().from(runs).where(eq(runs.id, runId));
      expect(row).toMatchObject({ state: "interrupted", output: shown, streamOwner: null });
      expect(row?.finishedAt).not.toBeNull();
      const usage = await h.db.db.select().from(aiUsage).where(eq(aiUsage.runId, runId));
      expect(usage).toHaveLength(1);
      expect(usage[0]).toMatchObject({ status: "interrupted", estimated: true, model: "dev-tutor", userId: s.student.id, classId: s.cls.id });
      expect(usage[0]?.inputTokens).toBeGreaterThan(0);
      expect(usage[0]?.outputTokens).toBeGreaterThan(0);
      // Sweeping again finds nothing more to do for it.
      await sweepOn(a, 30_000);
      expect(await h.db.db.select().from(aiUsage).where(eq(aiUsage.runId, runId))).toHaveLength(1);
      const other = await finished(live.body.run.id);
      expect(other.state).toBe("complete");
      watcher.close();
      classWatcher.close();
    }, 60_000);

    test("a late joiner without an offset gets the run so far as a snapshot", async () => {
      const started = await rest<RunBody>(a, s.teacher, "POST", "/api/runs", { toolId, input: { topic: "maps", count: 1, level: "beginner" } });
      const late = await connect(b, s.teacher);
      await late.request({ type: "subscribe", room: started.body.room.name });
      const snap = (await late.next((f) => f.type === "snapshot")) as Frame & { payload: { run: { id: string } } };
      expect(snap.payload.run.id).toBe(started.body.run.id);
      await finished(started.body.run.id);
      late.close();
    }, 60_000);
  });

describe("product tool runs: forms, budgets, versions", () => {
  const d = useDeployment(h, dev);
  let a: Instance;
  let s: SchoolScene;
  let toolId: string;
  beforeAll(async () => {
    a = await d.start();
    ({ scene: s, toolId } = await productToolScene(h.db.db, { form: FORM, promptTemplate: TEMPLATE }));
  }, 60_000);

  test("bad inputs are 422 with a detail per field; nothing is stored", async () => {
    const before = (await h.db.db.select().from(runs).where(eq(runs.toolId, toolId))).length;
    const bad = await rest<{ error: { code: string; details: { path: string }[] } }>(a, s.teacher, "POST", "/api/runs", {
      toolId,
      input: { topic: "", count: 99, level: "expert", extra: 1 },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe("VALIDATION_FAILED");
    const paths = bad.body.error.details.map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(["input.topic", "input.count", "input.level"]));
    expect(paths.some((p) => p === "input" || p.startsWith("input"))).toBe(true);
    expect((await rest(a, s.teacher, "POST", "/api/runs", { toolId: s.tool.id, input: {} })).status).toBe(422);
    expect((await rest(a, s.teacher, "POST", "/api/runs", { toolId })).status).toBe(422);
    expect((await rest(a, s.teacher, "POST", "/api/runs", { toolId: crypto.randomUUID(), input: {} })).status).toBe(404);
    expect((await h.db.db.select().from(runs).where(eq(runs.toolId, toolId))).length).toBe(before);
  });

  test("a student who may run a product tool reads its form but not its prompt; a chat tool has no form", async () => {
    const got = await rest<{ kind: string; latest: { definition: unknown; form: { name: string; required: boolean; maxLength?: number }[] | null } }>(
      a,
      s.student,
      "GET",
      `/api/tools/${toolId}`,
    );
    expect(got.status).toBe(200);
    expect(got.body.kind).toBe("product");
    expect(got.body.latest.definition).toBeNull();
    expect(got.body.latest.form?.map((f) => f.name)).toEqual(["topic", "count", "level"]);
    expect(got.body.latest.form?.[0]).toMatchObject({ required: true, maxLength: 100 });
    const teacher = await rest<{ latest: { definition: { promptTemplate?: string } | null; form: unknown[] | null } }>(a, s.teacher, "GET", `/api/tools/${toolId}`);
    expect(teacher.body.latest.definition?.promptTemplate).toBe(TEMPLATE);
    expect(teacher.body.latest.form).toHaveLength(3);
    const chat = await rest<{ latest: { form: unknown } }>(a, s.student, "GET", `/api/tools/${s.tool.id}`);
    expect(chat.body.latest.form).toBeNull();
    const stranger = await makeSchoolScene(h.db.db);
    expect((await rest(a, stranger.student, "GET", `/api/tools/${toolId}`)).status).toBe(404);
  });

  test("a product tool's form is checked when the tool is written", async () => {
    const bad = await rest<{ error: { code: string; details: { path: string }[] } }>(a, s.teacher, "POST", "/api/tools", {
      groupId: s.department.id,
      name: "Quiz maker",
      kind: "product",
      definition: { systemPrompt: "You write quizzes.", form: FORM, promptTemplate: "About {{nope}}" },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d) => d.path)).toContain("definition.promptTemplate");
    const chat = await rest(a, s.teacher, "POST", "/api/tools", { groupId: s.department.id, name: "Chat", definition: { systemPrompt: "Hi", form: FORM } });
    expect(chat.status).toBe(422);
  });

  test("over budget: 429, the run is stored failed with the reason, nothing streamed", async () => {
    const scene = await makeSchoolScene(h.db.db);
    const t = await makeTool(h.db.db, scene.school.id, {
      kind: "product",
      createdBy: scene.teacher.id,
      definition: { model: "dev-tutor", form: FORM, promptTemplate: TEMPLATE },
    });
    await h.db.db.insert(aiSettings).values({ groupId: scene.school.id, monthlyBudgetUsd: 0.0000001 });
    const endsBefore = dev.ends.length;
    const res = await rest<{ error: { code: string } }>(a, scene.teacher, "POST", "/api/runs", { toolId: t.id, input: { topic: "rivers", count: 1, level: "beginner" } });
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe("BUDGET_EXCEEDED");
    const [row] = await h.db.db.select().from(runs).where(eq(runs.toolId, t.id));
    expect(row?.state).toBe("failed");
    expect(row?.meta.error?.code).toBe("BUDGET_EXCEEDED");
    expect(dev.ends.length).toBe(endsBefore);
  });

  test("a run is pinned to the version it started on after the tool changes", async () => {
    const first = await rest<RunBody>(a, s.teacher, "POST", "/api/runs", { toolId, input: { topic: "tides", count: 2, level: "beginner" } });
    expect(first.body.run.toolVersion).toBe(1);
    const v2 = await rest(a, s.teacher, "POST", `/api/tools/${toolId}/versions`, {
      definition: {
        systemPrompt: "You write quizzes.",
        model: "dev-tutor",
        form: [{ type: "text", name: "subject", label: "Subject" }],
        promptTemplate: "Quiz on {{subject}}",
      },
    });
    expect(v2.status).toBe(201);
    const row = await finished(first.body.run.id);
    expect(row.toolVersion).toBe(1);
    expect(row.input).toEqual({ topic: "tides", count: 2, level: "beginner" });
    // New runs take the new form; the old inputs no longer fit it.
    expect((await rest(a, s.teacher, "POST", "/api/runs", { toolId, input: { topic: "tides", count: 2, level: "beginner" } })).status).toBe(422);
    const second = await rest<RunBody>(a, s.teacher, "POST", "/api/runs", { toolId, input: { subject: "tides" } });
    expect(second.status).toBe(201);
    expect(second.body.run.toolVersion).toBe(2);
    const [tool] = await h.db.db.select().from(tools).where(eq(tools.id, toolId));
    expect(tool?.latestVersion).toBe(2);
    const versions = await h.db.db.select().from(toolVersions).where(eq(toolVersions.toolId, toolId));
    expect(versions).toHaveLength(2);
    await finished(second.body.run.id);
  });
});
