import type { Page } from "playwright-core";

/**
 * The console's pages as the tests (and bench/console-paint.bench.ts) drive them, by the
 * `data-testid`s apps/web documents. One place to change if a route or a test id moves.
 */

export type DevUserKey = "admin" | "principal" | "teacher" | "student1" | "student2" | "student3";

/** Opens the console and signs in with the dev picker as `user`; resolves once signed in. */
export async function signIn(page: Page, user: DevUserKey): Promise<void> {
  await page.goto("/app/");
  await page.getByTestId(`signin-${user}`).click();
  await page.getByTestId(`signin-${user}`).waitFor({ state: "detached" });
}

export const classPath = (classId: string) => `/app/classes/${classId}`;
export const sessionPath = (sessionId: string) => `/app/sessions/${sessionId}`;

/** Waits until the page's live connection says `live`. */
export async function waitLive(page: Page, timeoutMs = 15_000): Promise<void> {
  await page
    .getByTestId("connection-state")
    .filter({ hasText: /^\s*live\s*$/i })
    .first()
    .waitFor({ timeout: timeoutMs });
}

/** The assistant messages as the page shows them, in order: id, state, text. */
export function assistantMessages(page: Page): Promise<{ id: string | null; state: string | null; text: string }[]> {
  return page.$$eval('[data-testid="message"][data-role="assistant"]', (nodes) =>
    nodes.map((n) => ({ id: n.getAttribute("data-message-id"), state: n.getAttribute("data-state"), text: (n.querySelector(".body") ?? n).textContent ?? "" })),
  );
}

/** As a student on the home page: starts the assignment titled `title`; resolves with the session id. */
export async function startAssignment(page: Page, title: string): Promise<string> {
  await page.getByRole("button", { name: `Start “${title}”` }).click();
  await page.waitForURL(/\/app\/sessions\/[0-9a-f-]{36}$/);
  const id = /\/sessions\/([0-9a-f-]{36})$/.exec(page.url())?.[1];
  if (!id) throw new Error(`not on a session page: ${page.url()}`);
  return id;
}

/** Types `text` into the composer and sends it. */
export async function sendMessage(page: Page, text: string): Promise<void> {
  await page.getByTestId("chat-input").fill(text);
  await page.getByTestId("chat-send").click();
}

/** Waits until the last assistant message has at least `chars` characters of text while still streaming. */
export async function waitStreamingText(page: Page, chars: number, timeoutMs = 20_000): Promise<string> {
  const handle = await page.waitForFunction(
    (min) => {
      const nodes = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
      const last = nodes[nodes.length - 1];
      if (last === undefined) return null;
      if (last.getAttribute("data-state") !== "streaming") return null;
      const text = (last.querySelector(".body") ?? last).textContent ?? "";
      return text.length >= min ? text : null;
    },
    chars,
    { timeout: timeoutMs },
  );
  return (await handle.jsonValue()) as string;
}

/** Waits until the last assistant message is in `state` (complete, stopped, failed, interrupted). */
export async function answerIn(page: Page, state: string, timeoutMs = 30_000): Promise<void> {
  await page.waitForFunction(
    (want) => {
      const nodes = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
      return nodes[nodes.length - 1]?.getAttribute("data-state") === want;
    },
    state,
    { timeout: timeoutMs },
  );
}

export const productsPath = "/app/products";
export const runPath = (runId: string) => `/app/runs/${runId}`;

/** The shown run's output text (`run-output`), or "" when no run is shown. */
export function runOutput(page: Page): Promise<string> {
  return page.evaluate(() => document.querySelector('[data-testid="run-output"]')?.textContent ?? "");
}

/** The shown run's state (`run-state`'s `data-state`), or null. */
export function runState(page: Page): Promise<string | null> {
  return page.evaluate(() => document.querySelector('[data-testid="run-state"]')?.getAttribute("data-state") ?? null);
}
