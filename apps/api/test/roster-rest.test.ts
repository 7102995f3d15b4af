import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { classes, classMembers } from "@raptscallions/db";
import { makeSchoolScene, type SchoolScene } from "@raptscallions/db/testing";
import type { RosterEntity } from "@raptscallions/oneroster";
import { type OneRosterServer, type RosterData, startOneRosterServer } from "@raptscallions/oneroster/testing";
import { eq } from "drizzle-orm";
import { useHarness } from "./helpers/harness.ts";
import { roster } from "./helpers/roster.ts";

// A REST connection syncing through the real OneRoster client from a OneRoster 1.2 server on a real
// port (token endpoint, paging, faults): the app's default roster configuration, nothing injected.
const h = useHarness();
let scene: SchoolScene;
let sis: OneRosterServer;
const modified = new Date("2027-01-10T08:00:00Z");
const at = <T extends { dateLastModified: Date | null }>(r: T): T => ({ ...r, dateLastModified: modified });

function district(tag: string, students: number): RosterData {
  const school = `school-${tag}`;
  const cls = `class-${tag}`;
  const users = Array.from({ length: students }, (_, i) => at(roster.user(`stu-${tag}-${i}`)));
  return {
    orgs: [at(roster.org(school, { name: `REST School ${tag}` }))],
    academicSessions: [at(roster.term("term-1"))],
    courses: [],
    classes: [at(roster.class(cls, school, { title: `Physics ${tag}` }))],
    users,
    enrollments: users.map((u, i) => at(roster.enrollment(`enr-${tag}-${i}`, cls, u.sourcedId, "student", { schoolSourcedId: school }))),
  };
}

type Run = { id: string; status: string; counts: Record<string, { created: number; removed?: number }>; error: string | null };

async function runOnce(connectionId: string): Promise<Run> {
  const started = await h.as(scene.districtAdmin).post<Run>(`/api/roster-connections/${connectionId}/runs`, { mode: "full" });
  expect(started.status).toBe(202);
  for (let i = 0; i < 400; i++) {
    const res = await h.as(scene.districtAdmin).get<Run>(`/api/roster-connections/${connectionId}/runs/${started.body.id}`);
    if (res.body.status === "succeeded" || res.body.status === "failed") return res.body;
    await Bun.sleep(50);
  }
  throw new Error("the run did not finish");
}

async function membersOf(title: string) {
  const [cls] = await h.db.db.select().from(classes).where(eq(classes.name, title));
  if (!cls) return null;
  return h.db.db.select().from(classMembers).where(eq(classMembers.classId, cls.id));
}

beforeAll(async () => {
  scene = await makeSchoolScene(h.db.db);
}, 60_000);
afterAll(async () => {
  await sis?.stop();
});

describe("roster sync over OneRoster REST", () => {
  test("a full sync pages through the server; a failing page fails the run and changes nothing", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    // 7 students on pages of 3: every entity with more than one page.
    sis = startOneRosterServer({ data: district(tag, 7), clients: [{ clientId: "rapt", clientSecret: "sis-secret-0001" }], pageSize: 3 });
    const created = await h.as(scene.districtAdmin).post<{ id: string }>(`/api/groups/${scene.school.id}/roster-connections`, {
      kind: "oneroster_rest",
      name: "SIS over REST",
      baseUrl: sis.url,
      tokenUrl: sis.tokenUrl,
      clientId: "rapt",
      clientSecret: "sis-secret-0001",
      intervalMinutes: 60,
    });
    expect(created.status).toBe(201);

    const first = await runOnce(created.body.id);
    expect(first).toMatchObject({ status: "succeeded", error: null });
    expect(first.counts.enrollments?.created).toBe(7);
    expect(await membersOf(`Physics ${tag}`)).toHaveLength(7);
    expect(sis.requests.some((r) => r.path.endsWith("/enrollments") && r.params.offset === "6")).toBe(true);

    // Two students leave, and the second page of enrolments fails every time: nothing is applied.
    const next = district(tag, 5);
    sis.setData(next);
    sis.faults.failPages = [{ entity: "enrollments" satisfies RosterEntity, offset: 3, status: 500 }];
    const failed = await runOnce(created.body.id);
    expect(failed.status).toBe("failed");
    expect(await membersOf(`Physics ${tag}`)).toHaveLength(7);

    // The server recovers: the bulk read converges to the five who remain.
    sis.faults.failPages = [];
    const converged = await runOnce(created.body.id);
    expect(converged.status).toBe("succeeded");
    expect(converged.counts.users?.removed).toBe(2);
    expect(converged.counts.enrollments?.removed).toBe(2);
    expect(await membersOf(`Physics ${tag}`)).toHaveLength(5);
  }, 60_000);
});
