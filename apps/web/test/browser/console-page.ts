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
  await page.getByTestId("connection-state").filter({ hasText: /^\s*live\s*$/i }).first().waitFor({ timeout: timeoutMs });
}

/** The assistant messages as the page shows them, in order: id, state, text. */
export function assistantMessages(page: Page): Promise<{ id: string | null; state: string | null; text: string }[]> {
  return page.$$eval('[data-testid="message"][data-role="assistant"]', (nodes) =>
    nodes.map((n) => ({ id: n.getAttribute("data-message-id"), state: n.getAttribute("data-state"), text: (n.querySelector('[data-testid="message-text"]') ?? n).textContent ?? "" })),
  );
}
