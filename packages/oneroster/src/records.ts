/**
 * OneRoster 1.2 rostering records, normalised: the one shape every source (a CSV bundle, the REST
 * API) produces and the roster sync consumes. Field names follow the specification; references
 * to other records are flattened to their `sourcedId` (`parentSourcedId`, `courseSourcedId`, …)
 * whether the source wrote a CSV column or a `{ href, sourcedId, type }` object.
 */
import { z } from "zod";

export const ROSTER_ENTITIES = ["orgs", "academicSessions", "courses", "classes", "users", "enrollments"] as const;
export type RosterEntity = (typeof ROSTER_ENTITIES)[number];

export const RECORD_STATUSES = ["active", "tobedeleted"] as const;
export const ORG_TYPES = ["department", "school", "district", "local", "state", "national"] as const;
export const SESSION_TYPES = ["gradingPeriod", "semester", "schoolYear", "term"] as const;
export const CLASS_TYPES = ["homeroom", "scheduled"] as const;
/** Roles a user holds at an org (OneRoster 1.2 `RoleEnum`). */
export const USER_ROLES = [
  "aide",
  "counselor",
  "districtAdministrator",
  "guardian",
  "parent",
  "principal",
  "proctor",
  "relative",
  "siteAdministrator",
  "student",
  "systemAdministrator",
  "teacher",
] as const;
/** Roles in a class (OneRoster 1.2 enrolment roles). */
export const ENROLLMENT_ROLES = ["administrator", "proctor", "student", "teacher"] as const;

const sourcedId = z.string().trim().min(1).max(256);
/** `YYYY-MM-DD`. */
const date = z.iso.date();

const base = {
  sourcedId,
  status: z.enum(RECORD_STATUSES),
  /** Absent in bulk CSV files, where the spec leaves it blank. */
  dateLastModified: z.date().nullable(),
};

export const orgRecord = z.object({
  ...base,
  name: z.string().trim().min(1),
  type: z.enum(ORG_TYPES),
  identifier: z.string().nullable(),
  parentSourcedId: sourcedId.nullable(),
});
export type OrgRecord = z.infer<typeof orgRecord>;

export const academicSessionRecord = z.object({
  ...base,
  title: z.string().trim().min(1),
  type: z.enum(SESSION_TYPES),
  startDate: date,
  endDate: date,
  parentSourcedId: sourcedId.nullable(),
  /** The school year the session belongs to, e.g. "2027". */
  schoolYear: z.string().trim().min(1),
});
export type AcademicSessionRecord = z.infer<typeof academicSessionRecord>;

export const courseRecord = z.object({
  ...base,
  title: z.string().trim().min(1),
  courseCode: z.string().nullable(),
  orgSourcedId: sourcedId,
  schoolYearSourcedId: sourcedId.nullable(),
});
export type CourseRecord = z.infer<typeof courseRecord>;

export const classRecord = z.object({
  ...base,
  title: z.string().trim().min(1),
  classCode: z.string().nullable(),
  classType: z.enum(CLASS_TYPES),
  courseSourcedId: sourcedId,
  schoolSourcedId: sourcedId,
  termSourcedIds: z.array(sourcedId).min(1),
});
export type ClassRecord = z.infer<typeof classRecord>;

export const userRoleRecord = z.object({
  roleType: z.enum(["primary", "secondary"]),
  role: z.enum(USER_ROLES),
  orgSourcedId: sourcedId,
});
export type UserRoleRecord = z.infer<typeof userRoleRecord>;

export const userRecord = z.object({
  ...base,
  enabledUser: z.boolean(),
  username: z.string().trim().min(1),
  givenName: z.string(),
  familyName: z.string(),
  middleName: z.string().nullable(),
  preferredGivenName: z.string().nullable(),
  /** Lower-cased; null when the SIS has none or it is not an address. */
  email: z.email().nullable(),
  /** The SIS's own id for the person (student number, staff id). */
  identifier: z.string().nullable(),
  /** Other systems' ids, e.g. `{ type: "clerk", identifier: "user_…" }`. */
  userIds: z.array(z.object({ type: z.string().min(1), identifier: z.string().min(1) })),
  roles: z.array(userRoleRecord),
  primaryOrgSourcedId: sourcedId.nullable(),
  grades: z.array(z.string()),
});
export type UserRecord = z.infer<typeof userRecord>;

export const enrollmentRecord = z.object({
  ...base,
  classSourcedId: sourcedId,
  schoolSourcedId: sourcedId,
  userSourcedId: sourcedId,
  role: z.enum(ENROLLMENT_ROLES),
  primary: z.boolean(),
  beginDate: date.nullable(),
  endDate: date.nullable(),
});
export type EnrollmentRecord = z.infer<typeof enrollmentRecord>;

export interface RosterRecords {
  orgs: OrgRecord;
  academicSessions: AcademicSessionRecord;
  courses: CourseRecord;
  classes: ClassRecord;
  users: UserRecord;
  enrollments: EnrollmentRecord;
}

export const RECORD_SCHEMAS = {
  orgs: orgRecord,
  academicSessions: academicSessionRecord,
  courses: courseRecord,
  classes: classRecord,
  users: userRecord,
  enrollments: enrollmentRecord,
} as const satisfies { [E in RosterEntity]: z.ZodType<RosterRecords[E]> };
