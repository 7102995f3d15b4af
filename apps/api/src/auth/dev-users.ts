import { SEED } from "@raptscallions/db";
import type { DevUser } from "../deps.ts";

export type { DevUser };

const { district, school, department } = SEED.groups;

const org = (g: { slug: string; clerkOrgId: string }, role: string) => ({ slug: g.slug, clerkOrgId: g.clerkOrgId, role });
const person = (u: { clerkUserId: string; email: string; name: string }) => ({ clerkUserId: u.clerkUserId, email: u.email, name: u.name });

/** The seeded scene's people, keyed as `bun run token` names them. */
export const DEV_USERS: readonly DevUser[] = [
  { key: "admin", ...person(SEED.users.admin), role: "System and district admin", org: org(district, "admin") },
  { key: "principal", ...person(SEED.users.schoolAdmin), role: "School admin", org: org(school, "admin") },
  { key: "teacher", ...person(SEED.users.teacher), role: "Teacher of Biology 9A", org: org(department, "teacher") },
  ...SEED.users.students.map((s, i) => ({ key: `student${i + 1}`, ...person(s), role: "Student in Biology 9A" })),
];

export function devUser(key: string): DevUser | undefined {
  return DEV_USERS.find((u) => u.key === key);
}
