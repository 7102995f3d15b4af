import { beforeAll, describe, expect, test } from "bun:test";
import { type ClientFrame, REALTIME_LIMITS } from "@raptscallions/core";
import { messages } from "@raptscallions/db";
import { makeExtraction, makeSchoolScene, makeSession, type SchoolScene } from "@raptscallions/db/testing";
import { and, eq, like } from "drizzle-orm";
import { authHeader } from "./helpers/auth.ts";
import { useHarness } from "./helpers/harness.ts";
import { BAD_STRINGS, bodyVariants } from "./helpers/hostile.ts";
import { deploymentTransports, useDeployment, useDevModel } from "./helpers/deployment.ts";
import { connect, type Instance } from "./helpers/live.ts";

/**
 * Every client frame type over a real socket, each valid frame mutated with each hostile class
 * (NUL and unpaired surrogates in every string and key, nesting past the depth limit at every
 * field and as the frame, impossible numbers, rooms that are not UUIDs): each answer is an
 * `error` frame with the documented code, and the connection lives (a ping still gets its pong).
 */
type Frame = { type: string; [k: string]: unknown };
const FRAME_TYPES: ClientFrame["type"][] = [
  "subscribe",
  "unsubscribe",
  "message.send",
  "generation.stop",
  "session.pause",
  "session.resume",
  "session.end",
  "teacher.message",
  "alert.ack",
  "ping",
];
// 5,000 levels (10 KB) fit one frame; the frame limit (16 KiB) stops anything bigger first.
const DEEP = 5_000;

const h = useHarness();
const dev = useDevModel(h, 200);

for (const [name, skip] of deploymentTransports())
  describe.skipIf(skip)(`hostile frames get error frames and the connection lives (${name})`, () => {
    const d = useDeployment(h, dev, name);
    let api: Instance;
    let s: SchoolScene;
    let sessionId: string;
    let alertId: string;

    beforeAll(async () => {
      api = await d.start();
      s = await makeSchoolScene(h.db.db);
      sessionId = (await makeSession(h.db.db, { toolId: s.tool.id, studentId: s.student.id, groupId: s.department.id, classId: s.cls.id })).id;
      alertId = (await makeExtraction(h.db.db, { sessionId, classId: s.cls.id, groupId: s.department.id })).id;
    }, 30_000);

    function validFrame(type: ClientFrame["type"]): { frame: Record<string, unknown>; as: "student" | "teacher" } {
      const id = "req-1";
      switch (type) {
        case "subscribe":
          return { frame: { type, id, room: `session:${sessionId}`, lastOffset: 0, epoch: "e1" }, as: "teacher" };
        case "unsubscribe":
          return { frame: { type, id, room: `class:${s.cls.id}` }, as: "teacher" };
        case "message.send":
          return { frame: { type, id, sessionId, clientMessageId: "c-1", content: "Why are leaves green?" }, as: "student" };
        case "teacher.message":
          return { frame: { type, id, sessionId, clientMessageId: "t-1", content: "Look at figure 3." }, as: "teacher" };
        case "alert.ack":
          return { frame: { type, id, alertId }, as: "teacher" };
        case "ping":
          return { frame: { type, id }, as: "student" };
        default:
          return { frame: { type, id, sessionId }, as: "teacher" };
      }
    }

    test("every frame type × every hostile class", async () => {
      let frames = 0;
      let internal = 0;
      const failures: string[] = [];
      for (const type of FRAME_TYPES) {
        const { frame, as } = validFrame(type);
        const variants = bodyVariants(frame as never, { deepLevels: DEEP, deepObjectLevels: Math.floor(DEEP / 3), manyValues: false }).map((v) => ({
          ...v,
          // Numbers a frame carries (lastOffset) are bus offsets: a huge one is a reset, not an error.
          mayPass: /^(2147483648|-2147483649) at /.test(v.label),
        }));
        if ("room" in frame) {
          for (const kind of ["session", "class"]) {
            variants.push({
              label: `${kind}: + 36 dashes`,
              text: JSON.stringify({ ...frame, room: `${kind}:${"-".repeat(36)}` }),
              expect: ["NOT_FOUND"],
              mayPass: type === "unsubscribe",
            });
          }
        }
        if ("sessionId" in frame)
          variants.push({
            label: "sessionId of 36 dashes",
            text: JSON.stringify({ ...frame, sessionId: "-".repeat(36) }),
            expect: ["VALIDATION_FAILED"],
            mayPass: false,
          });
        // One connection per frame type keeps the sweep inside the frame-rate burst.
        expect(variants.length + 2).toBeLessThan(REALTIME_LIMITS.burstFrames);
        const client = await connect(api, as === "student" ? s.student : s.teacher);
        for (const v of variants) {
          const start = client.frames.length;
          client.ws.send(v.text);
          frames += 1;
          const answer = await client.next((f: Frame) => f.type === "error" || f.type === "ack" || f.type === "pong", 5000, start);
          if (answer.code === "INTERNAL") internal += 1;
          const ok = answer.type === "error" ? v.expect.includes(String(answer.code)) : v.mayPass;
          if (!ok) failures.push(`${type}: ${v.label} → ${answer.type} ${String(answer.code ?? "")}`);
        }
        const pong = await client.request({ type: "ping" });
        frames += 1;
        if (pong.type !== "pong" || client.closed) failures.push(`${type}: connection did not live (${JSON.stringify(client.closed)})`);
        client.close();
      }
      console.log(`hostile WebSocket sweep (${name}): ${FRAME_TYPES.length} frame types, ${frames} frames, ${internal} answered INTERNAL`);
      expect(failures).toEqual([]);
      expect(internal).toBe(0);
      expect(frames).toBeGreaterThan(150);
    }, 120_000);

    test("each valid frame reaches its handler (the sweep's callers could act)", async () => {
      const refused: string[] = [];
      // Session state changes last: ending the session would refuse what follows.
      for (const type of FRAME_TYPES) {
        const { frame, as } = validFrame(type);
        const client = await connect(api, as === "student" ? s.student : s.teacher);
        const answer = await client.request(frame);
        const reached = answer.type === "ack" || answer.type === "pong" || ["SESSION_BUSY", "SESSION_PAUSED", "SESSION_ENDED", "CONFLICT"].includes(String(answer.code));
        if (!reached) refused.push(`${type} → ${answer.type} ${String(answer.code ?? "")} ${String(answer.message ?? "")}`);
        client.close();
      }
      expect(refused).toEqual([]);
    }, 60_000);

    test("text the database cannot store is refused over both edges, and nothing is stored", async () => {
      // A session of its own: the tests above may have ended theirs.
      const sessionId = (await makeSession(h.db.db, { toolId: s.tool.id, studentId: s.student.id, groupId: s.department.id, classId: s.cls.id })).id;
      const client = await connect(api, s.student);
      for (const [name, bad] of BAD_STRINGS) {
        const clientMessageId = `bad-${name.replaceAll(" ", "-")}`;
        const answer = await client.request({ type: "message.send", sessionId, clientMessageId, content: `hello${bad}` });
        expect(answer).toMatchObject({ type: "error", code: "VALIDATION_FAILED" });
        const res = await fetch(`${api.baseUrl}/api/sessions/${sessionId}/messages`, {
          method: "POST",
          headers: { ...(await authHeader(s.student)), "content-type": "application/json" },
          body: JSON.stringify({ clientMessageId, content: `hello${bad}` }),
        });
        expect(res.status).toBe(422);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("VALIDATION_FAILED");
      }
      const stored = await h.db.db
        .select()
        .from(messages)
        .where(and(eq(messages.sessionId, sessionId), like(messages.clientMessageId, "bad-%")));
      expect(stored).toEqual([]);
      client.close();
    }, 30_000);
  });
