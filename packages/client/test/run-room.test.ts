import { beforeAll, describe, expect, test } from "bun:test";
import type { RunDto } from "@raptscallions/core";
import { runs } from "@raptscallions/db";
import { makeSchoolScene, makeTool, type SchoolScene } from "@raptscallions/db/testing";
import { eq } from "drizzle-orm";
import { makeDevModel } from "../../../apps/api/test/helpers/ai.ts";
import { useHarness } from "../../../apps/api/test/helpers/harness.ts";
import { deploymentTransports, useDeployment, useDevModel } from "../../../apps/api/test/helpers/deployment.ts";
import type { Instance } from "../../../apps/api/test/helpers/live.ts";
import type { RealtimeClient } from "../src/index.ts";
import { RoomStore } from "../src/room.ts";
import { clientFor, eventually, type SocketTap, tappedWebSocket, trackClients } from "./helpers.ts";

const RUN = "7b5b2d0e-0000-4000-8000-0000000000c1";
const FORM = [
  { type: "text", name: "topic", label: "Topic", required: true, maxLength: 100 },
  { type: "number", name: "count", label: "Questions", required: true, min: 1, max: 10, integer: true },
];
const TEMPLATE = "Write a {{count}}-question quiz about {{topic}}.";

function run(output: string, state: RunDto["state"] = "running"): RunDto {
  return {
    id: RUN,
    toolId: "7b5b2d0e-0000-4000-8000-0000000000d1",
    toolVersion: 1,
    userId: "7b5b2d0e-0000-4000-8000-0000000000e1",
    groupId: "7b5b2d0e-0000-4000-8000-0000000000f1",
    classId: null,
    input: { topic: "rivers" },
    output,
    state,
    meta: {},
    createdAt: "2026-12-01T10:00:00.000Z",
    finishedAt: state === "running" ? null : "2026-12-01T10:00:05.000Z",
  };
}

let offset = 0;
const ev = (event: string, payload: unknown) => ({ epoch: "e1", offset: ++offset, event, payload, at: "2026-12-01T10:00:01.000Z" });
const delta = (charOffset: number, text: string, runId = RUN) => ev("run.delta", { runId, charOffset, text });

describe("RoomStore: a run room", () => {
  test("deltas append at the held length, an overlap adds only its tail, a hole is reported; the final run wins", () => {
    const store = new RoomStore(`run:${RUN}`);
    expect(store.apply(delta(0, "Q1"))).toBe("hole"); // nothing held yet: a snapshot is needed
    expect(store.apply(ev("run.started", { run: run("") }))).toBe("ok");
    expect(store.apply(delta(0, "Q1: what "))).toBe("ok");
    expect(store.apply(delta(9, "is a river?"))).toBe("ok");
    expect(store.apply(delta(9, "is a river?"))).toBe("ok"); // a repeat changes nothing
    expect(store.apply(delta(14, "river? Q2"))).toBe("ok"); // overlaps "river?"
    expect(store.get().run?.output).toBe("Q1: what is a river? Q2");
    expect(store.apply(delta(0, "x", "7b5b2d0e-0000-4000-8000-0000000000c2"))).toBe("hole");
    expect(store.apply(delta(99, "later"))).toBe("hole");
    // A late `run.started` (the room renumbered, or a repeat) never wipes output deltas grew.
    store.apply(ev("run.started", { run: run("Q1") }));
    expect(store.get().run?.output).toBe("Q1: what is a river? Q2");
    store.apply(ev("run.completed", { run: run("Q1: what is a river? Q2: where?", "stopped") }));
    store.apply(delta(23, " extra"));
    store.apply(ev("run.started", { run: run("") }));
    expect(store.get().run).toMatchObject({ state: "stopped", output: "Q1: what is a river? Q2: where?" });
    expect(store.get().position).toEqual({ epoch: "e1", offset });
  });

  test("a renumbered room's `run.started` carrying more than is held replaces it; bad payloads are reported", () => {
    const store = new RoomStore(`run:${RUN}`);
    store.rebuildRun({ run: run("Q1"), position: { epoch: "e0", offset: 3 } });
    store.apply(ev("run.started", { run: run("Q1: what is") }));
    expect(store.get().run?.output).toBe("Q1: what is");
    expect(store.apply(ev("run.delta", { runId: RUN, charOffset: -1, text: "x" }))).toBe("invalid");
    expect(store.apply(ev("run.completed", { run: { id: RUN } }))).toBe("invalid");
    expect(store.get().run?.output).toBe("Q1: what is");
  });

  test("a class room keeps its runs' summaries by id", () => {
    const store = new RoomStore("class:7b5b2d0e-0000-4000-8000-000000000011");
    const note = { runId: RUN, toolId: run("").toolId, userId: run("").userId, state: "complete", preview: "Q1" };
    expect(store.apply(ev("run.completed", note))).toBe("ok");
    expect(store.get().runs[RUN]).toMatchObject({ state: "complete", preview: "Q1" });
    expect(store.get().run).toBeNull();
    expect(store.apply(ev("run.completed", { runId: RUN }))).toBe("invalid");
  });
});

const h = useHarness();
const dev = useDevModel(h, 150);

async function finalRun(runId: string) {
  return eventually(async () => {
    const [row] = await h.db.db.select().from(runs).where(eq(runs.id, runId));
    return row && row.state !== "running" ? row : undefined;
  }, "the run to be finalised");
}

/** Waits until the client holds the run as final, then checks it against the stored row. */
async function expectStoredRun(client: RealtimeClient, runId: string) {
  const row = await finalRun(runId);
  const store = client.runRoom(runId);
  const held = await eventually(() => (store.get().run?.state !== "running" ? store.get().run : undefined), "the client to hold the final run");
  expect(held?.output).toBe(row.output ?? "");
  expect(held?.state).toBe(row.state);
  return row;
}

for (const [name, skip] of deploymentTransports(["in-process bus", "redis"]))
  describe.skipIf(skip)(`client run rooms over real sockets (${name})`, () => {
    const d = useDeployment(h, dev, name);
    let a: Instance;
    let b: Instance;
    let scene: SchoolScene;
    let crawlId: string;
    let paceId: string;
    const track = trackClients(d);

    beforeAll(async () => {
      a = await d.start();
      b = await d.start();
      scene = await makeSchoolScene(h.db.db);
      const definition = { form: FORM, promptTemplate: TEMPLATE };
      crawlId = (await makeTool(h.db.db, scene.school.id, { kind: "product", createdBy: scene.teacher.id, definition: { ...definition, model: "dev-crawl" } })).id;
      // Slow enough that the run still streams while the teacher connects, subscribes and is cut
      // twice, even on a loaded machine (at the file's 150 tokens/s it could end before the teacher
      // saw six deltas live, and was then followed from a snapshot with no cut at all).
      const paced = await makeDevModel(h.db.db, { tokensPerSecond: 30 });
      paceId = (await makeTool(h.db.db, scene.school.id, { kind: "product", createdBy: scene.teacher.id, definition: { ...definition, model: paced.id } })).id;
    }, 60_000);

    test("a teacher on another instance, cut twice mid-run, ends with exactly the stored output", async () => {
      const tap: SocketTap = { sockets: [] };
      let deltas = 0;
      let cuts = 0;
      tap.onMessage = (ws, data) => {
        if (!data.includes('"run.delta"')) return;
        deltas += 1;
        if (cuts < 2 && deltas % 3 === 0) {
          cuts += 1;
          ws.close();
          return "swallow";
        }
      };
      const student = track(clientFor(scene.student, { baseUrl: a.baseUrl }));
      const teacher = track(clientFor(scene.teacher, { baseUrl: b.baseUrl, WebSocket: tappedWebSocket(tap) }));
      teacher.connect();
      const { run: started } = await student.rest("startRun", { body: { toolId: paceId, classId: scene.cls.id, input: { topic: "rivers", count: 3 } } });
      const room = teacher.runRoom(started.id);
      await expectStoredRun(teacher, started.id);
      expect(cuts).toBe(2);
      expect(room.get().status).toBe("live");
    }, 60_000);

    test("joining late gets the output so far from the snapshot, then the live tail; stopRun ends it stopped", async () => {
      const teacher = track(clientFor(scene.teacher, { baseUrl: a.baseUrl }));
      const { run: started } = await teacher.rest("startRun", { body: { toolId: crawlId, input: { topic: "volcanoes", count: 2 } } });
      await eventually(async () => {
        const [row] = await h.db.db.select().from(runs).where(eq(runs.id, started.id));
        return (row?.output ?? "").length > 0;
      }, "some output to be checkpointed");
      const late = track(clientFor(scene.teacher, { baseUrl: b.baseUrl }));
      late.connect();
      const room = late.runRoom(started.id);
      await eventually(() => (room.get().run?.output.length ?? 0) > 0, "the snapshot's output");
      const seen = room.get().run?.output ?? "";
      await eventually(() => (room.get().run?.output.length ?? 0) > seen.length, "the live tail");
      expect(room.get().run?.output.startsWith(seen)).toBe(true);
      const stop = await late.stopRun(started.id);
      expect(stop.stopping).toBe(true);
      const row = await expectStoredRun(late, started.id);
      expect(row.state).toBe("stopped");
    }, 60_000);
  });

describe("client run rooms: the reset path", () => {
  // A replay buffer of two events: a watcher away for most of a run is told `reset` and reloads it over REST.
  const d = useDeployment(h, dev, "in-process bus", { replayLimit: 2 });
  let a: Instance;
  let scene: SchoolScene;
  const track = trackClients(d);
  beforeAll(async () => {
    a = await d.start({ live: { feedLingerMs: 0 } });
    scene = await makeSchoolScene(h.db.db);
  }, 60_000);

  test("a reset reloads the run over REST and the client ends with the stored output", async () => {
    const frames: string[] = [];
    const tap: SocketTap = { sockets: [], onMessage: (_ws, data) => void frames.push(data) };
    const tool = await makeTool(h.db.db, scene.school.id, {
      kind: "product",
      createdBy: scene.teacher.id,
      definition: { form: FORM, promptTemplate: TEMPLATE, model: "dev-crawl" },
    });
    const teacher = clientFor(scene.teacher, { baseUrl: a.baseUrl, WebSocket: tappedWebSocket(tap) });
    track(teacher);
    teacher.connect();
    const { run: started } = await teacher.rest("startRun", { body: { toolId: tool.id, input: { topic: "deserts", count: 1 } } });
    const room = teacher.runRoom(started.id);
    await eventually(() => (room.get().run?.output.length ?? 0) > 0, "some output");
    teacher.disconnect();
    const left = room.get().position?.offset ?? 0;
    // Away while more events go by than the buffer holds.
    await eventually(async () => (await a.deps.bus.head(`run:${started.id}`)).offset > left + 4, "the run to move on", 30_000);
    teacher.connect();
    await eventually(() => frames.some((f) => f.includes('"type":"reset"')), "a reset frame");
    await eventually(() => room.get().status === "live", "the room live after the reload");
    await teacher.stopRun(started.id);
    await expectStoredRun(teacher, started.id);
  }, 60_000);
});
