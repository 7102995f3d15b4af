import type { GroupRole } from "@raptscallions/db";

/** Custom Clerk org roles mapped to ours, from `CLERK_ROLE_MAP` (e.g. `org:teacher=teacher`). */
export type RoleMap = Record<string, GroupRole>;

export function parseRoleMap(spec: string | undefined): RoleMap {
  const map: RoleMap = {};
  if (!spec) return map;
  for (const pair of spec.split(",")) {
    const [from, to] = pair.split("=").map((s) => s.trim());
    if (!from || !to) throw new Error(`CLERK_ROLE_MAP: bad entry "${pair}"`);
    if (to !== "admin" && to !== "teacher" && to !== "member") throw new Error(`CLERK_ROLE_MAP: unknown role "${to}"`);
    map[from] = to;
    map[from.replace(/^org:/, "")] = to;
  }
  return map;
}

/**
 * Clerk roles → ours: org:admin / admin → admin; org:member / basic_member → member (legacy
 * webhook payloads use the bare names); custom roles through the map; anything else → member.
 */
export function normaliseOrgRole(role: string | null | undefined, map: RoleMap = {}): GroupRole {
  if (!role) return "member";
  const mapped = map[role] ?? map[role.replace(/^org:/, "")];
  if (mapped) return mapped;
  const bare = role.replace(/^org:/, "");
  if (bare === "admin") return "admin";
  if (bare === "teacher") return "teacher";
  return "member";
}
