import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { type Classroom, startClassroom } from "./classroom.ts";
import { answerIn, assistantMessages, sendMessage, sessionPath, signIn, startAssignment, waitLive, waitStreamingText } from "./console-page.ts";
import { type CuttableProxy, startCuttableProxy } from "./cuttable-proxy.ts";
import { checkPage, hasChromium, launchBrowser, newContext, pageProblems, readable, waitUntil } from "./harness.ts";

/**
 * Text is never lost or doubled on a page: a student whose network drops mid-answer ends with
 * exactly the stored answer, once; a teacher who opens the session mid-answer ends with the full
 * text. The student reaches instance A through a proxy the test can cut (see cuttable-proxy.ts:
 * Chromium's offline mode alone leaves an open WebSocket open); the teacher is on instance B.
 */
describe.skipIf(!hasChromium)("console in Chromium: offline mid-answer, joining mid-answer", () => {
  let room: Classroom;
  let browser: Browser;
  let proxy: CuttableProxy;
  let studentContext: BrowserContext;
  let student: Page;
  let sessionId = "";
  const problems: string[] = [];

  beforeAll(async () => {
    // About 50 words at 4 words/s: twelve seconds of answer to cut into and join.
    room = await startClassroom({ tokensPerSecond: 4 });
    proxy = await startCuttableProxy({ host: "127.0.0.1", port: Number(new URL(room.a.baseUrl).port) });
    browser = await launchBrowser();
    studentContext = await newContext(browser, proxy.url);
    student = await studentContext.newPage();
    await signIn(student, "student1");
    sessionId = await startAssignment(student, room.assignment.title);
    await waitLive(student);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await room?.stop();
  }, 180_000);

  /** What the page shows against what is stored: every message once, same order, same text and state. */
  async function expectPageMatchesStore(page: Page) {
    const stored = await room.storedMessages(sessionId);
    const shown = await page.$$eval('[data-testid="message"]', (nodes) => nodes.map((n) => n.getAttribute("data-message-id")));
    expect(shown).toEqual(stored.map((m) => m.id));
    const answers = await assistantMessages(page);
    expect(answers.map((m) => [m.id, m.state, readable(m.text)])).toEqual(stored.filter((m) => m.role === "assistant").map((m) => [m.id, m.state, readable(m.content)]));
  }

  test("the student goes offline mid-answer and comes back to exactly the stored answer, once", async () => {
    await sendMessage(student, "How do plants make food from sunlight?");
    const before = await waitStreamingText(student, 30);

    // The link drops: the socket is closed under the page, then the browser is offline too.
    proxy.cut();
    expect(proxy.cutConnections).toBeGreaterThan(0);
    const seen = await waitUntil(
      "the page to notice",
      () => student.getByTestId("connection-state").getAttribute("data-state"),
      (s) => s !== "live",
      15_000,
    );
    expect(["connecting", "resyncing", "offline"]).toContain(seen ?? "");
    await studentContext.setOffline(true);
    expect(await student.evaluate(() => navigator.onLine)).toBe(false);
    expect(await checkPage(student, "student-session-offline")).toEqual([]);
    await Bun.sleep(2500);

    await studentContext.setOffline(false);
    proxy.restore();
    await waitLive(student, 30_000);
    // Reported, not asserted (it depends on the machine's load): was the answer still streaming on
    // return, so that the page caught up and then followed the live tail?
    const onReturn = (await assistantMessages(student)).at(-1);
    console.log(`offline test: ${before.length} chars before the cut; on return the answer was ${onReturn?.state} at ${onReturn?.text.length} chars`);
    await answerIn(student, "complete", 40_000);
    await expectPageMatchesStore(student);
    expect(await checkPage(student, "student-session-after-offline")).toEqual([]);
  }, 120_000);

  test("a teacher on the other instance opens the session mid-answer and ends with the full text", async () => {
    const teacherContext = await newContext(browser, room.b.baseUrl);
    const teacher = await teacherContext.newPage();
    await signIn(teacher, "teacher");
    await sendMessage(student, "Is chlorophyll the green part of the leaf?");
    await waitStreamingText(student, 40);

    await teacher.goto(sessionPath(sessionId));
    // The text so far arrives with the page (the room's snapshot), still streaming.
    const joined = await waitStreamingText(teacher, 1, 15_000);
    expect(joined.length).toBeGreaterThan(0);
    expect(await checkPage(teacher, "teacher-session-joined-mid-answer")).toEqual([]);
    await answerIn(teacher, "complete", 40_000);
    await answerIn(student, "complete", 10_000);
    await expectPageMatchesStore(teacher);
    await expectPageMatchesStore(student);
    expect(await checkPage(teacher, "teacher-session-joined-complete")).toEqual([]);
    problems.push(...pageProblems(teacherContext));
    await teacherContext.close();
  }, 120_000);

  test("no page raised an uncaught error or was refused by the content security policy", () => {
    expect([...problems, ...pageProblems(studentContext)]).toEqual([]);
  });
});
