import { buildCsvBundle, type RosterData } from "@raptscallions/oneroster/testing";
import { strToU8, zipSync } from "fflate";

/** A zip of `files`, stored without compression (all a OneRoster CSV bundle needs). */
export function zipStored(files: Record<string, string>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, strToU8(text)])), { level: 0 });
}

const fields = { status: "active", dateLastModified: null } as const;

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
  const data: RosterData = {
    orgs: [
      { ...fields, sourcedId: `district-${tag}`, name: "District", type: "district", identifier: null, parentSourcedId: null },
      { ...fields, sourcedId: school, name: `School ${tag}`, type: "school", identifier: null, parentSourcedId: `district-${tag}` },
    ],
    academicSessions: [
      {
        ...fields,
        sourcedId: `term-${tag}`,
        title: "Fall 2027",
        type: "term",
        startDate: "2027-08-20",
        endDate: "2027-12-20",
        parentSourcedId: null,
        schoolYear: "2028",
      },
    ],
    courses: [{ ...fields, sourcedId: `course-${tag}`, title: "Algebra", courseCode: "ALG", orgSourcedId: school, schoolYearSourcedId: null }],
    classes: [
      {
        ...fields,
        sourcedId: `class-${tag}`,
        title: `Algebra ${tag}`,
        classCode: "ALG-1",
        classType: "scheduled",
        courseSourcedId: `course-${tag}`,
        schoolSourcedId: school,
        termSourcedIds: [`term-${tag}`],
      },
    ],
    users: people.map((p) => ({
      ...fields,
      sourcedId: p,
      enabledUser: true,
      username: p,
      givenName: "Given",
      familyName: p,
      middleName: null,
      preferredGivenName: null,
      email: `${p}@bundle.example`,
      identifier: `SIS-${p}`,
      userIds: [],
      roles: [],
      primaryOrgSourcedId: school,
      grades: [],
    })),
    enrollments: people.map((p, i) => ({
      ...fields,
      sourcedId: `enr-${p}`,
      classSourcedId: `class-${tag}`,
      schoolSourcedId: school,
      userSourcedId: p,
      role: i === 0 ? "teacher" : "student",
      primary: false,
      beginDate: null,
      endDate: null,
    })),
  };
  return buildCsvBundle(data, { manifest: { roles: "absent" }, extraLines: { enrollments: (opts.extraEnrollmentRows ?? []).map((row) => row.join(",")) } });
}
