import { ROSTER_ENTITIES, type RosterEntity, type RosterRecords, userRoleRecord, type UserRoleRecord } from "../records.ts";
import { type ReadMode, type RejectedRecord, type RosterPage, type RosterSource, RosterSourceError } from "../source.ts";
import { checkRecord, describeIssues } from "../validate.ts";
import { CSV_CANDIDATES, csvRole, REQUIRED_COLUMNS, RowError } from "./entities.ts";
import { type CsvTable, readCsvTable } from "./table.ts";
import { type BundleLimits, readBundleZip } from "./zip.ts";

export interface CsvBundleOptions {
  limits?: BundleLimits;
  /** Records per page handed to the sync. Default 1,000. */
  pageSize?: number;
}

type BundleFile = RosterEntity | "roles";
const MODES: readonly string[] = ["bulk", "delta", "absent"] satisfies ReadMode[];

/**
 * A OneRoster 1.2 CSV bundle (a zip with `manifest.csv` and one CSV file per entity) as a roster
 * source. The whole bundle is checked here, before any record is read: a broken zip, a missing or
 * foreign manifest, a file the manifest promises but the zip lacks, or a file without its key
 * columns throws `RosterSourceError("bad_bundle")`. Bad rows later are rejected one by one.
 * Modes come from the manifest (`file.<entity>`); `since` is not applied to a bundle.
 */
export function createCsvBundleSource(zipBytes: Uint8Array, options: CsvBundleOptions = {}): RosterSource {
  const pageSize = options.pageSize ?? 1000;
  const files = readBundleZip(zipBytes, options.limits);
  const manifest = readManifest(files);
  const modes = new Map<BundleFile, ReadMode>();
  const tables = new Map<BundleFile, CsvTable>();
  for (const entity of [...ROSTER_ENTITIES, "roles"] as const) {
    const mode = manifestMode(manifest, entity);
    modes.set(entity, mode);
    if (mode === "absent") continue;
    const name = `${entity}.csv`;
    const bytes = files.get(name.toLowerCase());
    if (!bytes) throw new RosterSourceError("bad_bundle", `the manifest lists ${name} as ${mode} but the zip lacks it`);
    tables.set(entity, readCsvTable(name, bytes, REQUIRED_COLUMNS[entity]));
  }

  return {
    async mode(entity) {
      return modes.get(entity) ?? "absent";
    },
    async *read<E extends RosterEntity>(entity: E): AsyncIterable<RosterPage<E>> {
      const table = tables.get(entity);
      if (!table) return;
      const { records, rejected } = readEntity(entity, table, entity === "users" ? tables.get("roles") : undefined);
      for (let start = 0; start === 0 || start < records.length; start += pageSize) {
        yield { records: records.slice(start, start + pageSize), rejected: start === 0 ? rejected : [] };
      }
    },
  };
}

function readManifest(files: Map<string, Uint8Array>): Map<string, string> {
  const bytes = files.get("manifest.csv");
  if (!bytes) throw new RosterSourceError("bad_bundle", "the zip has no manifest.csv");
  const table = readCsvTable("manifest.csv", bytes, ["propertyName", "value"]);
  const manifest = new Map<string, string>();
  // Keys compared case-insensitively: exports differ on `file.academicSessions` vs `…sessions`.
  for (const row of table.rows) manifest.set(row.get("propertyName").toLowerCase(), row.get("value"));
  const version = manifest.get("oneroster.version");
  if (version !== "1.2") {
    throw new RosterSourceError("bad_bundle", version === undefined ? "manifest.csv has no oneroster.version" : `oneroster.version ${version} is not 1.2`);
  }
  return manifest;
}

function manifestMode(manifest: Map<string, string>, entity: BundleFile): ReadMode {
  const value = (manifest.get(`file.${entity}`.toLowerCase()) ?? "absent").toLowerCase();
  if (!MODES.includes(value)) {
    throw new RosterSourceError("bad_bundle", `file.${entity} is "${value}", not bulk, delta or absent`);
  }
  return value as ReadMode;
}

function readEntity<E extends RosterEntity>(entity: E, table: CsvTable, rolesTable: CsvTable | undefined): { records: RosterRecords[E][]; rejected: RejectedRecord[] } {
  const file = `${entity}.csv`;
  const rejected: RejectedRecord[] = table.broken.map((broken) => ({ entity, file, ...broken }));
  const roles = rolesTable ? readRoles(rolesTable, rejected) : undefined;
  const records: RosterRecords[E][] = [];
  for (const row of table.rows) {
    const sourcedId = row.get("sourcedId") || undefined;
    const reject = (reason: string) => rejected.push({ entity, file, line: row.line, sourcedId, reason });
    let candidate: Record<string, unknown>;
    try {
      candidate = CSV_CANDIDATES[entity](row);
    } catch (error) {
      if (!(error instanceof RowError)) throw error;
      reject(error.message);
      continue;
    }
    if (roles && sourcedId) {
      candidate.roles = roles.byUser.get(sourcedId)?.roles ?? [];
      roles.byUser.delete(sourcedId);
    }
    const checked = checkRecord(entity, candidate);
    if (checked.ok) records.push(checked.record);
    else reject(checked.reason);
  }
  // Whatever is left in the map belongs to no user of this bundle.
  for (const [userSourcedId, { lines }] of roles?.byUser ?? []) {
    for (const line of lines) {
      const reason = `a role of the user ${userSourcedId}, who is not in users.csv`;
      rejected.push({ entity, file: "roles.csv", line, sourcedId: userSourcedId, reason });
    }
  }
  return { records, rejected };
}

/** roles.csv by user; a bad role row is rejected on its own and the user keeps their other roles. */
function readRoles(table: CsvTable, rejected: RejectedRecord[]) {
  const byUser = new Map<string, { roles: UserRoleRecord[]; lines: number[] }>();
  for (const broken of table.broken) rejected.push({ entity: "users", file: "roles.csv", ...broken });
  for (const row of table.rows) {
    const { userSourcedId, removed, role } = csvRole(row);
    const reject = (reason: string) => rejected.push({ entity: "users", file: "roles.csv", line: row.line, sourcedId: userSourcedId || undefined, reason });
    if (userSourcedId === "") {
      reject("userSourcedId: required");
      continue;
    }
    const parsed = userRoleRecord.safeParse(role);
    if (!parsed.success) {
      reject(describeIssues(parsed.error));
      continue;
    }
    const entry = byUser.get(userSourcedId) ?? { roles: [], lines: [] };
    byUser.set(userSourcedId, entry);
    entry.lines.push(row.line);
    // A tobedeleted role row (in a delta) just leaves the role out of the user's list.
    if (!removed) entry.roles.push(parsed.data);
  }
  return { byUser };
}
