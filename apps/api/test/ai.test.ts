import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { aiModelSchema, aiSettingsSchema, pageOf } from "@raptscallions/core";
import { aiSettings, auditLog, type DbHandle } from "@raptscallions/db";
import { addGroupMember, makeGroup, makeModel, makeSchoolScene, makeUser, type SchoolScene, unique } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { createApp } from "../src/app.ts";
import { drain, generationRequest, usageRowsFor } from "./ai-fixtures.ts";
import { createTestDb, testDeps } from "./helpers/deps.ts";
import { call, errorCode, securityTests } from "./helpers/security.ts";

type Model = { id: string; active: boolean; displayName: string; inputPricePer1k: number };
type Settings = { configured: boolean; defaultModel: string | null; requestsPerMinute: number | null; alertThreshold: number; monthlyBudgetUsd: number | null };
type Page<T> = { items: T[]; nextCursor: string | null };
type User = Awaited<ReturnType<typeof makeUser>>;

let db: DbHandle;
let app: ReturnType<typeof createApp>;
let s: SchoolScene;
let sysAdmin: User;
let siblingAdmin: User;
let active: Awaited<ReturnType<typeof makeModel>>;
let inactive: Awaited<ReturnType<typeof makeModel>>;

beforeAll(async () => {
  db = await createTestDb();
  app = createApp(await testDeps(db));
  s = await makeSchoolScene(db.db);
  sysAdmin = await makeUser(db.db, { isSystemAdmin: true });
  const sibling = await makeGroup(db.db, { kind: "school", parent: s.district });
  siblingAdmin = await makeUser(db.db);
  await addGroupMember(db.db, sibling.id, siblingAdmin.id, "admin");
  active = await makeModel(db.db);
  inactive = await makeModel(db.db, { active: false });
}, 120_000);
afterAll(async () => {
  await db.close();
});

async function allModels(as: User, extra = ""): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const res: { status: number; body: Page<Model> } = await call<Page<Model>>(app, "GET", `/api/ai/models?limit=200${extra}${cursor ? `&cursor=${cursor}` : ""}`, { as });
    expect(res.status).toBe(200);
    pageOf(aiModelSchema).parse(res.body);
    out.push(...res.body.items.map((m) => m.id));
    cursor = res.body.nextCursor;
  } while (cursor);
  return out;
}

describe("AI models", () => {
  test("everyone lists active models; only system admins can include inactive ones", async () => {
    const student = await allModels(s.student);
    expect(student).toContain(active.id);
    expect(student).not.toContain(inactive.id);
    expect(await allModels(s.student, "&includeInactive=true")).not.toContain(inactive.id);
    expect(await allModels(sysAdmin, "&includeInactive=true")).toEqual(expect.arrayContaining([active.id, inactive.id]));
    await makeModel(db.db);
    const p1 = await call<Page<Model>>(app, "GET", "/api/ai/models?limit=1", { as: s.student });
    expect(p1.body.items).toHaveLength(1);
    expect(p1.body.nextCursor).not.toBeNull();
    expect((await call(app, "GET", "/api/ai/models?includeInactive=yes", { as: sysAdmin })).status).toBe(400);
  });

  test("a system admin registers and updates a model whose id has a slash", async () => {
    const id = `vendor/${unique("m")}`;
    const created = await call<Model>(app, "POST", "/api/ai/models", { as: sysAdmin, body: { id, provider: "vendor", displayName: "M", inputPricePer1k: 0.5 } });
    expect(created.status).toBe(201);
    expect(aiModelSchema.parse(created.body)).toMatchObject({ id, active: true, contextWindow: 8192, inputPricePer1k: 0.5 });
    expect((await call(app, "POST", "/api/ai/models", { as: sysAdmin, body: { id, provider: "vendor", displayName: "M" } })).status).toBe(409);

    const patched = await call<Model>(app, "PATCH", `/api/ai/models/${id}`, { as: sysAdmin, body: { active: false, displayName: "Retired" } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id, active: false, displayName: "Retired" });
    const encoded = await call<Model>(app, "PATCH", `/api/ai/models/${encodeURIComponent(id)}`, { as: sysAdmin, body: { active: true } });
    expect(encoded.status).toBe(200);
    expect(encoded.body.active).toBe(true);
    const audits = await db.db.select().from(auditLog).where(and(eq(auditLog.targetType, "ai_model"), eq(auditLog.targetId, id)));
    expect(audits.map((a) => a.action).sort()).toEqual(["ai.model.create", "ai.model.update", "ai.model.update"]);
  });

  test("the dev model's documented pace suffix (dev-tutor@<n>tps) registers, resolves and answers", async () => {
    const id = `dev-tutor@${1_000_000 + Math.floor(Math.random() * 1_000_000)}tps`;
    const created = await call<Model>(app, "POST", "/api/ai/models", { as: sysAdmin, body: { id, provider: "dev", displayName: "Fast tutor" } });
    expect(created.status).toBe(201);
    expect(created.body.id).toBe(id);
    const scene = await makeSchoolScene(db.db);
    const settings = { defaultModel: id, requestsPerMinute: 1000, requestsPerHour: 10_000, tokensPerDay: 10_000_000 };
    expect((await call(app, "PUT", `/api/groups/${scene.district.id}/ai-settings`, { as: sysAdmin, body: settings })).status).toBe(200);

    const deps = await testDeps(db);
    const gen = await deps.ai.start(generationRequest(scene));
    const { text, error } = await drain(gen);
    expect(error).toBeUndefined();
    expect(text.length).toBeGreaterThan(20);
    await gen.finish("complete", text);
    const [usage] = await usageRowsFor(db.db, scene.student.id);
    expect(usage?.model).toBe(id);
  });

  test("bad input → 422; unknown model → 404", async () => {
    expect((await call(app, "POST", "/api/ai/models", { as: sysAdmin, body: { id: "has space", provider: "p", displayName: "d" } })).status).toBe(422);
    expect((await call(app, "POST", "/api/ai/models", { as: sysAdmin, body: { id: unique("m"), provider: "p", displayName: "d", inputPricePer1k: -1 } })).status).toBe(422);
    expect((await call(app, "PATCH", `/api/ai/models/${active.id}`, { as: sysAdmin, body: {} })).status).toBe(422);
    const missing = await call(app, "PATCH", `/api/ai/models/${unique("nope")}`, { as: sysAdmin, body: { active: false } });
    expect(missing.status).toBe(404);
  });
});

describe("system AI settings", () => {
  test("a system admin reads and replaces them (restored afterwards)", async () => {
    const [previous] = await db.db.select().from(aiSettings).where(eq(aiSettings.isSystem, true));
    try {
      const put = await call<Settings>(app, "PUT", "/api/ai/settings/system", { as: sysAdmin, body: { alertThreshold: 0.9 } });
      expect(put.status).toBe(200);
      expect(aiSettingsSchema.parse(put.body)).toMatchObject({ scope: "system", configured: true, alertThreshold: 0.9, defaultModel: null, requestsPerMinute: null });
      const got = await call<Settings>(app, "GET", "/api/ai/settings/system", { as: sysAdmin });
      expect(got.body).toMatchObject({ configured: true, alertThreshold: 0.9 });
      for (const body of [{ defaultModel: inactive.id }, { defaultModel: "no-such-model" }, { alertThreshold: 1.5 }, { requestsPerMinute: 0 }]) {
        const bad = await call(app, "PUT", "/api/ai/settings/system", { as: sysAdmin, body });
        expect(bad.status).toBe(422);
        expect(errorCode(bad.body)).toBe("VALIDATION_FAILED");
      }
    } finally {
      // The system row is shared by every test file on a shared Postgres: put it back as it was.
      if (previous) {
        const { id: _id, createdAt: _c, updatedAt: _u, ...rest } = previous;
        await db.db.update(aiSettings).set(rest).where(eq(aiSettings.isSystem, true));
      } else {
        await db.db.delete(aiSettings).where(eq(aiSettings.isSystem, true));
      }
    }
  });
});

describe("group AI settings", () => {
  test("an admin sets, reads and removes a group's settings", async () => {
    const base = `/api/groups/${s.school.id}/ai-settings`;
    const empty = await call<Settings>(app, "GET", base, { as: s.schoolAdmin });
    expect(empty.status).toBe(200);
    expect(aiSettingsSchema.parse(empty.body)).toMatchObject({ scope: "group", configured: false, alertThreshold: 0.8 });
    const body = { defaultModel: active.id, requestsPerMinute: 20, requestsPerHour: 200, tokensPerDay: 100000, monthlyBudgetUsd: 50.5, alertThreshold: 0.75 };
    const put = await call<Settings>(app, "PUT", base, { as: s.districtAdmin, body });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ configured: true, ...body });
    const replaced = await call<Settings>(app, "PUT", base, { as: s.schoolAdmin, body: { requestsPerMinute: 5 } });
    expect(replaced.body).toMatchObject({ requestsPerMinute: 5, defaultModel: null, monthlyBudgetUsd: null, alertThreshold: 0.8 });
    expect((await call(app, "DELETE", base, { as: s.schoolAdmin })).status).toBe(204);
    expect((await call<Settings>(app, "GET", base, { as: s.schoolAdmin })).body.configured).toBe(false);
    expect((await call(app, "DELETE", base, { as: s.schoolAdmin })).status).toBe(204);
    const actions = await db.db.select({ action: auditLog.action }).from(auditLog).where(and(eq(auditLog.targetType, "ai_settings"), eq(auditLog.targetId, s.school.id)));
    expect(actions.map((a) => a.action).sort()).toEqual(["ai.settings.group.delete", "ai.settings.group.update", "ai.settings.group.update"]);
  });

  test("an inactive default model or a bad threshold → 422; unknown group → 404", async () => {
    const base = `/api/groups/${s.school.id}/ai-settings`;
    expect((await call(app, "PUT", base, { as: s.schoolAdmin, body: { defaultModel: inactive.id } })).status).toBe(422);
    expect((await call(app, "PUT", base, { as: s.schoolAdmin, body: { alertThreshold: -0.1 } })).status).toBe(422);
    expect((await call(app, "GET", `/api/groups/${crypto.randomUUID()}/ai-settings`, { as: sysAdmin })).status).toBe(404);
  });
});

securityTests("ai", () => app, [
  { method: "GET", route: "/api/ai/models", path: () => "/api/ai/models" },
  {
    method: "POST",
    route: "/api/ai/models",
    path: () => "/api/ai/models",
    body: () => ({ id: unique("sec"), provider: "p", displayName: "d" }),
    denied: () => [{ who: s.districtAdmin, status: 403 }, { who: s.student, status: 403 }],
  },
  {
    method: "PATCH",
    route: "/api/ai/models/:id",
    path: () => `/api/ai/models/${active.id}`,
    body: () => ({ active: false }),
    denied: () => [{ who: s.districtAdmin, status: 403 }, { who: s.teacher, status: 403 }],
  },
  { method: "GET", route: "/api/ai/settings/system", path: () => "/api/ai/settings/system", denied: () => [{ who: s.districtAdmin, status: 403 }] },
  { method: "PUT", route: "/api/ai/settings/system", path: () => "/api/ai/settings/system", body: () => ({ requestsPerMinute: 1 }), denied: () => [{ who: s.districtAdmin, status: 403 }] },
  {
    method: "GET",
    route: "/api/groups/:id/ai-settings",
    path: () => `/api/groups/${s.school.id}/ai-settings`,
    denied: () => [{ who: siblingAdmin, status: 404 }, { who: s.teacher, status: 403 }],
  },
  {
    method: "PUT",
    route: "/api/groups/:id/ai-settings",
    path: () => `/api/groups/${s.school.id}/ai-settings`,
    body: () => ({ requestsPerMinute: 1 }),
    denied: () => [{ who: siblingAdmin, status: 404 }, { who: s.teacher, status: 403 }],
  },
  {
    method: "DELETE",
    route: "/api/groups/:id/ai-settings",
    path: () => `/api/groups/${s.school.id}/ai-settings`,
    denied: () => [{ who: siblingAdmin, status: 404 }, { who: s.teacher, status: 403 }],
  },
]);
