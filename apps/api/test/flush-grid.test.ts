import { describe, expect, test } from "bun:test";
import { flushDelay } from "../src/services/live/flush-grid.ts";

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
