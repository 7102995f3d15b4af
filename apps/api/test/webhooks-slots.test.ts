import { describe, expect, test } from "bun:test";
import type { Db } from "@raptscallions/db";
import { unique } from "@raptscallions/db/testing";
import { createSemaphore } from "../src/lib/semaphore.ts";
import { useHarness } from "./helpers/harness.ts";
import { clerkUserData, deliver, delivery, makeWebhookSecret } from "./helpers/webhooks.ts";

describe("createSemaphore", () => {
  test("runs at most `limit` at once, in arrival order, and frees the slot when a task throws", async () => {
    const slots = createSemaphore(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const gates = Array.from({ length: 5 }, () => Promise.withResolvers<void>());
    const tasks = gates.map((g, i) =>
      slots.run(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await g.promise;
        running--;
        if (i === 0) throw new Error("boom");
        return i;
      }),
    );
    await Bun.sleep(5);
    expect([slots.active, slots.waiting, started]).toEqual([2, 3, [0, 1]]);
    gates[0]?.resolve();
    await expect(tasks[0]).rejects.toThrow("boom");
    await Bun.sleep(5);
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.resolve();
    expect(await Promise.all(tasks.slice(1))).toEqual([1, 2, 3, 4]);
    expect([peak, slots.active, slots.waiting]).toEqual([2, 0, 0]);
  });

  test("refuses a limit below 1", () => {
    expect(() => createSemaphore(0)).toThrow(RangeError);
  });
});

describe("webhook transaction slots", () => {
  const h = useHarness();

  test("a burst of deliveries never runs more webhook transactions at once than configured", async () => {
    let open = 0;
    let peak = 0;
    // The same database, seen through a drizzle handle that counts transactions in progress.
    const counting = new Proxy(h.db.db, {
      get(target, prop, receiver) {
        if (prop !== "transaction") return Reflect.get(target, prop, receiver);
        return async (...args: Parameters<Db["transaction"]>) => {
          open++;
          peak = Math.max(peak, open);
          try {
            return await target.transaction(...args);
          } finally {
            open--;
          }
        };
      },
    });
    const secret = makeWebhookSecret();
    const { app } = await h.withApp({
      db: { ...h.db, db: counting },
      deps: (base) => ({ config: { ...base.config, clerkWebhookSecret: secret, clerkWebhookConcurrency: 2 } }),
    });
    const at = Date.now() - 60_000;
    const list = Array.from({ length: 16 }, () => {
      const id = `user_${unique("slot").replaceAll("-", "")}`;
      return delivery("user.created", clerkUserData({ id, first: "S", last: "L", email: `${id}@x.test`, updatedAt: at }), at);
    });
    const statuses = await Promise.all(list.map(async (d) => (await deliver(app, secret, d)).status));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(peak).toBe(2);
  });
});
