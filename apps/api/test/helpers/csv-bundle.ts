import { buildCsvBundle, type RosterData } from "@raptscallions/oneroster/testing";
import { strToU8, zipSync } from "fflate";
import { roster } from "./roster.ts";

/** A zip of `files`, stored without compression (all a OneRoster CSV bundle needs). */
export function zipStored(files: Record<string, string>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, strToU8(text)])), { level: 0 });
}

/**
 * A small OneRoster 1.2 CSV bundle: one school under a district, a term, a class, a teacher and
 * `students` students enrolled in it, with no roles file (the enrolments say who teaches). Ids carry
 * `tag`, so bundles of different tests never meet. `extraEnrollmentRows` are appended to
 * enrollments.csv as they are, in its column order.
 */
export function smallCsvBundle(tag: string, opts: { students?: number; extraEnrollmentRows?: string[][] } = {}): Uint8Array {
  const students = Array.from({ length: opts.students ?? 2 }, (_, i) => `s${i + 1}-${tag}`);
  const people = [`t1-${tag}`, ...students];
  const school = `school-${tag}`;
  const course = `course-${tag}`;
  const klass = `class-${tag}`;
  const term = `term-${tag}`;
  const data: RosterData = {
    orgs: [roster.org(`district-${tag}`, { name: "District", type: "district" }), roster.org(school, { name: `School ${tag}`, parentSourcedId: `district-${tag}` })],
    academicSessions: [roster.term(term, { title: "Fall 2027", startDate: "2027-08-20", endDate: "2027-12-20", schoolYear: "2028" })],
    courses: [roster.course(course, school, { title: "Algebra", courseCode: "ALG" })],
    classes: [roster.class(klass, school, { title: `Algebra ${tag}`, classCode: "ALG-1", courseSourcedId: course, termSourcedIds: [term] })],
    users: people.map((p) => roster.user(p, { email: `${p}@bundle.example`, primaryOrgSourcedId: school })),
    enrollments: people.map((p, i) => roster.enrollment(`enr-${p}`, klass, p, i === 0 ? "teacher" : "student", { schoolSourcedId: school })),
  };
  return buildCsvBundle(data, { manifest: { roles: "absent" }, extraLines: { enrollments: (opts.extraEnrollmentRows ?? []).map((row) => row.join(",")) } });
}
