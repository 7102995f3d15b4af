import { describe, expect, test } from "bun:test";
import { FlushGrid, flushDelay } from "../src/services/live/flush-grid.ts";

describe("flushDelay (the answers' coalescing windows on a shared grid)", () => {
  test("windows armed at different times within a grid step end at the same instant", () => {
    const ends = [1000, 1000.4, 1001, 1003.9, 1004.99].map((now) => now + flushDelay(40, 5, now));
    expect(new Set(ends.map((end) => Math.round(end))).size).toBe(1);
    expect(Math.round(ends[0] ?? 0)).toBe(1040);
  });

  test("a window is never longer than the coalescing window and at most one step shorter", () => {
    for (let now = 0; now < 50; now += 0.37) {
      const delay = flushDelay(40, 5, now);
      expect(delay).toBeLessThanOrEqual(40);
      expect(delay).toBeGreaterThanOrEqual(35);
    }
  });

  test("the grid off, or not finer than the window, leaves the window as it is", () => {
    expect(flushDelay(40, 0, 1234.5)).toBe(40);
    expect(flushDelay(40, 40, 1234.5)).toBe(40);
    expect(flushDelay(0, 5, 1234.5)).toBe(0);
    expect(flushDelay(3, 5, 1234.5)).toBe(3);
  });
});

describe("FlushGrid (one timer per grid step for every answer due in it)", () => {
  // A clock the test sets: windows start at these instants, the real timers run the steps.
  function grid(windowMs: number, gridMs: number) {
    let now = 1000;
    const errors: unknown[] = [];
    const g = new FlushGrid(
      windowMs,
      gridMs,
      (err) => errors.push(err),
      () => now,
    );
    return { g, errors, at: (ms: number) => (now = ms) };
  }

  test("answers whose windows end in the same step flush in one callback, in the order they asked", async () => {
    const { g, at } = grid(40, 5);
    const ran: string[] = [];
    let between = false;
    const done = Promise.withResolvers<void>();
    for (const [name, ms] of [
      ["a", 1000],
      ["b", 1001.5],
      ["c", 1004.9],
    ] as const) {
      at(ms);
      g.request(() => {
        // A microtask queued by the first flush would run between separate callbacks.
        if (name === "a") queueMicrotask(() => (between = true));
        ran.push(`${name}${between ? " after a task" : ""}`);
        if (name === "c") done.resolve();
      });
    }
    await done.promise;
    expect(ran).toEqual(["a", "b", "c"]);
  });

  test("a window ending in the next step waits for that step's callback", async () => {
    const { g, at } = grid(40, 5);
    const ran: string[] = [];
    const done = Promise.withResolvers<void>();
    at(1004);
    g.request(() => ran.push("early"));
    at(1005);
    g.request(() => {
      ran.push("late");
      done.resolve();
    });
    await done.promise;
    expect(ran).toEqual(["early", "late"]);
  });

  test("a cancelled flush does not run; a throwing one does not stop the others", async () => {
    const { g, errors, at } = grid(40, 5);
    const ran: string[] = [];
    const done = Promise.withResolvers<void>();
    at(1000);
    const cancel = g.request(() => ran.push("cancelled"));
    g.request(() => {
      throw new Error("boom");
    });
    g.request(() => {
      ran.push("kept");
      done.resolve();
    });
    cancel();
    await done.promise;
    expect(ran).toEqual(["kept"]);
    expect(errors).toHaveLength(1);
  });

  test("with the grid off each answer keeps a timer of its own, and cancelling it stops it", async () => {
    const { g } = grid(5, 0);
    const ran: string[] = [];
    const cancel = g.request(() => ran.push("cancelled"));
    const done = Promise.withResolvers<void>();
    g.request(() => {
      ran.push("own");
      done.resolve();
    });
    cancel();
    await done.promise;
    expect(ran).toEqual(["own"]);
  });
});
