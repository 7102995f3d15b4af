import type { ClassRole, Db, GroupRole } from "@raptscallions/db";
import { preparedOn, users } from "@raptscallions/db";
import { eq, sql } from "drizzle-orm";
import { type ClassRoleEntry, classRoleMap } from "./class-roles.ts";

/** The signed-in user with every role they hold, loaded once per request or connection. */
export interface Actor {
  /** Tells a person apart from the system acting on its own (see `Principal` in services/context.ts). */
  kind: "user";
  userId: string;
  clerkUserId: string | null;
  isSystemAdmin: boolean;
  /** Live group memberships with the group's ltree path. */
  groupRoles: { groupId: string; path: string; role: GroupRole }[];
  /** Class memberships with the class's group path. */
  classRoles: ReadonlyMap<string, ClassRoleEntry>;
  /** The group of the organisation active in the token, if any. */
  activeGroupId: string | null;
  /**
   * Districts (root group ids) where the person owns sessions or runs: they keep reading their
   * own records after leaving a district, so row-level security lets them reach it (see
   * `reachOf` in services/context.ts). Absent: none.
   */
  recordDistricts?: string[];
}

/**
 * Whether a user row may act at all: not deleted and not suspended (a Clerk ban). Every entry
 * point (REST tokens, ticket redemption, socket open, the live re-check) asks this one question.
 */
export function isActiveUser(user: { deletedAt: Date | null; status: string }): boolean {
  return user.deletedAt === null && user.status !== "deleted" && user.status !== "suspended";
}

type GroupRoleRow = Actor["groupRoles"][number];
type ClassRoleRow = { classId: string; role: ClassRole; groupId: string; groupPath: string };

/** A json column as the driver hands it back (postgres-js parses json, other drivers may not). */
function jsonRows<T>(value: unknown): T[] {
  const parsed: unknown = typeof value === "string" ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? (parsed as T[]) : [];
}

type ActorRow = Awaited<ReturnType<ReturnType<typeof prepareActor>["execute"]>>[number];

/**
 * The actor of a user with no group memberships (every student): one frozen list shared by all of
 * them, where each would hold an empty array of its own for as long as any socket of theirs is open.
 */
const NO_GROUP_ROLES: GroupRoleRow[] = Object.freeze([]) as unknown as GroupRoleRow[];

function toActor(user: ActorRow | undefined, activeGroupId: string | null): Actor | null {
  if (!user || !isActiveUser(user)) return null;
  const classRows = jsonRows<ClassRoleRow>(user.classRoles);
  const groupRows = jsonRows<GroupRoleRow>(user.groupRoles);
  const districts = jsonRows<string>(user.recordDistricts);
  const actor: Actor = {
    kind: "user",
    userId: user.id,
    clerkUserId: user.clerkUserId,
    isSystemAdmin: user.isSystemAdmin,
    groupRoles: groupRows.length === 0 ? NO_GROUP_ROLES : groupRows.map((g) => ({ groupId: g.groupId, path: g.path, role: g.role })),
    classRoles: classRoleMap(classRows),
    activeGroupId,
  };
  // Absent means none (see `recordDistricts`): no empty array per connected user.
  if (districts.length > 0) actor.recordDistricts = districts;
  return actor;
}

/**
 * The user's roles, or null when the user is unknown, deleted or suspended. One statement: the
 * user row with their group and class memberships aggregated beside it (every socket opened by a
 * user not in the actor cache pays for this, so it is one round trip, not three).
 */
export async function loadActor(db: Db, userId: string, activeGroupId: string | null = null): Promise<Actor | null> {
  const [user] = await preparedOn(db, "actor_load", prepareById).execute({ key: userId });
  return toActor(user, activeGroupId);
}

/**
 * `loadActor` by the token's Clerk user id, for a token whose user is already provisioned (no
 * organisation in it to record): one statement where provisioning and then loading the actor
 * would read the user row twice. Null also when the user is unknown: then provision.
 */
export async function loadActorByClerkId(db: Db, clerkUserId: string): Promise<Actor | null> {
  const [user] = await preparedOn(db, "actor_load_by_clerk_id", prepareByClerkId).execute({ key: clerkUserId });
  return toActor(user, null);
}

const prepareById = (db: Db) => prepareActor(db, "actor_load", users.id);
const prepareByClerkId = (db: Db) => prepareActor(db, "actor_load_by_clerk_id", users.clerkUserId);

// Every authenticated request and socket whose user is not cached runs one: prepared once each.
function prepareActor(db: Db, name: string, key: typeof users.id | typeof users.clerkUserId) {
  return db
    .select({
      id: users.id,
      clerkUserId: users.clerkUserId,
      isSystemAdmin: users.isSystemAdmin,
      status: users.status,
      deletedAt: users.deletedAt,
      // Written out with aliases: drizzle leaves a single-table select's columns unqualified,
      // which the subqueries' own tables would make ambiguous.
      groupRoles: sql<unknown>`(select coalesce(json_agg(json_build_object('groupId', gm.group_id, 'role', gm.role, 'path', g.path::text)), '[]'::json)
        from group_members gm inner join groups g on g.id = gm.group_id
        where gm.user_id = "users"."id" and gm.deleted_at is null and g.deleted_at is null)`,
      classRoles: sql<unknown>`(select coalesce(json_agg(json_build_object('classId', cm.class_id, 'role', cm.role, 'groupId', c.group_id, 'groupPath', g.path::text)), '[]'::json)
        from class_members cm inner join classes c on c.id = cm.class_id inner join groups g on g.id = c.group_id
        where cm.user_id = "users"."id")`,
      // tenant_id is kept by the database (row-level security), not declared in the schema.
      recordDistricts: sql<unknown>`(select coalesce(json_agg(distinct r.tenant_id), '[]'::json) from (
          select s.tenant_id from sessions s where s.student_id = "users"."id"
          union select u.tenant_id from runs u where u.user_id = "users"."id") r where r.tenant_id is not null)`,
    })
    .from(users)
    .where(eq(key, sql.placeholder("key")))
    .prepare(name);
}
