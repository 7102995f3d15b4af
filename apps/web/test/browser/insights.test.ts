import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { assignments, classes, messages, sessions } from "@raptscallions/db";
import { makeExtraction, makeSession } from "@raptscallions/db/testing";
import { eq } from "drizzle-orm";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { type Classroom, startClassroom } from "./classroom.ts";
import { classPath, sessionPath, signIn, waitLive } from "./console-page.ts";
import { checkPage, hasChromium, launchBrowser, newContext, pageProblems } from "./harness.ts";

/**
 * Teacher insights in the console: the class live page ranks who needs attention (a student with
 * an open critical alert on top, with its flag), and the session page summarises a live session
 * on demand (the dev model's summary, built from the stored transcript).
 */
describe.skipIf(!hasChromium)("console in Chromium: who needs attention and a session summary", () => {
  let room: Classroom;
  let browser: Browser;
  let context: BrowserContext;
  let teacher: Page;
  let sessionId = "";

  beforeAll(async () => {
    room = await startClassroom({ tokensPerSecond: 200 });
    const [cls] = await room.db.db.select().from(classes).where(eq(classes.id, room.classId));
    if (!cls) throw new Error("no class");
    const [assignment] = await room.db.db.select({ toolId: assignments.toolId }).from(assignments).where(eq(assignments.id, room.assignment.id));
    if (!assignment) throw new Error("no assignment");
    const session = await makeSession(room.db.db, {
      toolId: assignment.toolId,
      studentId: room.studentId,
      groupId: cls.groupId,
      classId: room.classId,
    });
    sessionId = session.id;
    const turns = [
      { role: "user" as const, content: "How does photosynthesis make sugar?" },
      { role: "assistant" as const, content: "What do plants take in from the air?" },
      { role: "user" as const, content: "Carbon dioxide? I still don't understand photosynthesis" },
    ];
    for (const [i, t] of turns.entries()) {
      await room.db.db.insert(messages).values({ sessionId, seq: i + 1, role: t.role, content: t.content, state: t.role === "assistant" ? "complete" : null });
    }
    await room.db.db.update(sessions).set({ lastSeq: turns.length }).where(eq(sessions.id, sessionId));
    await makeExtraction(room.db.db, {
      sessionId,
      classId: room.classId,
      groupId: cls.groupId,
      severity: "critical",
      kind: "self-harm",
      data: { message: "Possible self-harm." },
    });
    browser = await launchBrowser();
    context = await newContext(browser, room.b.baseUrl);
    teacher = await context.newPage();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await room?.stop();
  }, 180_000);

  test("the class live page lists the alerted student first, flagged", async () => {
    await signIn(teacher, "teacher");
    await teacher.goto(classPath(room.classId));
    await teacher.getByTestId("class-live").waitFor();
    const first = teacher.getByTestId("attention-row").first();
    await first.waitFor();
    expect(await first.getAttribute("data-user-id")).toBe(room.studentId);
    expect(await first.getAttribute("data-flags")).toContain("alert");
    expect(await first.textContent()).toContain("open alert");
    expect(await checkPage(teacher, "teacher-class-attention")).toEqual([]);
  }, 90_000);

  test("the session page summarises the live session on demand", async () => {
    await teacher.goto(sessionPath(sessionId));
    await waitLive(teacher);
    await teacher.getByTestId("summary-panel").waitFor();
    await teacher.getByTestId("summarise-now").click();
    const text = teacher.getByTestId("summary-text");
    await text.waitFor();
    const shown = (await text.textContent()) ?? "";
    expect(shown).toContain("Worked on: photosynthesis");
    expect(shown).toContain("Alerts: self-harm (critical) x1.");
    expect(await checkPage(teacher, "teacher-session-summary")).toEqual([]);
    expect(pageProblems(context)).toEqual([]);
  }, 90_000);
});
