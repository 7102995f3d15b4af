import { strToU8, zipSync } from "fflate";

/** A zip of `files`, stored without compression (all a OneRoster CSV bundle needs). */
export function zipStored(files: Record<string, string>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, strToU8(text)])), { level: 0 });
}

const csv = (header: string[], rows: string[][]) => [header.join(","), ...rows.map((r) => r.join(","))].join("\n");

/**
 * A small OneRoster 1.2 CSV bundle: one school under `districtId`, a term, a class, a teacher and
 * `students` students enrolled in it. Ids carry `tag`, so bundles of different tests never meet.
 */
export function smallCsvBundle(tag: string, opts: { students?: number; extraEnrollmentRows?: string[][] } = {}): Uint8Array {
  const students = Array.from({ length: opts.students ?? 2 }, (_, i) => `s${i + 1}-${tag}`);
  const people = [`t1-${tag}`, ...students];
  return zipStored({
    "manifest.csv": csv(
      ["propertyName", "value"],
      [
        ["manifest.version", "1.0"],
        ["oneroster.version", "1.2"],
        ["file.academicSessions", "bulk"],
        ["file.orgs", "bulk"],
        ["file.courses", "bulk"],
        ["file.classes", "bulk"],
        ["file.users", "bulk"],
        ["file.enrollments", "bulk"],
      ],
    ),
    "orgs.csv": csv(
      ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"],
      [
        [`district-${tag}`, "", "", "District", "district", "", ""],
        [`school-${tag}`, "", "", `School ${tag}`, "school", "", `district-${tag}`],
      ],
    ),
    "academicSessions.csv": csv(
      ["sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate", "parentSourcedId", "schoolYear"],
      [[`term-${tag}`, "", "", "Fall 2027", "term", "2027-08-20", "2027-12-20", "", "2028"]],
    ),
    "courses.csv": csv(
      ["sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode", "grades", "orgSourcedId"],
      [[`course-${tag}`, "", "", "", "Algebra", "ALG", "", `school-${tag}`]],
    ),
    "classes.csv": csv(
      ["sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode", "classType", "location", "schoolSourcedId", "termSourcedIds"],
      [[`class-${tag}`, "", "", `Algebra ${tag}`, "", `course-${tag}`, "ALG-1", "scheduled", "", `school-${tag}`, `term-${tag}`]],
    ),
    "users.csv": csv(
      [
        "sourcedId",
        "status",
        "dateLastModified",
        "enabledUser",
        "username",
        "userIds",
        "givenName",
        "familyName",
        "middleName",
        "identifier",
        "email",
        "primaryOrgSourcedId",
      ],
      people.map((p) => [p, "", "", "true", p, "", "Given", p, "", `SIS-${p}`, `${p}@bundle.example`, `school-${tag}`]),
    ),
    "enrollments.csv": csv(
      ["sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId", "userSourcedId", "role", "primary", "beginDate", "endDate"],
      [
        ...people.map((p, i) => [`enr-${p}`, "", "", `class-${tag}`, `school-${tag}`, p, i === 0 ? "teacher" : "student", "false", "", ""]),
        ...(opts.extraEnrollmentRows ?? []),
      ],
    ),
  });
}
