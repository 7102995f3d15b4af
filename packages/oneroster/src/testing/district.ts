import type { AcademicSessionRecord, ClassRecord, CourseRecord, EnrollmentRecord, OrgRecord, RosterEntity, RosterRecords, UserRecord } from "../records.ts";
import { pick, seededRandom } from "./random.ts";

/** Every record of a roster, entity by entity: what a source serves and what a sync should end with. */
export type RosterData = { [E in RosterEntity]: RosterRecords[E][] };

export interface DistrictOptions {
  seed: number;
  /** All users: one district administrator, the teachers, the rest students. */
  users: number;
  classes: number;
  /** All enrolments: one teacher per class first, the rest students in classes of their school. */
  enrollments: number;
  /** Default: one per 40 classes. */
  schools?: number;
  /** Default: one per 5 classes. */
  teachers?: number;
  /** Prefix for every sourcedId, username and e-mail domain: lets tests share one database. */
  idPrefix?: string;
  /** `dateLastModified` of every record. Default 2026-08-01T00:00:00Z. */
  modifiedAt?: Date;
}

const GIVEN = [
  "Ada",
  "Ben",
  "Chloe",
  "Dev",
  "Elif",
  "Farah",
  "Gus",
  "Hana",
  "Ivo",
  "Jun",
  "Kai",
  "Lena",
  "Milo",
  "Nia",
  "Omar",
  "Pia",
  "Quinn",
  "Rosa",
  "Sam",
  "Tariq",
  "Uma",
  "Vik",
  "Wen",
  "Yara",
  "Zoe",
];
const FAMILY = [
  "Adams",
  "Baker",
  "Chen",
  "Diaz",
  "Evans",
  "Fischer",
  "Garcia",
  "Haddad",
  "Ito",
  "Jensen",
  "Khan",
  "Lopez",
  "Moreau",
  "Novak",
  "Okafor",
  "Park",
  "Quist",
  "Rossi",
  "Silva",
  "Tanaka",
  "Ueda",
  "Varga",
  "Weber",
  "Young",
  "Zhou",
];
const SUBJECTS = ["Algebra", "Biology", "Chemistry", "English", "French", "Geography", "History", "Music", "Physics", "Art"];

/**
 * A deterministic district: the district and its schools, a school year with two terms, courses,
 * classes, users with e-mails and SIS ids, and enrolments. Small for tests, 20,000 users for the
 * bench; the same options and seed always give the same records.
 */
export function generateDistrict(options: DistrictOptions): RosterData {
  const random = seededRandom(options.seed);
  const p = options.idPrefix ?? "";
  const modified = options.modifiedAt ?? new Date("2026-08-01T00:00:00.000Z");
  const domain = `${p ? `${p.replace(/[^a-z0-9]/gi, "").toLowerCase()}.` : ""}district.example.org`;
  const meta = { status: "active" as const, dateLastModified: modified };
  const classCount = Math.max(1, options.classes);
  const schoolCount = Math.max(1, options.schools ?? Math.ceil(classCount / 40));
  const userCount = Math.max(3, options.users);
  const teacherCount = Math.max(1, Math.min(options.teachers ?? Math.ceil(classCount / 5), userCount - 2));

  const district = `${p}org-district`;
  const orgs: OrgRecord[] = [{ ...meta, sourcedId: district, name: "North Valley District", type: "district", identifier: "NVD", parentSourcedId: null }];
  const schools: string[] = [];
  for (let s = 0; s < schoolCount; s += 1) {
    const sourcedId = `${p}org-school-${s + 1}`;
    schools.push(sourcedId);
    orgs.push({ ...meta, sourcedId, name: `School ${s + 1}`, type: "school", identifier: `S${s + 1}`, parentSourcedId: district });
  }

  const year = `${p}as-2027`;
  const terms = [`${p}as-2027-fall`, `${p}as-2027-spring`];
  const academicSessions: AcademicSessionRecord[] = [
    { ...meta, sourcedId: year, title: "2026–2027", type: "schoolYear", startDate: "2026-08-15", endDate: "2027-06-30", parentSourcedId: null, schoolYear: "2027" },
    {
      ...meta,
      sourcedId: terms[0] as string,
      title: "Fall 2026",
      type: "term",
      startDate: "2026-08-15",
      endDate: "2026-12-20",
      parentSourcedId: year,
      schoolYear: "2027",
    },
    {
      ...meta,
      sourcedId: terms[1] as string,
      title: "Spring 2027",
      type: "term",
      startDate: "2027-01-05",
      endDate: "2027-06-30",
      parentSourcedId: year,
      schoolYear: "2027",
    },
  ];

  const courses: CourseRecord[] = [];
  const coursesBySchool = new Map<string, string[]>();
  for (const [s, school] of schools.entries()) {
    const ids: string[] = [];
    for (const [c, subject] of SUBJECTS.entries()) {
      const sourcedId = `${p}course-${s + 1}-${c + 1}`;
      ids.push(sourcedId);
      courses.push({ ...meta, sourcedId, title: subject, courseCode: `${subject.slice(0, 3).toUpperCase()}-${s + 1}`, orgSourcedId: school, schoolYearSourcedId: year });
    }
    coursesBySchool.set(school, ids);
  }

  const users: UserRecord[] = [];
  const person = (n: number, role: "student" | "teacher" | "districtAdministrator", org: string): UserRecord => {
    const givenName = pick(random, GIVEN);
    const familyName = pick(random, FAMILY);
    const username = `${givenName}.${familyName}.${n}`.toLowerCase();
    const identifier = `${role === "student" ? "S" : "T"}${100000 + n}`;
    return {
      ...meta,
      sourcedId: `${p}user-${n}`,
      enabledUser: true,
      username,
      givenName,
      familyName,
      middleName: null,
      preferredGivenName: null,
      email: `${username}@${domain}`,
      identifier,
      userIds: [{ type: "sis", identifier }],
      roles: [{ roleType: "primary", role, orgSourcedId: org }],
      primaryOrgSourcedId: org,
      grades: role === "student" ? [String(9 + (n % 4)).padStart(2, "0")] : [],
    };
  };
  users.push(person(0, "districtAdministrator", district));
  const teachersBySchool = new Map<string, string[]>();
  const studentsBySchool = new Map<string, string[]>();
  for (let n = 1; n < userCount; n += 1) {
    const isTeacher = n <= teacherCount;
    const school = schools[(n - 1) % schools.length] as string;
    const user = person(n, isTeacher ? "teacher" : "student", school);
    users.push(user);
    const bucket = isTeacher ? teachersBySchool : studentsBySchool;
    bucket.set(school, [...(bucket.get(school) ?? []), user.sourcedId]);
  }

  const classes: ClassRecord[] = [];
  for (let k = 0; k < classCount; k += 1) {
    const school = schools[k % schools.length] as string;
    const course = pick(random, coursesBySchool.get(school) ?? []);
    const subject = courses.find((c) => c.sourcedId === course)?.title ?? "Class";
    classes.push({
      ...meta,
      sourcedId: `${p}class-${k + 1}`,
      title: `${subject} ${k + 1}`,
      classCode: `K${k + 1}`,
      classType: "scheduled",
      courseSourcedId: course,
      schoolSourcedId: school,
      termSourcedIds: [terms[k % 2] as string],
    });
  }

  const enrollments: EnrollmentRecord[] = [];
  const taken = new Set<string>();
  const enrol = (klass: ClassRecord, user: string, role: "teacher" | "student") => {
    taken.add(`${klass.sourcedId}|${user}`);
    enrollments.push({
      ...meta,
      sourcedId: `${p}enr-${enrollments.length + 1}`,
      classSourcedId: klass.sourcedId,
      schoolSourcedId: klass.schoolSourcedId,
      userSourcedId: user,
      role,
      primary: role === "teacher",
      beginDate: null,
      endDate: null,
    });
  };
  for (const klass of classes) {
    if (enrollments.length >= options.enrollments) break;
    const teachers = teachersBySchool.get(klass.schoolSourcedId) ?? [...teachersBySchool.values()].flat();
    enrol(klass, pick(random, teachers), "teacher");
  }
  for (let i = 0; enrollments.length < options.enrollments && i < options.enrollments * 4; i += 1) {
    const klass = classes[i % classes.length] as ClassRecord;
    const students = studentsBySchool.get(klass.schoolSourcedId) ?? [];
    if (students.length === 0) continue;
    const student = pick(random, students);
    if (!taken.has(`${klass.sourcedId}|${student}`)) enrol(klass, student, "student");
  }
  return { orgs, academicSessions, courses, classes, users, enrollments };
}
