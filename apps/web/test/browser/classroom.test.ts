import { beforeAll, describe, expect, test } from "bun:test";
import type { BrowserContext, Page } from "playwright-core";
import { restCall } from "../../../api/test/helpers/live.ts";
import { useClassroomInBrowser } from "./classroom.ts";
import { answerIn, assistantMessages, classPath, sendMessage, signIn, startAssignment, waitLive, waitStreamingText } from "./console-page.ts";
import { checkPage, hasChromium, openPage, pageProblems, readable, waitUntil } from "./harness.ts";

/**
 * A lesson in two browser contexts: student1 chats on instance A; the teacher, on instance B,
 * watches the class (presence, the answer streaming in the row), gets the alert a crisis message
 * raises, opens the session and stops an answer, which the student's page shows as stopped.
 * Every page reached is screenshotted and checked with axe.
 */
describe.skipIf(!hasChromium)("console in Chromium: a student chats, the teacher on another instance watches", () => {
  // About 50 words per answer at 6 words/s: long enough to watch and stop mid-way.
  const lesson = useClassroomInBrowser({ tokensPerSecond: 6 });
  let studentContext: BrowserContext;
  let teacherContext: BrowserContext;
  let student: Page;
  let teacher: Page;
  let sessionId = "";

  beforeAll(async () => {
    ({ context: studentContext, page: student } = await openPage(lesson.browser, lesson.room.a.baseUrl));
    ({ context: teacherContext, page: teacher } = await openPage(lesson.browser, lesson.room.b.baseUrl));
  }, 60_000);

  test("sign-in picker, then each person's home", async () => {
    await student.goto("/app/");
    await student.getByTestId("signin-student1").waitFor();
    expect(await checkPage(student, "sign-in")).toEqual([]);
    await signIn(student, "student1");
    await student.getByRole("button", { name: `Start “${lesson.room.assignment.title}”` }).waitFor();
    expect(await checkPage(student, "student-home")).toEqual([]);

    await signIn(teacher, "teacher");
    await teacher.getByRole("link", { name: `${lesson.room.className} — live view` }).waitFor();
    expect(await checkPage(teacher, "teacher-home")).toEqual([]);
  }, 90_000);

  test("the teacher's class view shows the student online and the answer streaming into their row", async () => {
    sessionId = await startAssignment(student, lesson.room.assignment.title);
    await waitLive(student);
    expect(await checkPage(student, "student-session-new")).toEqual([]);

    await teacher.goto(classPath(lesson.room.classId));
    await teacher.getByTestId("class-live").waitFor();
    const row = teacher.locator(`[data-testid="student-row"][data-user-id="${lesson.room.studentId}"]`);
    await row.locator('[data-testid="presence"][data-online="true"]').waitFor();
    await waitLive(teacher);

    await sendMessage(student, "How do plants make food from sunlight?");
    // The row shows the answer while it streams (the session room joined from B), growing.
    const latest = row.getByTestId("latest-message");
    await row.locator('[data-testid="latest-message"][data-state="streaming"]').waitFor();
    const early = (await latest.textContent()) ?? "";
    // The row shows the tail of a streaming answer, so "growing" means the text moves on.
    await waitUntil(
      "the row's answer to grow",
      async () => (await latest.textContent()) ?? "",
      (text) => text !== early && text.length >= Math.min(early.length + 10, 160),
    );
    expect(await checkPage(teacher, "teacher-class-streaming")).toEqual([]);

    await answerIn(student, "complete", 30_000);
    const stored = (await lesson.room.storedMessages(sessionId)).filter((m) => m.role === "assistant");
    expect(stored).toHaveLength(1);
    expect(stored[0]?.state).toBe("complete");
    const shown = await assistantMessages(student);
    expect(shown.map((m) => [m.id, m.state, readable(m.text)])).toEqual(stored.map((m) => [m.id, m.state, readable(m.content)]));
    await row.locator('[data-testid="latest-message"][data-state="complete"]').waitFor();
    // A finished answer shows in the row from its start.
    expect(readable((await latest.textContent()) ?? "")).toContain(readable(stored[0]?.content ?? "?").slice(0, 60));
    expect(await checkPage(student, "student-session-answered")).toEqual([]);
  }, 120_000);

  test("a crisis message gets the caring reply on the student's page and a live alert on the teacher's", async () => {
    const before = await restCall(lesson.room.b, lesson.room.teacher, "GET", `/api/alerts?classId=${lesson.room.classId}&limit=200`);
    expect(before.status).toBe(200);
    const known = new Set((before.body.items as { id: string }[]).map((a) => a.id));

    await sendMessage(student, "I want to kill myself");
    await student.locator('[data-testid="message"][data-caring="true"]').waitFor({ timeout: 20_000 });
    expect(await checkPage(student, "student-session-caring-reply")).toEqual([]);

    // Arrives on the open class view without a reload.
    const fresh = teacher.locator('[data-testid="alert"][data-status="open"]').filter({ hasText: lesson.room.studentName }).filter({ hasText: "safety-filter" });
    const newIds = await waitUntil(
      "a new open alert about the student",
      async () => (await fresh.evaluateAll((els) => els.map((e) => e.getAttribute("data-alert-id") ?? ""))).filter((id) => !known.has(id)),
      (ids) => ids.length > 0,
      20_000,
    );
    expect(newIds).toHaveLength(1);
    const alertId = newIds[0] ?? "";
    const alert = teacher.locator(`[data-testid="alert"][data-alert-id="${alertId}"]`);
    expect(await alert.getAttribute("data-severity")).toBe("critical");
    expect(await checkPage(teacher, "teacher-class-alert")).toEqual([]);

    await alert.getByTestId("alert-ack").click();
    await teacher.locator(`[data-testid="alert"][data-alert-id="${alertId}"][data-status="acknowledged"]`).waitFor();
    const after = await restCall(lesson.room.b, lesson.room.teacher, "GET", `/api/alerts?classId=${lesson.room.classId}&limit=200`);
    expect((after.body.items as { id: string; status: string }[]).find((a) => a.id === alertId)?.status).toBe("acknowledged");
  }, 90_000);

  test("the teacher opens the session, stops an answer mid-stream, and the student's page shows it stopped", async () => {
    await teacher
      .locator(`[data-testid="student-row"][data-user-id="${lesson.room.studentId}"]`)
      .getByRole("link", { name: /session/ })
      .click();
    await teacher.waitForURL(new RegExp(`/app/sessions/${sessionId}$`));
    await waitLive(teacher);
    await sendMessage(student, "Is chlorophyll the green part of the leaf?");
    await waitStreamingText(teacher, 40);
    expect(await checkPage(teacher, "teacher-session-streaming")).toEqual([]);
    await teacher.getByTestId("chat-stop").click();

    await answerIn(student, "stopped", 15_000);
    await answerIn(teacher, "stopped", 15_000);
    const stored = (await lesson.room.storedMessages(sessionId)).filter((m) => m.role === "assistant");
    const last = stored.at(-1);
    expect(last?.state).toBe("stopped");
    const studentView = await assistantMessages(student);
    const teacherView = await assistantMessages(teacher);
    // Exactly what is stored, once each, on both pages.
    const expected = stored.map((m) => [m.id, m.state, readable(m.content)]);
    expect(studentView.map((m) => [m.id, m.state, readable(m.text)])).toEqual(expected);
    expect(teacherView.map((m) => [m.id, m.state, readable(m.text)])).toEqual(expected);
    expect(await checkPage(student, "student-session-stopped")).toEqual([]);
    expect(await checkPage(teacher, "teacher-session-stopped")).toEqual([]);
  }, 90_000);

  test("no page raised an uncaught error or was refused by the content security policy", () => {
    expect([...pageProblems(studentContext), ...pageProblems(teacherContext)]).toEqual([]);
  });
});
