/**
 * Polls `check` until it gives a value — anything but `undefined`, `null` or `false` — and returns
 * it; fails naming `what` once `timeoutMs` have passed. For effects that land a moment later (a
 * job's write, a frame, a finalised row): a test waits for the effect, never for a fixed time.
 * The one polling loop of every suite (API, bus, client, browser); test code only.
 */
export async function eventually<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  what: string | (() => string),
  timeoutMs = 10_000,
  intervalMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
