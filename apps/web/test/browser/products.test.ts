import { beforeAll, describe, expect, test } from "bun:test";
import { runs, SEED, tools, toolVersions, users } from "@raptscallions/db";
import { makeTool, unique } from "@raptscallions/db/testing";
import { eq } from "drizzle-orm";
import type { BrowserContext, Page } from "playwright-core";
import { makeDevModel } from "../../../api/test/helpers/ai.ts";
import { restCall } from "../../../api/test/helpers/live.ts";
import { useClassroomInBrowser } from "./classroom.ts";
import { productsPath, runOutput, runState, signIn, waitLive } from "./console-page.ts";
import { checkPage, hasChromium, openPage, pageProblems, readable, waitUntil } from "./harness.ts";

const FORM = [
  { type: "text", name: "topic", label: "Topic", required: true, minLength: 3, maxLength: 200 },
  { type: "number", name: "questions", label: "Number of questions", required: true, min: 1, max: 20, integer: true },
  { type: "select", name: "level", label: "Level", required: true, options: ["beginner", "advanced"] },
  { type: "boolean", name: "answerKey", label: "Include an answer key", required: false },
];
const TEMPLATE = "Write a {{level}} quiz of {{questions}} questions about {{topic}}. Answer key: {{answerKey}}.";

/**
 * Product tools in the console: student1 (instance A) fills a tool's form, is stopped by the
 * client-side check and by the server's 422 (the form changed under the page), runs it and
 * watches the output stream to the end, then stops a second run; the teacher (instance B) finds
 * the class's runs and opens one. Every page passes axe; each page's text equals what REST stores.
 */
describe.skipIf(!hasChromium)("console in Chromium: product tools", () => {
  const lesson = useClassroomInBrowser({ tokensPerSecond: 200 });
  let studentContext: BrowserContext;
  let teacherContext: BrowserContext;
  let student: Page;
  let teacher: Page;
  let toolId = "";
  let toolName = "";
  let model = "";
  const started: string[] = [];

  beforeAll(async () => {
    const [teacherRow] = await lesson.room.db.db.select().from(users).where(eq(users.clerkUserId, SEED.users.teacher.clerkUserId));
    const [seededQuiz] = await lesson.room.db.db.select().from(tools).where(eq(tools.name, "Quiz maker"));
    if (!teacherRow || !seededQuiz) throw new Error("the seed has no Quiz maker");
    // Paced, so a run streams for seconds: long enough to watch and to stop.
    model = (await makeDevModel(lesson.room.db.db, { tokensPerSecond: 6 })).id;
    toolName = unique("Quiz");
    const tool = await makeTool(lesson.room.db.db, seededQuiz.groupId, {
      kind: "product",
      name: toolName,
      createdBy: teacherRow.id,
      definition: { systemPrompt: "You write quizzes.", model, form: FORM, promptTemplate: TEMPLATE },
    });
    toolId = tool.id;
    ({ context: studentContext, page: student } = await openPage(lesson.browser, lesson.room.a.baseUrl));
    ({ context: teacherContext, page: teacher } = await openPage(lesson.browser, lesson.room.b.baseUrl));
  }, 180_000);

  /** Picks the test's tool and waits for its own form (the first tool's form shows until then). */
  async function chooseTool(page: Page) {
    await page.getByRole("button", { name: toolName, exact: true }).click();
    await page.getByRole("form", { name: `${toolName} form` }).waitFor();
  }

  async function storedRun(id: string) {
    const [row] = await lesson.room.db.db.select().from(runs).where(eq(runs.id, id));
    if (!row) throw new Error(`run ${id} not stored`);
    return row;
  }

  test("the form is rendered from the tool's fields; bad inputs are shown per field, before sending and from the server's 422", async () => {
    await signIn(student, "student1");
    await student.getByRole("link", { name: "Product tools" }).click();
    await student.waitForURL(/\/app\/products$/);
    await waitLive(student);
    // The seeded Quiz maker is there on any database the seed ran on.
    await student.getByRole("button", { name: "Quiz maker", exact: true }).waitFor();
    await chooseTool(student);
    expect(await student.getByLabel("Number of questions").getAttribute("type")).toBe("number");
    expect(await student.getByLabel("Level").evaluate((n) => n.tagName)).toBe("SELECT");
    expect(await student.getByLabel("Include an answer key").getAttribute("type")).toBe("checkbox");

    const runsBefore = (await lesson.room.db.db.select().from(runs).where(eq(runs.toolId, toolId))).length;
    await student.getByLabel("Topic").fill("ab");
    await student.getByLabel("Number of questions").fill("50");
    await student.getByTestId("run-start").click();
    await student.getByTestId("run-field-error-topic").waitFor();
    expect(await student.getByTestId("run-field-error-questions").textContent()).toBeTruthy();
    expect(await student.getByTestId("run-field-error-level").textContent()).toBe("Required");
    expect(await student.getByLabel("Topic").getAttribute("aria-invalid")).toBe("true");
    // Focus goes to the first field in error, for keyboard and screen-reader users.
    expect(await student.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("topic");
    expect((await lesson.room.db.db.select().from(runs).where(eq(runs.toolId, toolId))).length).toBe(runsBefore);
    expect(await checkPage(student, "student-product-form-errors")).toEqual([]);

    // The tool's form changes under the open page: what the page allows, the server now refuses.
    await lesson.room.db.db.insert(toolVersions).values({
      toolId,
      version: 2,
      name: toolName,
      definition: { systemPrompt: "You write quizzes.", model, form: FORM.map((f) => (f.name === "topic" ? { ...f, maxLength: 8 } : f)), promptTemplate: TEMPLATE },
    });
    await lesson.room.db.db.update(tools).set({ latestVersion: 2 }).where(eq(tools.id, toolId));
    await student.getByLabel("Topic").fill("photosynthesis");
    await student.getByLabel("Number of questions").fill("3");
    await student.getByLabel("Level").selectOption("beginner");
    await student.getByTestId("run-start").click();
    await student.getByTestId("run-field-error-topic").filter({ hasText: /8/ }).waitFor();
    expect(await student.getByTestId("run-field-error-questions").count()).toBe(0);
    expect((await lesson.room.db.db.select().from(runs).where(eq(runs.toolId, toolId))).length).toBe(runsBefore);
    expect(await checkPage(student, "student-product-form-server-error")).toEqual([]);
  }, 120_000);

  test("a run's output streams in live and ends equal to the stored run", async () => {
    await student.goto(productsPath);
    await chooseTool(student);
    await student.getByLabel("Topic").fill("cells");
    await student.getByLabel("Number of questions").fill("2");
    await student.getByLabel("Level").selectOption("advanced");
    await student.getByLabel("Include an answer key").check();
    await student.getByTestId("run-start").click();
    await student.getByTestId("run").waitFor();
    const runId = (await student.getByTestId("run").getAttribute("data-run-id")) ?? "";
    started.push(runId);
    // Seen growing while it runs: streamed, not loaded at the end.
    const whileRunning = new Set<number>();
    let screenshotted = false;
    await waitUntil(
      "the run to finish",
      async () => {
        const [state, text] = [await runState(student), await runOutput(student)];
        if (state === "running" && text.length > 0) whileRunning.add(text.length);
        if (state === "running" && whileRunning.size === 2 && !screenshotted) {
          screenshotted = true;
          expect(await checkPage(student, "student-product-run-streaming")).toEqual([]);
        }
        return state;
      },
      (state) => state === "complete",
      60_000,
    );
    expect(whileRunning.size).toBeGreaterThanOrEqual(2);
    const row = await storedRun(runId);
    expect(row.state).toBe("complete");
    expect(row.input).toEqual({ topic: "cells", questions: 2, level: "advanced", answerKey: true });
    expect(readable(await runOutput(student))).toBe(readable(row.output ?? ""));
    expect(await student.getByTestId("run-announcer").textContent()).toContain("Finished");
    // The past runs list picks it up.
    await student.locator(`[data-testid="past-run"][data-run-id="${runId}"][data-state="complete"]`).waitFor();
  }, 120_000);

  test("a second run, started and stopped by keyboard alone, ends stopped, as stored", async () => {
    // Tab order follows the form; Enter in a field submits it.
    await student.getByLabel("Topic").focus();
    await student.keyboard.press("ControlOrMeta+a");
    await student.keyboard.type("tides");
    await student.keyboard.press("Tab");
    await student.keyboard.press("ControlOrMeta+a");
    await student.keyboard.type("5");
    await student.keyboard.press("Tab");
    expect(await student.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("level");
    await student.keyboard.press("ArrowDown");
    expect(await student.getByLabel("Level").inputValue()).not.toBe("");
    await student.keyboard.press("Shift+Tab");
    await student.keyboard.press("Enter");
    await student.locator(`[data-testid="run"]:not([data-run-id="${started[0]}"])`).waitFor();
    const runId = (await student.getByTestId("run").getAttribute("data-run-id")) ?? "";
    started.push(runId);
    await waitUntil(
      "some output",
      () => runOutput(student),
      (t) => t.length > 0,
    );
    await student.getByTestId("run-stop").focus();
    await student.keyboard.press("Enter");
    await waitUntil(
      "the run to stop",
      () => runState(student),
      (s) => s === "stopped",
      30_000,
    );
    const row = await storedRun(runId);
    expect(row.state).toBe("stopped");
    expect(row.input).toMatchObject({ topic: "tides", questions: 5 });
    expect(readable(row.output ?? "").length).toBeGreaterThan(0);
    expect(readable(await runOutput(student))).toBe(readable(row.output ?? ""));
    expect(await student.getByTestId("run-stop").count()).toBe(0);
    expect(await checkPage(student, "student-product-run-stopped")).toEqual([]);
    expect(pageProblems(studentContext)).toEqual([]);
  }, 120_000);

  test("the teacher lists the class's runs and opens one", async () => {
    await signIn(teacher, "teacher");
    await teacher.goto(productsPath);
    await waitLive(teacher);
    await teacher.getByLabel("Show").selectOption({ label: `Runs in ${lesson.room.className}` });
    for (const id of started) await teacher.locator(`[data-testid="past-run"][data-run-id="${id}"]`).waitFor();
    expect(await checkPage(teacher, "teacher-product-runs")).toEqual([]);
    // A run that finishes in the class shows up in the open list by itself (the class room says so).
    const other = await restCall(lesson.room.a, lesson.room.student, "POST", "/api/runs", {
      toolId,
      classId: lesson.room.classId,
      input: { topic: "moon", questions: 1, level: "beginner" },
    });
    expect(other.status).toBe(201);
    const otherId = (other.body as { run: { id: string } }).run.id;
    expect((await restCall(lesson.room.a, lesson.room.student, "POST", `/api/runs/${otherId}/stop`)).status).toBe(202);
    await teacher.locator(`[data-testid="past-run"][data-run-id="${otherId}"][data-state="stopped"]`).waitFor();
    await teacher.locator(`[data-testid="past-run"][data-run-id="${started[0]}"] a`).click();
    await teacher.waitForURL(new RegExp(`/app/runs/${started[0]}$`));
    await waitUntil(
      "the run's output",
      () => runOutput(teacher),
      (t) => t.length > 0,
    );
    expect(await runState(teacher)).toBe("complete");
    expect(await teacher.getByRole("heading", { level: 1 }).textContent()).toContain(toolName);
    expect(await checkPage(teacher, "teacher-product-run")).toEqual([]);
    expect(pageProblems(teacherContext)).toEqual([]);
  }, 120_000);
});
