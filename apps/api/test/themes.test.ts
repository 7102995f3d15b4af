import { describe, expect, test } from "bun:test";
import { connectRedis, createMemoryKeyValueStore, createRedisKeyValueStore, type KeyValueStore } from "@raptscallions/bus";
import { DEFAULT_THEME, type ResolvedTheme, THEME_TEMPLATES } from "@raptscallions/core";
import { auditLog, groups } from "@raptscallions/db";
import { addClassMember, makeClass, makeUser } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { Cluster, type Redis } from "ioredis";
import { CLUSTER } from "../../../packages/bus/test/cluster.ts";
import { authHeader } from "./helpers/auth.ts";
import { type TestApp, useHarness } from "./helpers/harness.ts";
import { makeFourLevelTree } from "./themes-fixtures.ts";

const h = useHarness();
const redisConnections: Array<Redis | Cluster> = [];
h.beforeClose(async () => {
  await Promise.all(redisConnections.map((r) => r.quit().catch(() => r.disconnect())));
});

type App = TestApp;

async function appWith(kv: KeyValueStore = createMemoryKeyValueStore()): Promise<App> {
  return (await h.withApp({ deps: { kv } })).app;
}

async function call(app: App, user: { clerkUserId: string | null } | null, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = user ? await authHeader(user) : {};
  if (body !== undefined) headers["content-type"] = "application/json";
  return await app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function themeOf(app: App, user: { clerkUserId: string | null }, groupId: string): Promise<ResolvedTheme> {
  const res = await call(app, user, "GET", `/api/groups/${groupId}/theme`);
  expect(res.status).toBe(200);
  return (await res.json()) as ResolvedTheme;
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { code: string; details?: unknown } };
  expect(body.error.code).toBe(code);
  return body.error;
}

describe("GET /api/groups/:id/theme", () => {
  test("a group nobody themed resolves to the system default, every field from no group", async () => {
    const t = await makeFourLevelTree(h.db.db);
    const app = await appWith();
    const body = await themeOf(app, t.teacher, t.subDepartment.id);
    expect(body.groupId).toBe(t.subDepartment.id);
    expect(body.theme.colors).toEqual({ ...DEFAULT_THEME.colors });
    expect(body.theme.font).toBe(DEFAULT_THEME.font);
    expect(body.theme.layout).toEqual({ ...DEFAULT_THEME.layout });
    expect(body.theme.assets).toEqual({ logo: null, favicon: null, background: null });
    expect(Object.keys(body.sources)).toEqual(expect.arrayContaining(["colors.primary", "font", "layout.density"]));
    expect(Object.values(body.sources).every((s) => s === null)).toBe(true);
    expect(body.overrides).toEqual({});
  });

  test("resolves per field down the four-level tree, later overriding earlier, with provenance", async () => {
    const t = await makeFourLevelTree(h.db.db);
    const app = await appWith();
    const patch = async (groupId: string, body: unknown) => {
      const res = await call(app, t.districtAdmin, "PATCH", `/api/groups/${groupId}/theme`, body);
      expect(res.status).toBe(200);
    };
    await patch(t.district.id, { colors: { primary: "#112233", accent: "#ABC" }, font: "lato" });
    await patch(t.school.id, { colors: { primary: "#445566" }, layout: { density: "compact" } });
    await patch(t.department.id, { layout: { sidebarPosition: "right" } });
    await patch(t.subDepartment.id, { font: "inter" });

    const sub = await themeOf(app, t.teacher, t.subDepartment.id);
    expect(sub.theme.colors.primary).toBe("#445566");
    expect(sub.sources["colors.primary"]).toBe(t.school.id);
    expect(sub.theme.colors.accent).toBe("#abc");
    expect(sub.sources["colors.accent"]).toBe(t.district.id);
    expect(sub.theme.font).toBe("inter");
    expect(sub.sources.font).toBe(t.subDepartment.id);
    expect(sub.theme.layout).toEqual({ density: "compact", cornerRadius: "medium", sidebarPosition: "right" });
    expect(sub.sources["layout.density"]).toBe(t.school.id);
    expect(sub.sources["layout.sidebarPosition"]).toBe(t.department.id);
    expect(sub.sources["layout.cornerRadius"]).toBeNull();
    expect(sub.theme.colors.text).toBe(DEFAULT_THEME.colors.text);
    expect(sub.overrides).toEqual({ font: "inter" });

    const school = await themeOf(app, t.schoolAdmin, t.school.id);
    expect(school.theme.font).toBe("lato");
    expect(school.theme.layout.sidebarPosition).toBe("left");
  });

  test("members of a descendant and students of its classes can read it; others get 404", async () => {
    const t = await makeFourLevelTree(h.db.db);
    const student = await makeUser(h.db.db);
    const cls = await makeClass(h.db.db, t.subDepartment.id);
    await addClassMember(h.db.db, cls.id, student.id, "student");
    const app = await appWith();
    expect((await call(app, student, "GET", `/api/groups/${t.district.id}/theme`)).status).toBe(200);
    expect((await call(app, t.teacher, "GET", `/api/groups/${t.school.id}/theme`)).status).toBe(200);
    await expectError(await call(app, t.outsider, "GET", `/api/groups/${t.subDepartment.id}/theme`), 404, "NOT_FOUND");
    await expectError(await call(app, t.teacher, "GET", `/api/groups/${t.otherDistrict.id}/theme`), 404, "NOT_FOUND");
  });

  test("no token, a bad token, an unknown and a malformed id", async () => {
    const t = await makeFourLevelTree(h.db.db);
    const app = await appWith();
    await expectError(await call(app, null, "GET", `/api/groups/${t.district.id}/theme`), 401, "UNAUTHENTICATED");
    const bad = await app.request(`/api/groups/${t.district.id}/theme`, {
      headers: { authorization: "Bearer not.a.token" },
    });
    await expectError(bad, 401, "UNAUTHENTICATED");
    await expectError(await call(app, t.districtAdmin, "GET", `/api/groups/${crypto.randomUUID()}/theme`), 404, "NOT_FOUND");
    await expectError(await call(app, t.districtAdmin, "GET", "/api/groups/not-a-uuid/theme"), 404, "NOT_FOUND");
  });

  test("stored junk in groups.theme is ignored field by field, not a 500", async () => {
    const t = await makeFourLevelTree(h.db.db);
    await h.db.db
      .update(groups)
      .set({ theme: { colors: { primary: "red", accent: "#010203" }, font: "comic-sans", layout: 7, extra: true } })
      .where(eq(groups.id, t.district.id));
    const app = await appWith();
    const body = await themeOf(app, t.teacher, t.subDepartment.id);
    expect(body.theme.colors.primary).toBe(DEFAULT_THEME.colors.primary);
    expect(body.theme.colors.accent).toBe("#010203");
    expect(body.theme.font).toBe(DEFAULT_THEME.font);
  });
});

describe("PATCH / DELETE /api/groups/:id/theme", () => {
  test("merge-patch: null clears one override, absent fields stay", async () => {
    const t = await makeFourLevelTree(h.db.db);
    const app = await appWith();
    await call(app, t.schoolAdmin, "PATCH", `/api/groups/${t.school.id}/theme`, {
      colors: { primary: "#000000", text: "#111111" },
      font: "roboto",
    });
    const res = await call(app, t.schoolAdmin, "PATCH", `/api/groups/${t.school.id}/theme`, {
      colors: { primary: null },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ResolvedTheme;
    expect(body.overrides).toEqual({ colors: { text: "#111111" }, font: "roboto" });
    expect(body.theme.colors.primary).toBe(DEFAULT_THEME.colors.primary);
    const [row] = await h.db.db.select({ theme: groups.theme }).from(groups).where(eq(groups.id, t.school.id));
    expect(row?.theme).toEqual({ colors: { text: "#111111" }, font: "roboto" });
  });

  test("invalid values are 422 with the offending paths; nothing changes", async () => {
    const t = await makeFourLevelTree(h.db.db);
    const app = await appWith();
    for (const body of [
      { colors: { primary: "blue" } },
      { colors: { primary: "#12345" } },
      { font: "papyrus" },
      { layout: { density: "huge" } },
      { colors: { mauve: "#123456" } },
      { unknown: 1 },
      { assets: { logo: "../../etc/passwd" } },
    ]) {
      const error = await expectError(await call(app, t.schoolAdmin, "PATCH", `/api/groups/${t.school.id}/theme`, body), 422, "VALIDATION_FAILED");
      expect(Array.isArray(error.details)).toBe(true);
    }
    const [row] = await h.db.db.select({ theme: groups.theme }).from(groups).where(eq(groups.id, t.school.id));
    expect(row?.theme).toBeNull();
  });

  test("not JSON is 415, malformed JSON is 400", async () => {
    const t = await makeFourLevelTree(h.db.db);
    const app = await appWith();
    const headers = await authHeader(t.schoolAdmin);
    const notJson = await app.request(`/api/groups/${t.school.id}/theme`, {
      method: "PATCH",
      headers: { ...headers, "content-type": "text/plain" },
      body: "font=lato",
    });
    await expectError(notJson, 415, "UNSUPPORTED_MEDIA_TYPE");
    const malformed = await app.request(`/api/groups/${t.school.id}/theme`, {
      method: "PATCH",
      headers: { ...headers, "content-type": "application/json" },
      body: "{font:",
    });
    await expectError(malformed, 400, "INVALID_JSON");
  });

  test("only admins over the group may write: a viewer gets 403, an outsider 404, no token 401", async () => {
    const t = await makeFourLevelTree(h.db.db);
    const app = await appWith();
    await expectError(await call(app, t.teacher, "PATCH", `/api/groups/${t.subDepartment.id}/theme`, { font: "lato" }), 403, "FORBIDDEN");
    // The school admin can see the district (an ancestor) but does not administer it.
    await expectError(await call(app, t.schoolAdmin, "PATCH", `/api/groups/${t.district.id}/theme`, { font: "lato" }), 403, "FORBIDDEN");
    await expectError(await call(app, t.outsider, "PATCH", `/api/groups/${t.school.id}/theme`, { font: "lato" }), 404, "NOT_FOUND");
    await expectError(await call(app, null, "PATCH", `/api/groups/${t.school.id}/theme`, { font: "lato" }), 401, "UNAUTHENTICATED");
    await expectError(await call(app, t.teacher, "DELETE", `/api/groups/${t.subDepartment.id}/theme`), 403, "FORBIDDEN");
    const [row] = await h.db.db.select({ theme: groups.theme }).from(groups).where(eq(groups.id, t.school.id));
    expect(row?.theme).toBeNull();
  });

  test("DELETE falls back to the inherited theme and is audited", async () => {
    const t = await makeFourLevelTree(h.db.db);
    const app = await appWith();
    await call(app, t.districtAdmin, "PATCH", `/api/groups/${t.district.id}/theme`, { font: "merriweather" });
    await call(app, t.schoolAdmin, "PATCH", `/api/groups/${t.department.id}/theme`, { font: "opendyslexic" });
    expect((await themeOf(app, t.teacher, t.subDepartment.id)).theme.font).toBe("opendyslexic");
    const res = await call(app, t.schoolAdmin, "DELETE", `/api/groups/${t.department.id}/theme`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as ResolvedTheme;
    expect(body.overrides).toEqual({});
    expect(body.theme.font).toBe("merriweather");
    expect(body.sources.font).toBe(t.district.id);
    expect((await themeOf(app, t.teacher, t.subDepartment.id)).theme.font).toBe("merriweather");
    const audits = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.groupId, t.department.id), eq(auditLog.targetType, "group_theme")));
    expect(audits.map((a) => a.action).sort()).toEqual(["theme.reset", "theme.update"]);
    expect(audits.every((a) => a.actorId === audits[0]?.actorId)).toBe(true);
  });
});

describe("templates", () => {
  test("GET /api/themes/templates lists the built-in presets; needs a token", async () => {
    const t = await makeFourLevelTree(h.db.db);
    const app = await appWith();
    const res = await call(app, t.teacher, "GET", "/api/themes/templates");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { id: string; theme: { font: string } }[] };
    expect(body.items.map((i) => i.id)).toEqual(THEME_TEMPLATES.map((tpl) => tpl.id));
    await expectError(await call(app, null, "GET", "/api/themes/templates"), 401, "UNAUTHENTICATED");
  });

  test("apply-template replaces colours, font and layout, keeps asset overrides", async () => {
    const t = await makeFourLevelTree(h.db.db);
    const app = await appWith();
    await call(app, t.schoolAdmin, "PATCH", `/api/groups/${t.school.id}/theme`, {
      font: "lato",
      assets: { logo: "none" },
    });
    const res = await call(app, t.schoolAdmin, "POST", `/api/groups/${t.school.id}/theme/apply-template`, {
      templateId: "high-contrast",
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ResolvedTheme;
    const template = THEME_TEMPLATES.find((tpl) => tpl.id === "high-contrast");
    if (!template) throw new Error("the high-contrast template is missing");
    expect(body.theme.font).toBe(template.theme.font);
    expect(body.theme.colors).toEqual({ ...template.theme.colors } as ResolvedTheme["theme"]["colors"]);
    expect(body.overrides.assets).toEqual({ logo: "none" });
    expect(body.sources["colors.text"]).toBe(t.school.id);
  });

  test("an unknown template is 422; a non-admin 403", async () => {
    const t = await makeFourLevelTree(h.db.db);
    const app = await appWith();
    await expectError(await call(app, t.schoolAdmin, "POST", `/api/groups/${t.school.id}/theme/apply-template`, { templateId: "neon" }), 422, "VALIDATION_FAILED");
    await expectError(
      await call(app, t.teacher, "POST", `/api/groups/${t.subDepartment.id}/theme/apply-template`, {
        templateId: "dark",
      }),
      403,
      "FORBIDDEN",
    );
  });
});

// ---- cache: the same suite on the in-process kv and, when TEST_REDIS_URL is set, on Redis ----

async function redisKv(prefix: string): Promise<KeyValueStore> {
  const url = process.env.TEST_REDIS_URL ?? "";
  const redis = connectRedis(url, "commands", { connectionName: "themes-test" });
  redisConnections.push(redis);
  if (redis.status !== "ready")
    await new Promise<void>((resolve, reject) => {
      redis.once("ready", () => resolve());
      redis.once("error", reject);
    });
  return createRedisKeyValueStore({ redis, keyPrefix: prefix });
}

// `skip`: Redis runs need TEST_REDIS_URL (CI sets it); without it they are reported as skipped.
const kvKinds: { name: string; skip?: boolean; pair: () => Promise<[KeyValueStore, KeyValueStore]> }[] = [
  {
    name: "in-process kv",
    pair: async () => {
      const shared = createMemoryKeyValueStore();
      return [shared, shared];
    },
  },
  {
    name: "Redis Cluster kv",
    skip: CLUSTER === undefined,
    // A theme's entries and its subtree's generation tokens land on different shards.
    pair: async () => {
      const prefix = `rapt:test:themes:${crypto.randomUUID()}:`;
      const pair = [0, 1].map(() => {
        const redis = new Cluster([...(CLUSTER?.nodes ?? [])]);
        redisConnections.push(redis);
        return createRedisKeyValueStore({ redis, keyPrefix: prefix });
      });
      return pair as [KeyValueStore, KeyValueStore];
    },
  },
  {
    name: "Redis kv",
    skip: !process.env.TEST_REDIS_URL,
    // Two connections, as two instances would have; one key space.
    pair: async () => {
      const prefix = `rapt:test:themes:${crypto.randomUUID()}:`;
      return [await redisKv(prefix), await redisKv(prefix)];
    },
  },
];

for (const kind of kvKinds) {
  describe.skipIf(kind.skip ?? false)(`theme cache (${kind.name})`, () => {
    test("a cached theme is served from the cache and invalidated for the whole subtree by any ancestor's change", async () => {
      const t = await makeFourLevelTree(h.db.db);
      const [kv] = await kind.pair();
      const app = await appWith(kv);
      const levels = [t.district, t.school, t.department, t.subDepartment];
      for (const g of levels) expect((await themeOf(app, t.districtAdmin, g.id)).theme.font).toBe("system");

      // Behind the API's back: the cached answers must still be served (proves the cache is used).
      await h.db.db
        .update(groups)
        .set({ theme: { font: "roboto" } })
        .where(eq(groups.id, t.district.id));
      for (const g of levels) expect((await themeOf(app, t.districtAdmin, g.id)).theme.font).toBe("system");

      // A change to the school through the API invalidates the school and everything below it…
      await call(app, t.schoolAdmin, "PATCH", `/api/groups/${t.school.id}/theme`, { colors: { primary: "#0a0b0c" } });
      for (const g of [t.school, t.department, t.subDepartment]) {
        const theme = await themeOf(app, t.districtAdmin, g.id);
        expect(theme.theme.colors.primary).toBe("#0a0b0c");
        expect(theme.theme.font).toBe("roboto");
      }
      // …and not the district above it (still the stale cached entry).
      expect((await themeOf(app, t.districtAdmin, t.district.id)).theme.font).toBe("system");

      // A change at the root reaches all four levels.
      await call(app, t.districtAdmin, "PATCH", `/api/groups/${t.district.id}/theme`, { font: "lato" });
      for (const g of levels) expect((await themeOf(app, t.districtAdmin, g.id)).theme.font).toBe("lato");

      // A change at the leaf touches the leaf only.
      await call(app, t.schoolAdmin, "PATCH", `/api/groups/${t.subDepartment.id}/theme`, {
        layout: { cornerRadius: "none" },
      });
      expect((await themeOf(app, t.teacher, t.subDepartment.id)).theme.layout.cornerRadius).toBe("none");
      expect((await themeOf(app, t.schoolAdmin, t.department.id)).theme.layout.cornerRadius).toBe("medium");
    });

    test("two instances sharing the kv: a change through A is seen through B at once", async () => {
      const t = await makeFourLevelTree(h.db.db);
      const [kvA, kvB] = await kind.pair();
      const appA = await appWith(kvA);
      const appB = await appWith(kvB);
      expect((await themeOf(appB, t.teacher, t.subDepartment.id)).theme.colors.accent).toBe(DEFAULT_THEME.colors.accent);
      expect((await themeOf(appA, t.teacher, t.subDepartment.id)).theme.colors.accent).toBe(DEFAULT_THEME.colors.accent);

      const res = await call(appA, t.districtAdmin, "PATCH", `/api/groups/${t.district.id}/theme`, {
        colors: { accent: "#fedcba" },
      });
      expect(res.status).toBe(200);
      const seenByB = await themeOf(appB, t.teacher, t.subDepartment.id);
      expect(seenByB.theme.colors.accent).toBe("#fedcba");
      expect(seenByB.sources["colors.accent"]).toBe(t.district.id);

      await call(appB, t.districtAdmin, "DELETE", `/api/groups/${t.district.id}/theme`);
      expect((await themeOf(appA, t.teacher, t.department.id)).theme.colors.accent).toBe(DEFAULT_THEME.colors.accent);
    });

    test("cached answers still respect access: an outsider cannot read a cached theme", async () => {
      const t = await makeFourLevelTree(h.db.db);
      const [kv] = await kind.pair();
      const app = await appWith(kv);
      await themeOf(app, t.teacher, t.subDepartment.id);
      await expectError(await call(app, t.outsider, "GET", `/api/groups/${t.subDepartment.id}/theme`), 404, "NOT_FOUND");
    });
  });
}

test("the theme routes and the groups routes share /api/groups", async () => {
  const t = await makeFourLevelTree(h.db.db);
  const app = await appWith();
  const group = await call(app, t.schoolAdmin, "GET", `/api/groups/${t.school.id}`);
  expect(group.status).toBe(200);
  expect(((await group.json()) as { id: string }).id).toBe(t.school.id);
  expect((await themeOf(app, t.schoolAdmin, t.school.id)).groupId).toBe(t.school.id);
});
