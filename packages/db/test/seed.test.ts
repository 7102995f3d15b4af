import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { productFormSchema } from "@raptscallions/core";
import { classes, createDb, type DbHandle, groups, isEmpty, SEED, seed, seedIfEmpty, tools, toolVersions } from "../src/index.ts";
import { embeddedTemplate } from "../src/testing/index.ts";

// A database of its own: it must start empty, which a shared test database never is. The default
// embedded server, loaded from the migrated template the other files' databases are cloned from
// (migrating a fresh PGlite again took most of this file's time).
let handle: DbHandle;
beforeAll(async () => {
  handle = await createDb({ loadDataDir: await embeddedTemplate() });
  await handle.migrate();
}, 60_000);
afterAll(async () => {
  await handle.close();
});

describe("seedIfEmpty", () => {
  test("instances starting together on an empty database seed it exactly once", async () => {
    expect(await isEmpty(handle.db)).toBe(true);
    const results = await Promise.all([seedIfEmpty(handle.db), seedIfEmpty(handle.db), seedIfEmpty(handle.db)]);
    const seeded = results.filter((r) => r !== null);
    expect(seeded).toHaveLength(1);
    const districts = await handle.db.select().from(groups).where(eq(groups.slug, SEED.groups.district.slug));
    expect(districts).toHaveLength(1);
    const cls = await handle.db
      .select()
      .from(classes)
      .where(sql`${classes.id} = ${seeded[0]?.classId ?? null}`);
    expect(cls).toHaveLength(1);
  });

  test("a database that holds anything is left alone", async () => {
    expect(await isEmpty(handle.db)).toBe(false);
    expect(await seedIfEmpty(handle.db)).toBeNull();
  });

  test("the scene holds one product tool, the Quiz maker, whose form and prompt are valid; seeding again adds none", async () => {
    await seed(handle.db);
    const products = await handle.db.select().from(tools).where(eq(tools.kind, "product"));
    expect(products.map((t) => t.name)).toEqual(["Quiz maker"]);
    const [version] = await handle.db
      .select()
      .from(toolVersions)
      .where(eq(toolVersions.toolId, products[0]?.id ?? ""));
    const checked = productFormSchema.safeParse(version?.definition);
    expect(checked.success).toBe(true);
    expect(checked.data?.form.map((f) => f.type)).toEqual(["text", "number", "select", "boolean", "text"]);
    // The chat tutor is still the scene's tool (its assignment's).
    expect((await handle.db.select().from(tools).where(eq(tools.kind, "chat"))).map((t) => t.name)).toEqual(["Socratic biology tutor"]);
  });
});
