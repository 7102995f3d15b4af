import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import type { Browser } from "playwright-core";
import { createApp } from "../../../api/src/app.ts";
import { createTestDb, testDeps } from "../../../api/test/helpers/deps.ts";
import { checkPage, hasChromium, launchBrowser, newContext, screenshot, seriousA11yViolations } from "./harness.ts";

/**
 * The harness itself, on the pages the API serves without the console: the API reference at
 * /docs is a real page, and a page built to fail proves axe findings reach the assertion.
 */
describe.skipIf(!hasChromium)("browser harness (Chromium at /usr/bin/chromium)", () => {
  let browser: Browser;
  let server: ReturnType<typeof Bun.serve>;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const db = await createTestDb();
    const app = createApp(await testDeps(db));
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
    browser = await launchBrowser();
    close = async () => {
      await browser.close();
      server.stop(true);
      await db.close();
    };
  }, 180_000);
  afterAll(() => close(), 60_000);

  test("/docs renders the API reference, has no serious or critical axe violation, and is kept as a screenshot", async () => {
    const context = await newContext(browser, `http://127.0.0.1:${server.port}`);
    const page = await context.newPage();
    const res = await page.goto("/docs");
    expect(res?.status()).toBe(200);
    await expect(page.locator("h1").first().textContent()).resolves.toContain("raptscallions API");
    expect(await checkPage(page, "api-docs")).toEqual([]);
    await context.close();
  }, 180_000);

  test("axe findings reach the test: a page with an unlabelled image and button fails", async () => {
    const context = await newContext(browser, `http://127.0.0.1:${server.port}`);
    const page = await context.newPage();
    await page.setContent(`<!doctype html><html><body><main><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><button></button></main></body></html>`);
    const found = await seriousA11yViolations(page);
    expect(found.map((f) => f.id).sort()).toEqual(["button-name", "document-title", "html-has-lang", "image-alt"]);
    const path = await screenshot(page, "harness-self-check");
    expect(existsSync(path) && statSync(path).size > 0).toBe(true);
    await context.close();
  });
});
