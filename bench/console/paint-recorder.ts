/**
 * Runs inside the page (passed to `context.addInitScript`, so it must not close over anything):
 * records, for every stamped word of an assistant message, when it was first painted.
 *
 * A MutationObserver notices the DOM change; the time taken is in the next animation frame's
 * callback, which runs right before the browser paints that frame — the closest a page can get to
 * "on screen" without a compositor trace. Times are `performance.timeOrigin + performance.now()`,
 * the wall clock the stamped model uses too.
 *
 * Results: `window.__paint = { "<answer>:<word>": { dom, paint } }`.
 */
export function installPaintRecorder(): void {
  type Entry = { dom: number; paint: number };
  const w = window as unknown as { __paint: Record<string, Entry> };
  w.__paint = {};
  let pending: number | null = null;
  let domAt = 0;
  const scan = (): void => {
    pending = null;
    const paint = performance.timeOrigin + performance.now();
    const nodes = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
    for (const node of Array.from(nodes)) {
      const text = node.textContent ?? "";
      for (const m of text.matchAll(/a(\d+)w(\d{4})/g)) {
        const key = `${m[1]}:${Number(m[2])}`;
        if (!w.__paint[key]) w.__paint[key] = { dom: domAt, paint };
      }
    }
  };
  const observer = new MutationObserver(() => {
    if (pending !== null) return;
    domAt = performance.timeOrigin + performance.now();
    pending = requestAnimationFrame(scan);
  });
  const start = (): void => observer.observe(document.documentElement, { subtree: true, childList: true, characterData: true });
  if (document.documentElement) start();
  else document.addEventListener("DOMContentLoaded", start, { once: true });
}
