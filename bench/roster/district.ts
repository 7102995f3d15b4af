/**
 * The bench's district and its change, from the knobs (the same in the bench and in the SIS
 * process it starts, since generation is seeded): BENCH_ROSTER_USERS=20000 BENCH_ROSTER_CLASSES=800
 * BENCH_ROSTER_ENROLLMENTS=25000; the delta renames, moves and removes 1% of users/enrolments each.
 */
import { generateDistrict, type MutatedDistrict, mutateDistrict, type RosterData } from "../../packages/oneroster/src/testing/index.ts";

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
};

export interface DistrictSize {
  users: number;
  classes: number;
  enrollments: number;
}

export function sizeFromEnv(): DistrictSize {
  return {
    users: num("BENCH_ROSTER_USERS", 20_000),
    classes: num("BENCH_ROSTER_CLASSES", 800),
    enrollments: num("BENCH_ROSTER_ENROLLMENTS", 25_000),
  };
}

/** After every record's `dateLastModified` (generateDistrict's default is 2026-08-01). */
export const CHANGED_AT = new Date("2026-09-01T00:00:00.000Z");

export function benchDistrict(size: DistrictSize): { data: RosterData; changed: MutatedDistrict } {
  const data = generateDistrict({ seed: 13, ...size });
  const onePercent = (n: number) => Math.max(1, Math.round(n / 100));
  const changed = mutateDistrict(data, {
    seed: 14,
    at: CHANGED_AT,
    renameUsers: onePercent(size.users),
    moveStudents: onePercent(size.enrollments),
    removeEnrollments: onePercent(size.enrollments),
  });
  return { data, changed };
}
