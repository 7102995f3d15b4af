import { describe, expect, test } from "bun:test";
import type { BrowserContext, Page } from "playwright-core";
import { useClassroomInBrowser } from "./classroom.ts";
import { answerIn, signIn } from "./console-page.ts";
import { checkPage, hasChromium, newContext, pageProblems } from "./harness.ts";

/**
 * The rest of the console's pages under axe (the admins' views: group tree, classes, usage, the
 * theme editor and its live preview), and the student's path through it by keyboard alone.
 */
describe.skipIf(!hasChromium)("console in Chromium: admin pages, and a chat by keyboard alone", () => {
  const lesson = useClassroomInBrowser({ tokensPerSecond: 40 });
  const contexts: BrowserContext[] = [];

  async function pageOn(baseUrl: string): Promise<Page> {
    const context = await newContext(lesson.browser, baseUrl);
    contexts.push(context);
    return context.newPage();
  }

  test("the system admin: home and the admin page", async () => {
    const admin = await pageOn(lesson.room.a.baseUrl);
    await signIn(admin, "admin");
    await admin.getByRole("link", { name: "Groups, classes, usage and themes" }).waitFor();
    expect(await checkPage(admin, "admin-home")).toEqual([]);
    await admin.getByRole("link", { name: "Groups, classes, usage and themes" }).click();
    await admin.getByRole("heading", { name: "Administration" }).waitFor();
    await admin.getByRole("heading", { name: "Groups" }).waitFor();
    await admin.locator(".tree button").first().waitFor();
    expect(await checkPage(admin, "admin-page")).toEqual([]);
  }, 120_000);

  // The principal's tree is the seeded school and its department alone (a system admin's spans
  // every group in a shared test database).
  test("the school's principal: each level of their group tree, and the theme preview following an edit", async () => {
    const principal = await pageOn(lesson.room.b.baseUrl);
    await signIn(principal, "principal");
    await principal.getByRole("heading", { level: 1 }).waitFor();
    expect(await checkPage(principal, "principal-home")).toEqual([]);
    await principal.goto("/app/admin");
    await principal.getByRole("heading", { name: "Administration" }).waitFor();
    for (const [name, shot] of [
      ["Northwind High School", "principal-admin-school"],
      ["Science Department", "principal-admin-department"],
    ] as const) {
      await principal.getByRole("button", { name: new RegExp(`^${name}`) }).click();
      await principal.getByRole("heading", { name: `Theme of ${name}` }).waitFor();
      await principal.getByRole("heading", { name: "AI usage, last 30 days" }).waitFor();
      await principal
        .locator("section", { has: principal.getByRole("heading", { name: "Classes" }) })
        .getByRole("status")
        .waitFor({ state: "detached" });
      expect(await checkPage(principal, shot)).toEqual([]);
    }

    // The preview follows the draft before anything is saved, and keeps text readable even
    // when the draft pairs dark text with a dark background (axe checks the contrast below).
    const preview = principal.getByTestId("theme-preview");
    await principal.getByLabel("background (hex)").fill("#1a1a2e");
    await principal.getByLabel("text (hex)").fill("#202030");
    await principal.getByLabel("primary (hex)").fill("#123456");
    await principal.waitForFunction(() => (document.querySelector('[data-testid="theme-preview"]')?.getAttribute("style") ?? "").includes("#123456"));
    expect(await preview.getAttribute("style")).toContain("#1a1a2e");
    expect(await checkPage(principal, "principal-theme-draft")).toEqual([]);
  }, 120_000);

  test("a student signs in, starts the assignment, sends a message and reads the answer with the keyboard alone", async () => {
    const student = await pageOn(lesson.room.a.baseUrl);
    await student.goto("/app/");
    await student.getByTestId("signin-student2").waitFor();

    /** Presses Tab until the focused element is the one described (a person tabbing through the page), then `key`. */
    async function tabTo(target: { testid?: string; text?: string }, key = "Enter") {
      for (let i = 0; i < 60; i++) {
        const focused = await student.evaluate((t) => {
          const el = document.activeElement;
          if (!el || el === document.body) return false;
          return (t.testid === undefined || el.getAttribute("data-testid") === t.testid) && (t.text === undefined || el.textContent?.trim() === t.text);
        }, target);
        if (focused) {
          await student.keyboard.press(key);
          return;
        }
        await student.keyboard.press("Tab");
      }
      throw new Error(`${JSON.stringify(target)} cannot be reached with Tab`);
    }

    await tabTo({ testid: "signin-student2" });
    const start = `Start “${lesson.room.assignment.title}”`;
    await student.getByRole("button", { name: start }).waitFor();
    await tabTo({ text: start });
    await student.waitForURL(/\/app\/sessions\//);
    await student.getByTestId("chat-input").waitFor();
    await tabTo({ testid: "chat-input" }, "H");
    await student.keyboard.type("ow do leaves use light?");
    await student.keyboard.press("Enter");
    await answerIn(student, "complete", 30_000);
    // The conversation itself can take focus, so a long chat scrolls from the keyboard.
    await tabTo({ testid: "messages" }, "End");
    expect(await student.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("messages");
    expect(await checkPage(student, "student-keyboard-chat")).toEqual([]);
  }, 120_000);

  test("no page raised an uncaught error or was refused by the content security policy", () => {
    expect(contexts.flatMap(pageProblems)).toEqual([]);
  });
});
