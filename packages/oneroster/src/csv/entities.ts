/**
 * OneRoster 1.2 CSV rows → candidate records. Blank means null (or the spec's default), lists are
 * comma-separated inside one quoted field, references are the `…SourcedId` columns.
 */
import type { RosterEntity } from "../records.ts";
import { normaliseEmail, parseInstant } from "../validate.ts";
import type { CsvRow } from "./table.ts";

/** A field the CSV binding defines but whose value is unusable: the row is rejected with this. */
export class RowError extends Error {}

/** Columns without which no row of the file can be read. */
export const REQUIRED_COLUMNS: Record<RosterEntity | "roles", readonly string[]> = {
  orgs: ["sourcedId", "name", "type"],
  academicSessions: ["sourcedId", "title", "type", "startDate", "endDate", "schoolYear"],
  courses: ["sourcedId", "title", "orgSourcedId"],
  classes: ["sourcedId", "title", "courseSourcedId", "classType", "schoolSourcedId", "termSourcedIds"],
  users: ["sourcedId", "username", "givenName", "familyName"],
  roles: ["userSourcedId", "roleType", "role", "orgSourcedId"],
  enrollments: ["sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"],
};

const nullable = (value: string): string | null => (value === "" ? null : value);

export function csvList(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function bool(row: CsvRow, column: string, blank: boolean): boolean {
  const value = row.get(column).toLowerCase();
  if (value === "") return blank;
  if (value === "true" || value === "false") return value === "true";
  throw new RowError(`${column}: expected true or false, got "${row.get(column)}"`);
}

function base(row: CsvRow) {
  const modified = parseInstant(row.get("dateLastModified"));
  if (modified === "invalid") {
    throw new RowError(`dateLastModified: not an ISO 8601 date-time: "${row.get("dateLastModified")}"`);
  }
  // Bulk files leave status blank: every listed record is active.
  const status = row.get("status");
  return { sourcedId: row.get("sourcedId"), status: status === "" ? "active" : status, dateLastModified: modified };
}

/** `{type:identifier}` items, e.g. `{clerk:user_2x},{sis:4411}`. */
export function parseUserIds(value: string): { type: string; identifier: string }[] {
  if (value === "") return [];
  const ids: { type: string; identifier: string }[] = [];
  const rest = value.replace(/\{([^{}:]*):([^{}]*)\}/g, (_match, type: string, identifier: string) => {
    ids.push({ type: type.trim(), identifier: identifier.trim() });
    return "";
  });
  if (rest.replace(/[\s,]/g, "") !== "") {
    throw new RowError(`userIds: expected {type:identifier} items, got "${value}"`);
  }
  return ids;
}

export const CSV_CANDIDATES: { [E in RosterEntity]: (row: CsvRow) => Record<string, unknown> } = {
  orgs: (row) => ({
    ...base(row),
    name: row.get("name"),
    type: row.get("type"),
    identifier: nullable(row.get("identifier")),
    parentSourcedId: nullable(row.get("parentSourcedId")),
  }),
  academicSessions: (row) => ({
    ...base(row),
    title: row.get("title"),
    type: row.get("type"),
    startDate: row.get("startDate"),
    endDate: row.get("endDate"),
    parentSourcedId: nullable(row.get("parentSourcedId")),
    schoolYear: row.get("schoolYear"),
  }),
  courses: (row) => ({
    ...base(row),
    title: row.get("title"),
    courseCode: nullable(row.get("courseCode")),
    orgSourcedId: row.get("orgSourcedId"),
    schoolYearSourcedId: nullable(row.get("schoolYearSourcedId")),
  }),
  classes: (row) => ({
    ...base(row),
    title: row.get("title"),
    classCode: nullable(row.get("classCode")),
    classType: row.get("classType"),
    courseSourcedId: row.get("courseSourcedId"),
    schoolSourcedId: row.get("schoolSourcedId"),
    termSourcedIds: csvList(row.get("termSourcedIds")),
  }),
  users: (row) => ({
    ...base(row),
    enabledUser: bool(row, "enabledUser", true),
    username: row.get("username"),
    givenName: row.get("givenName"),
    familyName: row.get("familyName"),
    middleName: nullable(row.get("middleName")),
    preferredGivenName: nullable(row.get("preferredGivenName") || row.get("preferredFirstName")),
    email: normaliseEmail(row.get("email")),
    identifier: nullable(row.get("identifier")),
    userIds: parseUserIds(row.get("userIds")),
    roles: legacyRoles(row),
    primaryOrgSourcedId: nullable(row.get("primaryOrgSourcedId")),
    grades: csvList(row.get("grades")),
  }),
  enrollments: (row) => ({
    ...base(row),
    classSourcedId: row.get("classSourcedId"),
    schoolSourcedId: row.get("schoolSourcedId"),
    userSourcedId: row.get("userSourcedId"),
    role: row.get("role"),
    primary: bool(row, "primary", false),
    beginDate: nullable(row.get("beginDate")),
    endDate: nullable(row.get("endDate")),
  }),
};

/** OneRoster 1.1 roles; `administrator` had no school/district split and is read as a site admin. */
const LEGACY_ROLES: Record<string, string> = { administrator: "siteAdministrator" };

/**
 * Without roles.csv, a users.csv in the 1.1 layout still says who someone is: its `role` column at
 * each of its `orgSourcedIds` (primary at `primaryOrgSourcedId`, or at the first org).
 */
function legacyRoles(row: CsvRow): Record<string, unknown>[] {
  const role = row.get("role");
  if (role === "") return [];
  const orgs = csvList(row.get("orgSourcedIds"));
  const primaryOrg = row.get("primaryOrgSourcedId") || orgs[0];
  return orgs.map((orgSourcedId) => ({
    roleType: orgSourcedId === primaryOrg ? "primary" : "secondary",
    role: LEGACY_ROLES[role] ?? role,
    orgSourcedId,
  }));
}

/** One roles.csv row: which user it belongs to, and the role unless the row removes it. */
export function csvRole(row: CsvRow): { userSourcedId: string; removed: boolean; role: Record<string, unknown> } {
  return {
    userSourcedId: row.get("userSourcedId"),
    removed: row.get("status") === "tobedeleted",
    role: { roleType: row.get("roleType"), role: row.get("role"), orgSourcedId: row.get("orgSourcedId") },
  };
}
