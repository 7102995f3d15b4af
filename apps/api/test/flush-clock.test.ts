import { describe, expect, test } from "bun:test";
import { FlushClock } from "../src/services/live/flush-clock.ts";

describe("the flush clock shared by an instance's answers", () => {
  test("answers that ask within one window flush together, once each, after at most the window", async () => {
    const errors: unknown[] = [];
    const clock = new FlushClock(30, (err) => errors.push(err));
    const calls: string[] = [];
    const batches: number[] = [];
    let batch = 0;
    const a = () => calls.push(`a${batch}`);
    const b = () => calls.push(`b${batch}`);
    const asked = performance.now();
    clock.request(a);
    clock.request(a);
    clock.request(b);
    queueMicrotask(() => {
      batch = 1;
    });
    await Bun.sleep(10);
    expect(calls).toEqual([]);
    const done = new Promise<void>((resolve) => clock.request(() => resolve()));
    await done;
    batches.push(performance.now() - asked);
    // Both answers ran in the one callback that also resolved `done`, each once.
    expect(calls).toEqual(["a1", "b1"]);
    expect(batches[0]).toBeGreaterThanOrEqual(25);
    expect(errors).toEqual([]);
  });

  test("a cancelled flush does not run; a throwing one is reported and the others still run", async () => {
    const errors: unknown[] = [];
    const clock = new FlushClock(5, (err) => errors.push(err));
    const ran: string[] = [];
    const cancelled = () => ran.push("cancelled");
    clock.request(cancelled);
    clock.request(() => {
      throw new Error("boom");
    });
    clock.request(() => ran.push("after"));
    clock.cancel(cancelled);
    await Bun.sleep(30);
    expect(ran).toEqual(["after"]);
    expect(errors).toHaveLength(1);
    // The clock re-arms for the next window.
    clock.request(() => ran.push("next"));
    await Bun.sleep(30);
    expect(ran).toEqual(["after", "next"]);
  });
});
