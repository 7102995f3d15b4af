import type {
  AcademicSessionRecord,
  ClassRecord,
  CourseRecord,
  EnrollmentRecord,
  OrgRecord,
  ReadMode,
  RejectedRecord,
  RosterEntity,
  RosterPage,
  RosterRecords,
  RosterSource,
  UserRecord,
} from "@raptscallions/oneroster";
import { RosterSourceError } from "@raptscallions/oneroster";

/** Records of a district, entity by entity (absent entities are not offered). */
export type RosterData = { [E in RosterEntity]?: RosterRecords[E][] };

export interface MemorySourceOptions {
  /** `bulk` (default) or `delta`, for every entity offered. */
  mode?: Exclude<ReadMode, "absent">;
  pageSize?: number;
  /** Shuffle the pages with this seed (a source may answer pages in any order). */
  shuffleSeed?: number;
  /** Throw a `RosterSourceError` when this entity's page with this index is read. */
  failAt?: { entity: RosterEntity; page: number };
  /** Rejected records reported with the first page of their entity. */
  rejected?: RejectedRecord[];
}

function seeded(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A `RosterSource` over arrays: what the sync sees from a CSV bundle or a REST server. */
export function memorySource(data: RosterData, opts: MemorySourceOptions = {}): RosterSource & { reads: number } {
  const pageSize = opts.pageSize ?? 50;
  const source = {
    reads: 0,
    async mode(entity: RosterEntity): Promise<ReadMode> {
      return data[entity] ? (opts.mode ?? "bulk") : "absent";
    },
    async *read<E extends RosterEntity>(entity: E): AsyncIterable<RosterPage<E>> {
      const records = (data[entity] ?? []) as RosterRecords[E][];
      const pages: RosterRecords[E][][] = [];
      for (let i = 0; i < records.length; i += pageSize) pages.push(records.slice(i, i + pageSize));
      if (pages.length === 0) pages.push([]);
      const order = pages.map((_, i) => i);
      if (opts.shuffleSeed !== undefined) {
        const rnd = seeded(opts.shuffleSeed);
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(rnd() * (i + 1));
          [order[i], order[j]] = [order[j] as number, order[i] as number];
        }
      }
      let first = true;
      for (const [n, index] of order.entries()) {
        if (opts.failAt?.entity === entity && opts.failAt.page === n) throw new RosterSourceError("unreachable", "the SIS stopped answering");
        source.reads += 1;
        const rejected = first ? (opts.rejected ?? []).filter((r) => r.entity === entity) : [];
        first = false;
        yield { records: pages[index] ?? [], rejected };
      }
    },
  };
  return source;
}

const base = (sourcedId: string, dateLastModified: Date | null) => ({ sourcedId, status: "active" as const, dateLastModified });

export const roster = {
  org(sourcedId: string, over: Partial<OrgRecord> = {}): OrgRecord {
    return { ...base(sourcedId, null), name: `Org ${sourcedId}`, type: "school", identifier: null, parentSourcedId: null, ...over };
  },
  term(sourcedId: string, over: Partial<AcademicSessionRecord> = {}): AcademicSessionRecord {
    return {
      ...base(sourcedId, null),
      title: `Term ${sourcedId}`,
      type: "term",
      startDate: "2027-01-01",
      endDate: "2027-06-30",
      parentSourcedId: null,
      schoolYear: "2027",
      ...over,
    };
  },
  course(sourcedId: string, orgSourcedId: string, over: Partial<CourseRecord> = {}): CourseRecord {
    return { ...base(sourcedId, null), title: `Course ${sourcedId}`, courseCode: null, orgSourcedId, schoolYearSourcedId: null, ...over };
  },
  class(sourcedId: string, schoolSourcedId: string, over: Partial<ClassRecord> = {}): ClassRecord {
    return {
      ...base(sourcedId, null),
      title: `Class ${sourcedId}`,
      classCode: null,
      classType: "scheduled",
      courseSourcedId: "course-1",
      schoolSourcedId,
      termSourcedIds: ["term-1"],
      ...over,
    };
  },
  user(sourcedId: string, over: Partial<UserRecord> = {}): UserRecord {
    return {
      ...base(sourcedId, null),
      enabledUser: true,
      username: sourcedId,
      givenName: "Given",
      familyName: sourcedId,
      middleName: null,
      preferredGivenName: null,
      email: `${sourcedId}@sis.example`,
      identifier: `SIS-${sourcedId}`,
      userIds: [],
      roles: [],
      primaryOrgSourcedId: null,
      grades: [],
      ...over,
    };
  },
  enrollment(sourcedId: string, classSourcedId: string, userSourcedId: string, role: EnrollmentRecord["role"], over: Partial<EnrollmentRecord> = {}): EnrollmentRecord {
    return { ...base(sourcedId, null), classSourcedId, schoolSourcedId: "school-1", userSourcedId, role, primary: false, beginDate: null, endDate: null, ...over };
  },
};
