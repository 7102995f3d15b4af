import { beforeAll, describe, expect, test } from "bun:test";
import { classes, classMembers, groups, rosterConnections } from "@raptscallions/db";
import { SEED, seed } from "@raptscallions/db";
import { makeSchoolScene, type SchoolScene } from "@raptscallions/db/testing";
import { eq } from "drizzle-orm";
import { defaultRosterConfig } from "../src/lib/roster-config.ts";
import { zipStored, smallCsvBundle } from "./helpers/csv-bundle.ts";
import { useHarness } from "./helpers/harness.ts";
import { authHeader } from "./helpers/auth.ts";
import { errorCode, securityTests } from "./helpers/security.ts";
import { memorySource, roster } from "./helpers/roster.ts";

const UPLOAD_LIMIT = 64 * 1024;
const h = useHarness({
  deps: (base) => ({
    config: {
      ...base.config,
      roster: defaultRosterConfig({
        uploadLimitBytes: UPLOAD_LIMIT,
        // The REST connection of these tests reads a small district from memory.
        openRestSource: (settings) => {
          if (settings.clientSecret !== "s3cret-value-9876") throw new Error("the secret did not round-trip");
          return memorySource({
            orgs: [roster.org("rest-school", { name: "REST School" })],
            academicSessions: [roster.term("term-1")],
            classes: [roster.class("rest-class", "rest-school", { title: "Chemistry" })],
            users: [roster.user(`rest-student-${settings.clientId}`)],
            enrollments: [roster.enrollment("rest-enr", "rest-class", `rest-student-${settings.clientId}`, "student")],
          });
        },
      }),
    },
  }),
});
let scene: SchoolScene;
let other: SchoolScene;
let csvId: string;

type Run = { id: string; status: string; counts: Record<string, { created: number }>; error: string | null; rejected?: unknown[] };

/** Posts a raw body (a zip) as the district admin. */
async function upload(connectionId: string, body: Uint8Array | string, type = "application/zip") {
  const res = await h.app.request(`/api/roster-connections/${connectionId}/bundles`, {
    method: "POST",
    headers: { ...(await authHeader(scene.districtAdmin)), "content-type": type },
    body: body as BodyInit,
  });
  return { status: res.status, body: (await res.json()) as Run & { error?: unknown } };
}

async function finished(connectionId: string, runId: string): Promise<Run> {
  for (let i = 0; i < 200; i++) {
    const res = await h.as(scene.districtAdmin).get<Run>(`/api/roster-connections/${connectionId}/runs/${runId}`);
    if (res.body.status === "succeeded" || res.body.status === "failed") return res.body;
    await Bun.sleep(50);
  }
  throw new Error("the run did not finish");
}

beforeAll(async () => {
  scene = await makeSchoolScene(h.db.db);
  other = await makeSchoolScene(h.db.db);
  const res = await h.as(scene.districtAdmin).post<{ id: string }>(`/api/groups/${scene.school.id}/roster-connections`, { kind: "csv", name: "Bundles" });
  csvId = res.body.id;
}, 60_000);

describe("roster connections", () => {
  test("the seeded district takes a CSV bundle: its school, classes and enrolments appear under it", async () => {
    await seed(h.db.db);
    const [district] = await h.db.db.select().from(groups).where(eq(groups.slug, SEED.groups.district.slug));
    const admin = { clerkUserId: "user_dev_admin" };
    const conn = await h.as(admin).post<{ id: string }>(`/api/groups/${district?.id}/roster-connections`, { kind: "csv", name: "Northwind SIS" });
    expect(conn.status).toBe(201);
    const tag = crypto.randomUUID().slice(0, 8);
    const res = await h.app.request(`/api/roster-connections/${conn.body.id}/bundles`, {
      method: "POST",
      headers: { ...(await authHeader(admin)), "content-type": "application/zip" },
      body: smallCsvBundle(tag) as BodyInit,
    });
    expect(res.status).toBe(202);
    const run = (await res.json()) as Run;
    let done: Run | undefined;
    for (let i = 0; i < 200 && !(done && done.status !== "queued" && done.status !== "running"); i++) {
      if (i > 0) await Bun.sleep(50);
      done = (await h.as(admin).get<Run>(`/api/roster-connections/${conn.body.id}/runs/${run.id}`)).body;
    }
    expect(done).toMatchObject({ status: "succeeded", rejected: [] });
    const [cls] = await h.db.db
      .select()
      .from(classes)
      .where(eq(classes.name, `Algebra ${tag}`));
    const members = await h.db.db
      .select()
      .from(classMembers)
      .where(eq(classMembers.classId, cls?.id ?? ""));
    expect(members.map((m) => m.role).sort()).toEqual(["student", "student", "teacher"]);
  });

  test("a REST connection stores its secret encrypted and only ever shows that it is set and its last 4", async () => {
    const created = await h.as(scene.districtAdmin).post<Record<string, unknown>>(`/api/groups/${scene.school.id}/roster-connections`, {
      kind: "oneroster_rest",
      name: "District SIS",
      baseUrl: "https://sis.example/ims/oneroster/rostering/v1p2",
      tokenUrl: "https://sis.example/token",
      clientId: "client-a",
      clientSecret: "s3cret-value-9876",
      intervalMinutes: 60,
    });
    expect(created.status).toBe(201);
    expect(created.body.clientSecret).toEqual({ set: true, last4: "9876" });
    expect(JSON.stringify(created.body)).not.toContain("s3cret");
    const [row] = await h.db.db
      .select()
      .from(rosterConnections)
      .where(eq(rosterConnections.id, String(created.body.id)));
    expect(row?.secretCiphertext).toBeString();
    expect(row?.secretCiphertext).not.toContain("s3cret");
    const list = await h.as(scene.districtAdmin).get<{ items: { id: string }[] }>(`/api/groups/${scene.school.id}/roster-connections`);
    expect(list.body.items.map((c) => c.id)).toContain(String(created.body.id));
    expect(JSON.stringify(list.body)).not.toContain("s3cret");

    const run = await h.as(scene.districtAdmin).post<Run>(`/api/roster-connections/${created.body.id}/runs`, { mode: "full" });
    expect(run.status).toBe(202);
    const done = await finished(String(created.body.id), run.body.id);
    expect(done).toMatchObject({ status: "succeeded", error: null });
    expect(done.counts.classes?.created).toBe(1);
    const made = await h.db.db
      .select()
      .from(classes)
      .where(eq(classes.rosterConnectionId, String(created.body.id)));
    expect(made.map((c) => c.name)).toEqual(["Chemistry"]);

    const patched = await h.as(scene.districtAdmin).patch<Record<string, unknown>>(`/api/roster-connections/${created.body.id}`, { clientSecret: "another-one-1234" });
    expect(patched.body.clientSecret).toEqual({ set: true, last4: "1234" });
    const failing = await h.as(scene.districtAdmin).post<Run>(`/api/roster-connections/${created.body.id}/runs`, {});
    const failed = await finished(String(created.body.id), failing.body.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toBe("internal error; the server log has the details");
  });

  test("an uploaded CSV bundle creates the classes and enrolments, and the run's log says so", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const res = await upload(
      csvId,
      smallCsvBundle(tag, { students: 3, extraEnrollmentRows: [["enr-bad", "", "", `class-${tag}`, `school-${tag}`, "nobody", "student", "false", "", ""]] }),
    );
    expect(res.status).toBe(202);
    expect(res.body.status).toBe("queued");
    const done = await finished(csvId, res.body.id);
    expect(done.status).toBe("succeeded");
    expect(done.counts.enrollments?.created).toBe(4);
    // The connection is the school's: the district above it is not synced, and says so.
    expect(done.rejected).toEqual([
      { entity: "orgs", sourcedId: `district-${tag}`, reason: "a district above the connection's group is not synced" },
      { entity: "enrollments", sourcedId: "enr-bad", reason: "user nobody is not synced" },
    ]);
    const [cls] = await h.db.db
      .select()
      .from(classes)
      .where(eq(classes.name, `Algebra ${tag}`));
    expect(cls?.term).toBe("Fall 2027");
    const members = await h.db.db
      .select()
      .from(classMembers)
      .where(eq(classMembers.classId, cls?.id ?? ""));
    expect(members).toHaveLength(4);
    const runs = await h.as(scene.districtAdmin).get<{ items: { id: string }[] }>(`/api/roster-connections/${csvId}/runs`);
    expect(runs.body.items[0]?.id).toBe(res.body.id);
  });

  test("bad uploads are 4xx: not a zip, a zip that is no bundle, too large, the wrong content type", async () => {
    const post = (body: Uint8Array | string, type = "application/zip") => upload(csvId, body, type);
    const notZip = await post("sourcedId,name\n1,x\n");
    expect(notZip.status).toBe(415);
    expect(errorCode(notZip.body)).toBe("UNSUPPORTED_MEDIA_TYPE");
    const noManifest = await post(zipStored({ "orgs.csv": "sourcedId,name,type\n" }));
    expect(noManifest.status).toBe(422);
    expect(errorCode(noManifest.body)).toBe("VALIDATION_FAILED");
    const big = await post(new Uint8Array(UPLOAD_LIMIT + 1));
    expect(big.status).toBe(413);
    expect(errorCode(big.body)).toBe("PAYLOAD_TOO_LARGE");
    const json = await post(JSON.stringify({ a: 1 }), "application/json");
    expect(json.status).toBe(415);
  });

  test("a CSV connection is not triggered, a bad body is a 4xx, a stranger's connection a 404", async () => {
    const trigger = await h.as(scene.districtAdmin).post(`/api/roster-connections/${csvId}/runs`, {});
    expect(trigger.status).toBe(422);
    const bad = await h.as(scene.districtAdmin).post(`/api/groups/${scene.school.id}/roster-connections`, { kind: "oneroster_rest", name: "x", baseUrl: "ftp://x" });
    expect([400, 422]).toContain(bad.status);
    expect(errorCode(bad.body)).toBe("VALIDATION_FAILED");
    const stranger = await h.as(other.districtAdmin).get(`/api/roster-connections/${csvId}`);
    expect(stranger.status).toBe(404);
  });

  test("deleting a connection keeps what it synced, as ordinary classes", async () => {
    const created = await h.as(scene.districtAdmin).post<{ id: string }>(`/api/groups/${scene.school.id}/roster-connections`, { kind: "csv", name: "Temp" });
    const tag = crypto.randomUUID().slice(0, 8);
    const up = await upload(created.body.id, smallCsvBundle(tag));
    expect((await finished(created.body.id, up.body.id)).status).toBe("succeeded");
    const del = await h.as(scene.districtAdmin).delete(`/api/roster-connections/${created.body.id}`);
    expect(del.status).toBe(204);
    const [cls] = await h.db.db
      .select()
      .from(classes)
      .where(eq(classes.name, `Algebra ${tag}`));
    expect(cls).toMatchObject({ rosterConnectionId: null, archivedAt: null });
  });
});

const csv = () => `/api/roster-connections/${csvId}`;
const denied = () => [
  { who: scene.teacher, status: 404 as const, as: "a teacher of the school" },
  { who: other.districtAdmin, status: 404 as const, as: "another district's admin" },
];
securityTests("roster", () => h.app, [
  {
    method: "POST",
    route: "/api/groups/:id/roster-connections",
    path: () => `/api/groups/${scene.school.id}/roster-connections`,
    body: () => ({ kind: "csv", name: "x" }),
    denied: () => [{ who: other.districtAdmin, status: 404, as: "another district's admin" }],
  },
  {
    method: "GET",
    route: "/api/groups/:id/roster-connections",
    path: () => `/api/groups/${scene.school.id}/roster-connections`,
    denied: () => [{ who: scene.teacher, status: 403 }],
  },
  { method: "GET", route: "/api/roster-connections/:id", path: csv, denied },
  { method: "PATCH", route: "/api/roster-connections/:id", path: csv, body: () => ({ name: "y" }), denied },
  { method: "DELETE", route: "/api/roster-connections/:id", path: csv, denied },
  { method: "POST", route: "/api/roster-connections/:id/runs", path: () => `${csv()}/runs`, body: () => ({}), denied },
  { method: "GET", route: "/api/roster-connections/:id/runs", path: () => `${csv()}/runs`, denied },
  { method: "GET", route: "/api/roster-connections/:id/runs/:runId", path: () => `${csv()}/runs/${crypto.randomUUID()}`, denied },
]);
