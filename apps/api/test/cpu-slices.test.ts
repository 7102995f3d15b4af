import { describe, expect, test } from "bun:test";
import { createCpuSlices } from "../src/lib/cpu-slices.ts";

// A clock the steps move and tasks the test starts by hand, so slices are exact.
function harness(budgetMs: number) {
  let clock = 0;
  const tasks: (() => void)[] = [];
  const slices = createCpuSlices({ budgetMs, now: () => clock, nextTask: (run) => tasks.push(run) });
  const ran: number[] = [];
  const step = (id: number, ms: number) => () => {
    clock += ms;
    ran.push(id);
    return id;
  };
  const nextTask = async () => {
    const run = tasks.shift();
    if (!run) throw new Error("no task scheduled");
    run();
    await Promise.resolve();
  };
  return { slices, ran, step, nextTask, tasks, tick: (ms: number) => (clock += ms) };
}

describe("cpu slices", () => {
  test("a burst runs first come first served, as many per task as fit the budget", async () => {
    const h = harness(5);
    const results = [1, 2, 3, 4, 5].map((id) => h.slices.run(h.step(id, 2)));
    await Promise.resolve();
    // 0 → 2 → 4 ms: a third step starts under budget (4 < 5) and ends the slice at 6 ms.
    expect(h.ran).toEqual([1, 2, 3]);
    await h.nextTask();
    expect(h.ran).toEqual([1, 2, 3, 4, 5]);
    expect(await Promise.all(results)).toEqual([1, 2, 3, 4, 5]);
  });

  test("a step queued while a slice's budget is spent waits for the next task, behind the earlier ones", async () => {
    const h = harness(3);
    void h.slices.run(h.step(1, 4));
    void h.slices.run(h.step(2, 1));
    await Promise.resolve();
    expect(h.ran).toEqual([1]);
    const late = h.slices.run(h.step(3, 1));
    await Promise.resolve();
    expect(h.ran).toEqual([1]);
    await h.nextTask();
    expect(h.ran).toEqual([1, 2, 3]);
    expect(await late).toBe(3);
  });

  test("a new burst after a finished slice gets a fresh budget", async () => {
    const h = harness(3);
    await h.slices.run(h.step(1, 5));
    await h.nextTask();
    expect(h.tasks).toHaveLength(0);
    h.tick(100);
    await Promise.all([h.slices.run(h.step(2, 1)), h.slices.run(h.step(3, 1))]);
    expect(h.ran).toEqual([1, 2, 3]);
  });

  test("a step that throws rejects its own caller only", async () => {
    const h = harness(10);
    const bad = h.slices.run(() => {
      throw new Error("module failed");
    });
    const good = h.slices.run(h.step(2, 1));
    await expect(bad).rejects.toThrow("module failed");
    expect(await good).toBe(2);
  });

  test("a budget of 0 runs every step where it was queued, none waiting for another task", async () => {
    let clock = 0;
    const tasks: (() => void)[] = [];
    const slices = createCpuSlices({ budgetMs: 0, now: () => clock, nextTask: (run) => tasks.push(run) });
    const results = await Promise.all(
      [1, 2, 3].map((id) =>
        slices.run(() => {
          clock += 10;
          return id;
        }),
      ),
    );
    expect(results).toEqual([1, 2, 3]);
    expect(tasks).toHaveLength(0);
    // Callers may run their step in place instead (the module gate does): nothing is ever queued.
    expect(slices.inline).toBe(true);
    expect(createCpuSlices({ budgetMs: 4 }).inline).toBe(false);
    await expect(
      slices.run(() => {
        throw new Error("module failed");
      }),
    ).rejects.toThrow("module failed");
  });

  test("on the real event loop a slow burst leaves room for timers between slices", async () => {
    const slices = createCpuSlices({ budgetMs: 5 });
    const busy = (ms: number) => () => {
      const until = performance.now() + ms;
      while (performance.now() < until) {}
    };
    const timerRanAfter: number[] = [];
    let done = 0;
    setTimeout(() => timerRanAfter.push(done), 0);
    await Promise.all(Array.from({ length: 20 }, () => slices.run(busy(2)).then(() => done++)));
    // 20 steps of 2 ms take about 40 ms; the timer did not wait for all of them.
    expect(timerRanAfter).toHaveLength(1);
    expect(timerRanAfter[0]).toBeLessThan(20);
  });
});
