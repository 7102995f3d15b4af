import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { eventually } from "@raptscallions/core/testing";

/**
 * The browser side of the console's tests: Debian's Chromium driven by playwright-core (its own
 * browser download is not reachable from CI), axe-core in every page, a screenshot of every page.
 *
 * Runs under `bun test` as is: playwright-core launches Chromium over a pipe from Bun without
 * any shim. Suites use `describe.skipIf(!hasChromium)` so a machine without Chromium reports them
 * as skipped; CI installs it (`apt-get install -y chromium`).
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM_PATH);

// Chromium keeps trying to reach Google's services otherwise; with the network closed that slows
// start-up and fills the run with refused connections. No sandbox: CI runs as root in a container.
const LAUNCH_ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
  "--disable-gpu",
  "--disable-dev-shm-usage",
];

/** Headless Chromium; close it in afterAll. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: LAUNCH_ARGS });
}

const problems = new WeakMap<BrowserContext, string[]>();

/**
 * A fresh context (its own cookies and storage: one person). Pages keep the server's own content
 * security policy: axe is evaluated through the DevTools protocol, which no page policy governs,
 * so a policy that breaks the console breaks the tests too. Uncaught page errors and policy
 * violations are collected; see {@link pageProblems}.
 */
export async function newContext(browser: Browser, baseURL: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 860 } });
  context.setDefaultTimeout(30_000);
  const found: string[] = [];
  problems.set(context, found);
  context.on("page", (page) => {
    page.on("pageerror", (err) => found.push(`${page.url()}: uncaught ${err.message}`));
    page.on("console", (msg) => {
      if (msg.type() === "error" && /content security policy/i.test(msg.text())) found.push(`${page.url()}: ${msg.text()}`);
    });
  });
  return context;
}

/** A page in a browser context of its own (its own cookies and storage) on `baseURL`. */
export async function openPage(browser: Browser, baseURL: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await newContext(browser, baseURL);
  return { context, page: await context.newPage() };
}

/** Uncaught errors and content-security-policy violations seen in the context's pages so far. */
export function pageProblems(context: BrowserContext): string[] {
  return [...(problems.get(context) ?? [])];
}

let screenshotDir: string | undefined;

/**
 * Where screenshots go: `SCREENSHOT_DIR` (CI sets one per pass and prints it), else a fresh temp
 * directory. The path is printed once so a reviewer can find the pictures of a local run too.
 */
export function screenshotsDir(): string {
  if (!screenshotDir) {
    const configured = process.env.SCREENSHOT_DIR;
    if (configured) mkdirSync(configured, { recursive: true });
    screenshotDir = configured || mkdtempSync(join(tmpdir(), "rapt-screenshots-"));
    console.log(`browser screenshots: ${screenshotDir}`);
  }
  return screenshotDir;
}

/** Saves a full-page screenshot as `<name>.png` and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(screenshotsDir(), `${name.replace(/[^a-z0-9._-]+/gi, "-")}.png`);
  await page.screenshot({ path, fullPage: true, timeout: 60_000 });
  return path;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** One axe finding, trimmed to what a failing assertion needs to say. */
export interface AxeFinding {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core (every rule of the pinned version except experimental ones) on the page as it is
 * now and returns the serious and critical violations. Minor and moderate ones are not failures.
 */
export async function seriousA11yViolations(page: Page): Promise<AxeFinding[]> {
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe === "object");
  if (!loaded) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    type Result = { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] };
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: Result[] }> } }).axe;
    const { violations } = await axe.run(document, { resultTypes: ["violations"] });
    return violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact ?? "", help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
  });
}

/**
 * What every test does on every page it reaches: a screenshot, then axe. Returns the serious or
 * critical violations (the caller asserts `toEqual([])`, so a failure lists them).
 */
export async function checkPage(page: Page, name: string): Promise<AxeFinding[]> {
  await screenshot(page, name);
  return seriousA11yViolations(page);
}

/** Polls `read` until `done(value)` holds (every 100 ms); the error names the last value read. */
export async function waitUntil<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  let last: T | undefined;
  const found = await eventually(
    async () => {
      last = await read();
      return done(last) && { value: last };
    },
    () => `${what}; last value: ${JSON.stringify(last)}`,
    timeoutMs,
    100,
  );
  return found.value;
}

/** Text as a person reads it: runs of whitespace (line breaks between rendered paragraphs) as one space. */
export const readable = (text: string) => text.replace(/\s+/g, " ").trim();
