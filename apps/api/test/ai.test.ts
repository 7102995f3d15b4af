import { beforeAll, describe, expect, test } from "bun:test";
import { aiModelSchema, aiSettingsSchema, pageOf, type Page } from "@raptscallions/core";
import { aiSettings, auditLog } from "@raptscallions/db";
import { addGroupMember, makeGroup, makeModel, makeSchoolScene, makeUser, type SchoolScene, unique } from "@raptscallions/db/testing";
import { and, eq } from "drizzle-orm";
import { drain, generationRequest, usageRowsFor } from "./ai-fixtures.ts";
import { useHarness } from "./helpers/harness.ts";
import { errorCode, securityTests } from "./helpers/security.ts";

type Model = { id: string; active: boolean; displayName: string; inputPricePer1k: number };
type Settings = { configured: boolean; defaultModel: string | null; requestsPerMinute: number | null; alertThreshold: number; monthlyBudgetUsd: number | null };
type User = Awaited<ReturnType<typeof makeUser>>;

const h = useHarness();
let s: SchoolScene;
let sysAdmin: User;
let siblingAdmin: User;
let active: Awaited<ReturnType<typeof makeModel>>;
let inactive: Awaited<ReturnType<typeof makeModel>>;

beforeAll(async () => {
  s = await makeSchoolScene(h.db.db);
  sysAdmin = await makeUser(h.db.db, { isSystemAdmin: true });
  const sibling = await makeGroup(h.db.db, { kind: "school", parent: s.district });
  siblingAdmin = await makeUser(h.db.db);
  await addGroupMember(h.db.db, sibling.id, siblingAdmin.id, "admin");
  active = await makeModel(h.db.db);
  inactive = await makeModel(h.db.db, { active: false });
}, 120_000);

async function allModels(as: User, extra = ""): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const res: { status: number; body: Page<Model> } = await h.as(as).get<Page<Model>>(`/api/ai/models?limit=200${extra}${cursor ? `&cursor=${cursor}` : ""}`);
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
    await makeModel(h.db.db);
    const p1 = await h.as(s.student).get<Page<Model>>("/api/ai/models?limit=1");
    expect(p1.body.items).toHaveLength(1);
    expect(p1.body.nextCursor).not.toBeNull();
    expect((await h.as(sysAdmin).get("/api/ai/models?includeInactive=yes")).status).toBe(400);
  });

  test("a system admin registers and updates a model whose id has a slash", async () => {
    const id = `vendor/${unique("m")}`;
    const created = await h.as(sysAdmin).post<Model>("/api/ai/models", { id, provider: "vendor", displayName: "M", inputPricePer1k: 0.5 });
    expect(created.status).toBe(201);
    expect(aiModelSchema.parse(created.body)).toMatchObject({ id, active: true, contextWindow: 8192, inputPricePer1k: 0.5 });
    expect((await h.as(sysAdmin).post("/api/ai/models", { id, provider: "vendor", displayName: "M" })).status).toBe(409);

    const patched = await h.as(sysAdmin).patch<Model>(`/api/ai/models/${id}`, { active: false, displayName: "Retired" });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id, active: false, displayName: "Retired" });
    const encoded = await h.as(sysAdmin).patch<Model>(`/api/ai/models/${encodeURIComponent(id)}`, { active: true });
    expect(encoded.status).toBe(200);
    expect(encoded.body.active).toBe(true);
    const audits = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetType, "ai_model"), eq(auditLog.targetId, id)));
    expect(audits.map((a) => a.action).sort()).toEqual(["ai.model.create", "ai.model.update", "ai.model.update"]);
  });

  test("the dev model's documented pace suffix (dev-tutor@<n>tps) registers, resolves and answers", async () => {
    const id = `dev-tutor@${1_000_000 + Math.floor(Math.random() * 1_000_000)}tps`;
    const created = await h.as(sysAdmin).post<Model>("/api/ai/models", { id, provider: "dev", displayName: "Fast tutor" });
    expect(created.status).toBe(201);
    expect(created.body.id).toBe(id);
    const scene = await makeSchoolScene(h.db.db);
    const settings = { defaultModel: id, requestsPerMinute: 1000, requestsPerHour: 10_000, tokensPerDay: 10_000_000 };
    expect((await h.as(sysAdmin).put(`/api/groups/${scene.district.id}/ai-settings`, settings)).status).toBe(200);

    const { deps } = await h.withApp();
    const gen = await deps.ai.start(generationRequest(scene));
    const { text, error } = await drain(gen);
    expect(error).toBeUndefined();
    expect(text.length).toBeGreaterThan(20);
    await gen.finish("complete", text);
    const [usage] = await usageRowsFor(h.db.db, scene.student.id);
    expect(usage?.model).toBe(id);
  });

  test("bad input → 422; unknown model → 404", async () => {
    expect((await h.as(sysAdmin).post("/api/ai/models", { id: "has space", provider: "p", displayName: "d" })).status).toBe(422);
    expect((await h.as(sysAdmin).post("/api/ai/models", { id: unique("m"), provider: "p", displayName: "d", inputPricePer1k: -1 })).status).toBe(422);
    expect((await h.as(sysAdmin).patch(`/api/ai/models/${active.id}`, {})).status).toBe(422);
    const missing = await h.as(sysAdmin).patch(`/api/ai/models/${unique("nope")}`, { active: false });
    expect(missing.status).toBe(404);
  });
});

describe("system AI settings", () => {
  test("a system admin reads and replaces them (restored afterwards)", async () => {
    const [previous] = await h.db.db.select().from(aiSettings).where(eq(aiSettings.isSystem, true));
    try {
      const put = await h.as(sysAdmin).put<Settings>("/api/ai/settings/system", { alertThreshold: 0.9 });
      expect(put.status).toBe(200);
      expect(aiSettingsSchema.parse(put.body)).toMatchObject({ scope: "system", configured: true, alertThreshold: 0.9, defaultModel: null, requestsPerMinute: null });
      const got = await h.as(sysAdmin).get<Settings>("/api/ai/settings/system");
      expect(got.body).toMatchObject({ configured: true, alertThreshold: 0.9 });
      for (const body of [{ defaultModel: inactive.id }, { defaultModel: "no-such-model" }, { alertThreshold: 1.5 }, { requestsPerMinute: 0 }]) {
        const bad = await h.as(sysAdmin).put("/api/ai/settings/system", body);
        expect(bad.status).toBe(422);
        expect(errorCode(bad.body)).toBe("VALIDATION_FAILED");
      }
    } finally {
      // The system row is shared by every test file on a shared Postgres: put it back as it was.
      if (previous) {
        const { id: _id, createdAt: _c, updatedAt: _u, ...rest } = previous;
        await h.db.db.update(aiSettings).set(rest).where(eq(aiSettings.isSystem, true));
      } else {
        await h.db.db.delete(aiSettings).where(eq(aiSettings.isSystem, true));
      }
    }
  });
});

describe("group AI settings", () => {
  test("an admin sets, reads and removes a group's settings", async () => {
    const base = `/api/groups/${s.school.id}/ai-settings`;
    const empty = await h.as(s.schoolAdmin).get<Settings>(base);
    expect(empty.status).toBe(200);
    expect(aiSettingsSchema.parse(empty.body)).toMatchObject({ scope: "group", configured: false, alertThreshold: 0.8 });
    const body = { defaultModel: active.id, requestsPerMinute: 20, requestsPerHour: 200, tokensPerDay: 100000, monthlyBudgetUsd: 50.5, alertThreshold: 0.75 };
    const put = await h.as(s.districtAdmin).put<Settings>(base, body);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ configured: true, ...body });
    const replaced = await h.as(s.schoolAdmin).put<Settings>(base, { requestsPerMinute: 5 });
    expect(replaced.body).toMatchObject({ requestsPerMinute: 5, defaultModel: null, monthlyBudgetUsd: null, alertThreshold: 0.8 });
    expect((await h.as(s.schoolAdmin).delete(base)).status).toBe(204);
    expect((await h.as(s.schoolAdmin).get<Settings>(base)).body.configured).toBe(false);
    expect((await h.as(s.schoolAdmin).delete(base)).status).toBe(204);
    const actions = await h.db.db
      .select({ action: auditLog.action })
      .from(auditLog)
      .where(and(eq(auditLog.targetType, "ai_settings"), eq(auditLog.targetId, s.school.id)));
    expect(actions.map((a) => a.action).sort()).toEqual(["ai.settings.group.delete", "ai.settings.group.update", "ai.settings.group.update"]);
  });

  test("an inactive default model or a bad threshold → 422; unknown group → 404", async () => {
    const base = `/api/groups/${s.school.id}/ai-settings`;
    expect((await h.as(s.schoolAdmin).put(base, { defaultModel: inactive.id })).status).toBe(422);
    expect((await h.as(s.schoolAdmin).put(base, { alertThreshold: -0.1 })).status).toBe(422);
    expect((await h.as(sysAdmin).get(`/api/groups/${crypto.randomUUID()}/ai-settings`)).status).toBe(404);
  });
});

securityTests("ai", () => h.app, [
  { method: "GET", route: "/api/ai/models", path: () => "/api/ai/models" },
  {
    method: "POST",
    route: "/api/ai/models",
    path: () => "/api/ai/models",
    body: () => ({ id: unique("sec"), provider: "p", displayName: "d" }),
    denied: () => [
      { who: s.districtAdmin, status: 403 },
      { who: s.student, status: 403 },
    ],
  },
  {
    method: "PATCH",
    route: "/api/ai/models/:id",
    path: () => `/api/ai/models/${active.id}`,
    body: () => ({ active: false }),
    denied: () => [
      { who: s.districtAdmin, status: 403 },
      { who: s.teacher, status: 403 },
    ],
  },
  { method: "GET", route: "/api/ai/settings/system", path: () => "/api/ai/settings/system", denied: () => [{ who: s.districtAdmin, status: 403 }] },
  {
    method: "PUT",
    route: "/api/ai/settings/system",
    path: () => "/api/ai/settings/system",
    body: () => ({ requestsPerMinute: 1 }),
    denied: () => [{ who: s.districtAdmin, status: 403 }],
  },
  {
    method: "GET",
    route: "/api/groups/:id/ai-settings",
    path: () => `/api/groups/${s.school.id}/ai-settings`,
    denied: () => [
      { who: siblingAdmin, status: 404 },
      { who: s.teacher, status: 403 },
    ],
  },
  {
    method: "PUT",
    route: "/api/groups/:id/ai-settings",
    path: () => `/api/groups/${s.school.id}/ai-settings`,
    body: () => ({ requestsPerMinute: 1 }),
    denied: () => [
      { who: siblingAdmin, status: 404 },
      { who: s.teacher, status: 403 },
    ],
  },
  {
    method: "DELETE",
    route: "/api/groups/:id/ai-settings",
    path: () => `/api/groups/${s.school.id}/ai-settings`,
    denied: () => [
      { who: siblingAdmin, status: 404 },
      { who: s.teacher, status: 403 },
    ],
  },
]);
