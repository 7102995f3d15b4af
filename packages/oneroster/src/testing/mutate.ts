import type { EnrollmentRecord, RosterEntity, UserRecord } from "../records.ts";
import { ROSTER_ENTITIES } from "../records.ts";
import type { RosterData } from "./district.ts";
import { seededRandom, shuffled } from "./random.ts";

export interface DistrictChanges {
  seed: number;
  /** `dateLastModified` of every changed record; must be later than the data's. */
  at: Date;
  /** Users whose given name changes. */
  renameUsers?: number;
  /** Students moved from one class to another of their school: old enrolment tobedeleted, a new one. */
  moveStudents?: number;
  /** Student enrolments marked tobedeleted. */
  removeEnrollments?: number;
}

export interface MutatedDistrict {
  /** The whole roster afterwards; removed enrolments stay, marked tobedeleted, as a server keeps them. */
  data: RosterData;
  /** Only the records changed at `changes.at`: what a delta read returns. */
  delta: RosterData;
  renamed: string[];
  moved: { userSourcedId: string; from: string; to: string; removedEnrollment: string; newEnrollment: string }[];
  removed: string[];
}

/** A district one step later, for delta syncs: a few renames, moves and removed enrolments. */
export function mutateDistrict(before: RosterData, changes: DistrictChanges): MutatedDistrict {
  const random = seededRandom(changes.seed);
  const meta = { dateLastModified: changes.at };
  const users = new Map(before.users.map((user) => [user.sourcedId, user]));
  const enrollments = new Map(before.enrollments.map((enrollment) => [enrollment.sourcedId, enrollment]));
  const changed = new Set<string>();
  const result: MutatedDistrict = { data: before, delta: before, renamed: [], moved: [], removed: [] };

  const students = shuffled(
    random,
    before.users.filter((u) => u.status === "active" && hasRole(u, "student")),
  );
  for (const user of students.slice(0, changes.renameUsers ?? 0)) {
    users.set(user.sourcedId, { ...user, ...meta, givenName: `${user.givenName}-renamed` });
    changed.add(user.sourcedId);
    result.renamed.push(user.sourcedId);
  }

  const enrolled = new Set(before.enrollments.filter(isLive).map((e) => `${e.classSourcedId}|${e.userSourcedId}`));
  const candidates = shuffled(
    random,
    before.enrollments.filter((e) => isLive(e) && e.role === "student"),
  );
  let next = before.enrollments.length + 1;
  for (const enrollment of candidates) {
    if (result.moved.length >= (changes.moveStudents ?? 0)) break;
    const target = before.classes.find(
      (klass) => klass.status === "active" && klass.schoolSourcedId === enrollment.schoolSourcedId && !enrolled.has(`${klass.sourcedId}|${enrollment.userSourcedId}`),
    );
    if (!target) continue;
    const newEnrollment: EnrollmentRecord = {
      ...enrollment,
      ...meta,
      sourcedId: `${enrollment.sourcedId.replace(/enr-\d+$/, "")}enr-${next}`,
      classSourcedId: target.sourcedId,
    };
    next += 1;
    enrollments.set(enrollment.sourcedId, { ...enrollment, ...meta, status: "tobedeleted" });
    enrollments.set(newEnrollment.sourcedId, newEnrollment);
    enrolled.add(`${target.sourcedId}|${enrollment.userSourcedId}`);
    changed.add(enrollment.sourcedId).add(newEnrollment.sourcedId);
    result.moved.push({
      userSourcedId: enrollment.userSourcedId,
      from: enrollment.classSourcedId,
      to: target.sourcedId,
      removedEnrollment: enrollment.sourcedId,
      newEnrollment: newEnrollment.sourcedId,
    });
  }
  for (const enrollment of candidates) {
    if (result.removed.length >= (changes.removeEnrollments ?? 0)) break;
    if (changed.has(enrollment.sourcedId)) continue;
    enrollments.set(enrollment.sourcedId, { ...enrollment, ...meta, status: "tobedeleted" });
    changed.add(enrollment.sourcedId);
    result.removed.push(enrollment.sourcedId);
  }

  result.data = { ...before, users: [...users.values()], enrollments: [...enrollments.values()] };
  const delta = {} as Record<RosterEntity, unknown[]>;
  for (const entity of ROSTER_ENTITIES) {
    delta[entity] = (result.data[entity] as { sourcedId: string }[]).filter((record) => changed.has(record.sourcedId));
  }
  result.delta = delta as RosterData;
  return result;
}

const isLive = (enrollment: EnrollmentRecord) => enrollment.status === "active";
const hasRole = (user: UserRecord, role: string) => user.roles.some((r) => r.role === role);
