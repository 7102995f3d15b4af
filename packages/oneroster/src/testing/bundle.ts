import { strToU8, zipSync } from "fflate";
import { ROSTER_ENTITIES, type RosterEntity, type RosterRecords } from "../records.ts";
import type { ReadMode } from "../source.ts";
import type { RosterData } from "./district.ts";

export type BundleFile = RosterEntity | "roles";

export interface CsvBundleOptions {
  /** `file.<entity>` per file; default bulk for every entity given (delta when `since` is set), roles with users. */
  manifest?: Partial<Record<BundleFile, ReadMode>>;
  /** Only records modified after this instant, and delta in the manifest: a delta bundle. */
  since?: Date;
  /** Raw lines appended to a file after its records (to make malformed rows; the header is line 1). */
  extraLines?: Partial<Record<BundleFile, string[]>>;
  /** Replace a file's whole text, or leave it out of the zip with null (to make broken bundles). */
  files?: Record<string, string | Uint8Array | null>;
  /** `oneroster.version` in the manifest. Default "1.2". */
  version?: string;
  /** CRLF line ends and a UTF-8 BOM, as spreadsheet exports write them. */
  excelStyle?: boolean;
}

const COLUMNS: Record<BundleFile, string[]> = {
  orgs: ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"],
  academicSessions: ["sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate", "parentSourcedId", "schoolYear"],
  courses: ["sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode", "grades", "orgSourcedId", "subjects", "subjectCodes"],
  classes: [
    "sourcedId",
    "status",
    "dateLastModified",
    "title",
    "grades",
    "courseSourcedId",
    "classCode",
    "classType",
    "location",
    "schoolSourcedId",
    "termSourcedIds",
    "subjects",
    "subjectCodes",
    "periods",
  ],
  users: [
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
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
    "userMasterIdentifier",
    "resourceSourcedIds",
    "preferredGivenName",
    "preferredMiddleName",
    "preferredFamilyName",
    "primaryOrgSourcedId",
    "pronouns",
  ],
  roles: ["sourcedId", "status", "dateLastModified", "userSourcedId", "roleType", "role", "beginDate", "endDate", "orgSourcedId", "userProfileSourcedId"],
  enrollments: ["sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId", "userSourcedId", "role", "primary", "beginDate", "endDate"],
};

/**
 * A OneRoster 1.2 CSV bundle (zip) of `data`, in the spec's file and column layout, so a test writes
 * its roster once and reads it through both sources. Options make deltas, bad rows and bad bundles.
 */
export function buildCsvBundle(data: Partial<RosterData>, options: CsvBundleOptions = {}): Uint8Array {
  const newline = options.excelStyle ? "\r\n" : "\n";
  const modified = (record: { dateLastModified: Date | null }) => !options.since || (record.dateLastModified !== null && record.dateLastModified > options.since);
  const defaultMode: ReadMode = options.since ? "delta" : "bulk";
  const modes: Record<string, ReadMode> = {};
  const files: Record<string, Uint8Array> = {};
  const write = (file: BundleFile, rows: Record<string, string>[]) => {
    const lines = [COLUMNS[file].join(","), ...rows.map((row) => COLUMNS[file].map((c) => csvField(row[c] ?? "")).join(","))];
    lines.push(...(options.extraLines?.[file] ?? []));
    files[`${file}.csv`] = strToU8(`${options.excelStyle ? "\ufeff" : ""}${lines.join(newline)}${newline}`);
  };
  for (const entity of ROSTER_ENTITIES) {
    const records = data[entity] as RosterRecords[RosterEntity][] | undefined;
    modes[entity] = options.manifest?.[entity] ?? (records ? defaultMode : "absent");
    if (modes[entity] === "absent" || !records) continue;
    write(
      entity,
      records.filter(modified).map((record) => csvRow(entity, record)),
    );
  }
  modes.roles = options.manifest?.roles ?? modes.users ?? "absent";
  if (modes.roles !== "absent") {
    const roles = (data.users ?? []).filter(modified).flatMap((user) =>
      user.roles.map((role, index) => ({
        sourcedId: `${user.sourcedId}-role-${index + 1}`,
        status: user.status,
        dateLastModified: iso(user.dateLastModified),
        userSourcedId: user.sourcedId,
        roleType: role.roleType,
        role: role.role,
        orgSourcedId: role.orgSourcedId,
      })),
    );
    write("roles", roles);
  }
  const manifest = [
    ["propertyName", "value"],
    ["manifest.version", "1.0"],
    ["oneroster.version", options.version ?? "1.2"],
    ...Object.entries(modes).map(([file, mode]) => [`file.${file}`, mode]),
    ["source.systemName", "raptscallions test SIS"],
  ];
  files["manifest.csv"] = strToU8(manifest.map((row) => row.join(",")).join(newline) + newline);
  for (const [name, content] of Object.entries(options.files ?? {})) {
    if (content === null) delete files[name];
    else files[name] = typeof content === "string" ? strToU8(content) : content;
  }
  return zipSync(files);
}

/** RFC 4180: quote a field that holds a comma, a quote or a line break; double its quotes. */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const iso = (date: Date | null) => (date ? date.toISOString() : "");
const list = (items: string[]) => items.join(",");
const orBlank = (value: string | null) => value ?? "";

function csvRow<E extends RosterEntity>(entity: E, record: RosterRecords[E]): Record<string, string> {
  const r = record as RosterRecords[RosterEntity];
  const common = { sourcedId: r.sourcedId, status: r.status, dateLastModified: iso(r.dateLastModified) };
  switch (entity) {
    case "orgs": {
      const org = r as RosterRecords["orgs"];
      return { ...common, name: org.name, type: org.type, identifier: orBlank(org.identifier), parentSourcedId: orBlank(org.parentSourcedId) };
    }
    case "academicSessions": {
      const s = r as RosterRecords["academicSessions"];
      return {
        ...common,
        title: s.title,
        type: s.type,
        startDate: s.startDate,
        endDate: s.endDate,
        parentSourcedId: orBlank(s.parentSourcedId),
        schoolYear: s.schoolYear,
      };
    }
    case "courses": {
      const c = r as RosterRecords["courses"];
      return { ...common, title: c.title, courseCode: orBlank(c.courseCode), orgSourcedId: c.orgSourcedId, schoolYearSourcedId: orBlank(c.schoolYearSourcedId) };
    }
    case "classes": {
      const k = r as RosterRecords["classes"];
      return {
        ...common,
        title: k.title,
        classCode: orBlank(k.classCode),
        classType: k.classType,
        courseSourcedId: k.courseSourcedId,
        schoolSourcedId: k.schoolSourcedId,
        termSourcedIds: list(k.termSourcedIds),
      };
    }
    case "users": {
      const u = r as RosterRecords["users"];
      return {
        ...common,
        enabledUser: String(u.enabledUser),
        username: u.username,
        userIds: u.userIds.map((id) => `{${id.type}:${id.identifier}}`).join(","),
        givenName: u.givenName,
        familyName: u.familyName,
        middleName: orBlank(u.middleName),
        identifier: orBlank(u.identifier),
        email: orBlank(u.email),
        grades: list(u.grades),
        preferredGivenName: orBlank(u.preferredGivenName),
        primaryOrgSourcedId: orBlank(u.primaryOrgSourcedId),
      };
    }
    default: {
      const e = r as RosterRecords["enrollments"];
      return {
        ...common,
        classSourcedId: e.classSourcedId,
        schoolSourcedId: e.schoolSourcedId,
        userSourcedId: e.userSourcedId,
        role: e.role,
        primary: String(e.primary),
        beginDate: orBlank(e.beginDate),
        endDate: orBlank(e.endDate),
      };
    }
  }
}
