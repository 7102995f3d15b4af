import { afterAll, describe, expect, test } from "bun:test";
import { createCsvBundleSource, createOneRosterRestSource, ROSTER_ENTITIES } from "../src/index.ts";
import { buildCsvBundle, generateDistrict, mutateDistrict, startOneRosterServer } from "../src/testing/index.ts";
import { readAll } from "./helpers.ts";

const options = { seed: 42, users: 300, classes: 12, enrollments: 400, schools: 3 };
const district = generateDistrict(options);
const client = { clientId: "c", clientSecret: "s" };
const server = startOneRosterServer({ data: district, clients: [client], pageSize: 50, faults: { shuffleSeed: 9 } });
afterAll(() => server.stop());

describe("generateDistrict", () => {
  test("the asked-for sizes, deterministic for a seed", () => {
    expect(district.users).toHaveLength(300);
    expect(district.classes).toHaveLength(12);
    expect(district.enrollments).toHaveLength(400);
    expect(district.orgs.map((o) => o.type)).toEqual(["district", "school", "school", "school"]);
    expect(district.academicSessions.map((s) => s.type)).toEqual(["schoolYear", "term", "term"]);
    expect(generateDistrict(options)).toEqual(district);
    expect(generateDistrict({ ...options, seed: 43 }).users).not.toEqual(district.users);
  });

  test("references hold together: every enrolment's class, school and user exist; no duplicates", () => {
    const ids = (records: { sourcedId: string }[]) => new Set(records.map((r) => r.sourcedId));
    const users = ids(district.users);
    const classes = new Map(district.classes.map((k) => [k.sourcedId, k]));
    const pairs = new Set<string>();
    for (const e of district.enrollments) {
      expect(users.has(e.userSourcedId)).toBe(true);
      expect(classes.get(e.classSourcedId)?.schoolSourcedId).toBe(e.schoolSourcedId);
      pairs.add(`${e.classSourcedId}|${e.userSourcedId}`);
    }
    expect(pairs.size).toBe(district.enrollments.length);
    for (const klass of district.classes) {
      const teachers = district.enrollments.filter((e) => e.classSourcedId === klass.sourcedId && e.role === "teacher");
      expect(teachers).toHaveLength(1);
    }
    expect(new Set(district.users.map((u) => u.email)).size).toBe(300);
    const prefixed = generateDistrict({ ...options, idPrefix: "t7-" });
    expect(prefixed.users[5]?.sourcedId).toBe("t7-user-5");
    expect(prefixed.users[5]?.email).toEndWith("@t7.district.example.org");
  });

  test("mutateDistrict: renames, moves and removals, with a delta of exactly those records", () => {
    const at = new Date("2026-11-30T00:00:00.000Z");
    const next = mutateDistrict(district, { seed: 1, at, renameUsers: 3, moveStudents: 2, removeEnrollments: 1 });
    expect(next.delta.users.map((u) => u.sourcedId).sort()).toEqual([...next.renamed].sort());
    expect(next.delta.enrollments).toHaveLength(5);
    for (const move of next.moved) {
      const removed = next.data.enrollments.find((e) => e.sourcedId === move.removedEnrollment);
      const added = next.data.enrollments.find((e) => e.sourcedId === move.newEnrollment);
      expect(removed).toMatchObject({ status: "tobedeleted", classSourcedId: move.from, userSourcedId: move.userSourcedId });
      expect(added).toMatchObject({ status: "active", classSourcedId: move.to, userSourcedId: move.userSourcedId });
      expect(move.to).not.toBe(move.from);
    }
    expect(next.data.enrollments).toHaveLength(402);
    expect(next.delta.classes).toEqual([]);
    // The input is left as it was.
    expect(district.enrollments.every((e) => e.status === "active")).toBe(true);
  });
});

const bySourcedId = (a: { sourcedId: string }, b: { sourcedId: string }) => a.sourcedId.localeCompare(b.sourcedId);

describe("one roster, two sources", () => {
  const rest = createOneRosterRestSource({ baseUrl: server.url, tokenUrl: server.tokenUrl, ...client });

  test("a CSV bundle and the REST server of the same district give the same records", async () => {
    const csv = createCsvBundleSource(buildCsvBundle(district, { excelStyle: true }), { pageSize: 64 });
    for (const entity of ROSTER_ENTITIES) {
      const fromCsv = await readAll(csv, entity);
      const fromRest = await readAll(rest, entity);
      expect(fromCsv.rejected).toEqual([]);
      expect(fromRest.rejected).toEqual([]);
      expect([...fromRest.records].sort(bySourcedId)).toEqual([...fromCsv.records].sort(bySourcedId));
      expect(fromCsv.records).toEqual(district[entity] as typeof fromCsv.records);
    }
    // The server shuffles: the same records, not the same order.
    expect((await readAll(rest, "users")).records.map((u) => u.sourcedId)).not.toEqual(district.users.map((u) => u.sourcedId));
  });

  test("and the same delta", async () => {
    const since = new Date("2026-09-01T00:00:00.000Z");
    const next = mutateDistrict(district, { seed: 5, at: new Date("2026-11-30T00:00:00.000Z"), renameUsers: 4, moveStudents: 3 });
    server.setData(next.data);
    const csv = createCsvBundleSource(buildCsvBundle(next.data, { since }));
    expect(await csv.mode("enrollments")).toBe("delta");
    for (const entity of ROSTER_ENTITIES) {
      const fromCsv = await readAll(csv, entity);
      const fromRest = await readAll(rest, entity, { since });
      expect([...fromRest.records].sort(bySourcedId)).toEqual([...fromCsv.records].sort(bySourcedId));
      expect(fromCsv.records).toEqual(next.delta[entity] as typeof fromCsv.records);
    }
    server.setData(district);
  });

  test("buildCsvBundle: malformed rows land where asked, with their line numbers", async () => {
    const small = generateDistrict({ seed: 2, users: 10, classes: 2, enrollments: 8 });
    const bundle = buildCsvBundle(small, {
      extraLines: { enrollments: ["e-bad,active,,class-1,org-school-1,user-1,pupil,false,,", "too,few"], roles: ["r,,,user-3,primary,wizard,,,org-school-1,"] },
      manifest: { orgs: "bulk", courses: "absent" },
    });
    const source = createCsvBundleSource(bundle);
    expect(await source.mode("courses")).toBe("absent");
    const enrollments = await readAll(source, "enrollments");
    expect(enrollments.records).toHaveLength(8);
    expect(enrollments.rejected.map((r) => [r.line, r.sourcedId])).toEqual([
      [11, "too"],
      [10, "e-bad"],
    ]);
    const users = await readAll(source, "users");
    expect(users.rejected).toMatchObject([{ file: "roles.csv", line: 12, sourcedId: "user-3" }]);
    expect(users.records.find((u) => u.sourcedId === "user-3")?.roles).toHaveLength(1);
  });
});
