import { describe, expect, test } from "bun:test";
import { SEED, users } from "@raptscallions/db";
import { eq } from "drizzle-orm";
import { useClassroomInBrowser } from "./classroom.ts";
import { signIn } from "./console-page.ts";
import { checkPage, hasChromium, newContext } from "./harness.ts";

/** The admin page's Student data section: find a student, download their export, erase them after confirming. */
describe.skipIf(!hasChromium)("console in Chromium: a student's data", () => {
  const lesson = useClassroomInBrowser({ tokensPerSecond: 40 });

  test("the principal exports a student's data as a zip and erases them", async () => {
    const seeded = SEED.users.students[2];
    const context = await newContext(lesson.browser, lesson.room.a.baseUrl);
    const page = await context.newPage();
    await signIn(page, "principal");
    await page.getByRole("heading", { level: 1 }).waitFor();
    await page.goto("/app/admin");
    await page.getByRole("heading", { name: "Student data" }).waitFor();
    await page.getByLabel("Name or email").fill(seeded.name);
    await page.getByRole("button", { name: "Find" }).click();
    await page.getByRole("button", { name: seeded.name }).click();
    await page.getByRole("heading", { name: seeded.name }).waitFor();
    expect(await checkPage(page, "student-data")).toEqual([]);

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export everything (zip)" }).click()]);
    expect(download.suggestedFilename()).toMatch(/^student-.*\.zip$/);
    await page.getByRole("status").filter({ hasText: "Export downloaded" }).waitFor();

    await page.getByRole("button", { name: "Erase…" }).click();
    await page.getByRole("button", { name: `Yes, erase ${seeded.name}` }).click();
    await page.getByRole("status").filter({ hasText: "Erased (anonymise)" }).waitFor();
    const [row] = await lesson.room.db.db.select().from(users).where(eq(users.clerkUserId, seeded.clerkUserId));
    // The Clerk id went with the identity: no row carries it any more.
    expect(row).toBeUndefined();
    await context.close();
  }, 120_000);
});
