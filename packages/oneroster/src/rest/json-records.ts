/**
 * OneRoster 1.2 REST JSON → candidate records. References arrive as `{ href, sourcedId, type }`
 * and are flattened to their `sourcedId`; booleans may be JSON booleans or the strings "true" and
 * "false" (1.1 servers, and some 1.2 ones, still send strings).
 */
import type { RosterEntity } from "../records.ts";
import { isoDay, normaliseEmail } from "../validate.ts";

type Json = Record<string, unknown>;

/** A field the binding defines but whose value is unusable: the record is rejected with this. */
export class JsonRecordError extends Error {}

export const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

const text = (value: unknown): string | null => (typeof value === "string" && value.trim() !== "" ? value : null);

function ref(value: unknown): string | null {
  return isObject(value) ? text(value.sourcedId) : null;
}

function refs(value: unknown): string[] {
  return Array.isArray(value) ? value.map(ref).filter((id): id is string => id !== null) : [];
}

function strings(value: unknown): string[] {
  if (typeof value === "string")
    return value
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean);
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

function bool(record: Json, field: string, absent: boolean): boolean {
  const value = record[field];
  if (value === undefined || value === null || value === "") return absent;
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "false") return value === "true";
  throw new JsonRecordError(`${field}: expected true or false, got ${JSON.stringify(value)}`);
}

function day(record: Json, field: string): string | null {
  const value = text(record[field]);
  return value === null ? null : isoDay(value);
}

function base(record: Json) {
  const modified = record.dateLastModified;
  let dateLastModified: Date | null = null;
  if (modified !== undefined && modified !== null) {
    const date = typeof modified === "string" && /^\d{4}-\d{2}-\d{2}/.test(modified) ? new Date(modified) : null;
    if (date === null || Number.isNaN(date.getTime())) {
      throw new JsonRecordError(`dateLastModified: not an ISO 8601 date-time: ${JSON.stringify(modified)}`);
    }
    dateLastModified = date;
  }
  return { sourcedId: record.sourcedId, status: record.status ?? "active", dateLastModified };
}

export const JSON_CANDIDATES: { [E in RosterEntity]: (record: Json) => Record<string, unknown> } = {
  orgs: (record) => ({
    ...base(record),
    name: record.name,
    type: record.type,
    identifier: text(record.identifier),
    parentSourcedId: ref(record.parent),
  }),
  academicSessions: (record) => ({
    ...base(record),
    title: record.title,
    type: record.type,
    startDate: day(record, "startDate"),
    endDate: day(record, "endDate"),
    parentSourcedId: ref(record.parent),
    schoolYear: typeof record.schoolYear === "number" ? String(record.schoolYear) : record.schoolYear,
  }),
  courses: (record) => ({
    ...base(record),
    title: record.title,
    courseCode: text(record.courseCode),
    orgSourcedId: ref(record.org),
    schoolYearSourcedId: ref(record.schoolYear),
  }),
  classes: (record) => ({
    ...base(record),
    title: record.title,
    classCode: text(record.classCode),
    classType: record.classType,
    courseSourcedId: ref(record.course),
    schoolSourcedId: ref(record.school),
    termSourcedIds: refs(record.terms),
  }),
  users: (record) => ({
    ...base(record),
    enabledUser: bool(record, "enabledUser", true),
    username: record.username,
    givenName: record.givenName,
    familyName: record.familyName,
    middleName: text(record.middleName),
    preferredGivenName: text(record.preferredFirstName) ?? text(record.preferredGivenName),
    email: normaliseEmail(typeof record.email === "string" ? record.email : null),
    identifier: text(record.identifier),
    userIds: Array.isArray(record.userIds) ? record.userIds.map(userId) : [],
    roles: Array.isArray(record.roles) ? record.roles.map(userRole) : [],
    primaryOrgSourcedId: ref(record.primaryOrg),
    grades: strings(record.grades),
  }),
  enrollments: (record) => ({
    ...base(record),
    classSourcedId: ref(record.class),
    schoolSourcedId: ref(record.school),
    userSourcedId: ref(record.user),
    role: record.role,
    primary: bool(record, "primary", false),
    beginDate: day(record, "beginDate"),
    endDate: day(record, "endDate"),
  }),
};

function userId(value: unknown): unknown {
  return isObject(value) ? { type: value.type, identifier: value.identifier } : value;
}

function userRole(value: unknown): unknown {
  return isObject(value) ? { roleType: value.roleType, role: value.role, orgSourcedId: ref(value.org) } : value;
}
