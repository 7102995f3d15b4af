import { ForbiddenError, NotFoundError } from "@raptscallions/core";
import type { Actor } from "./actor.ts";

/**
 * The one access policy: every "may this user see/do this" for REST and WebSocket alike.
 *   system admin  → everything
 *   group admin   → the group's whole subtree (ltree paths)
 *   teacher       → their classes and those classes' sessions, assignments and submissions
 *   student       → their own sessions and submissions (and the classes they are in)
 * Resources are passed with the ltree path of the group that owns them.
 */

/** `path` equals `ancestor` or lies beneath it. */
export function isWithin(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}.`);
}

export function isAdminOver(actor: Actor, groupPath: string): boolean {
  if (actor.isSystemAdmin) return true;
  return actor.groupRoles.some((r) => r.role === "admin" && isWithin(groupPath, r.path));
}

/** A teacher or admin membership in the group at `groupPath` or below it. */
function isStaffWithin(actor: Actor, groupPath: string): boolean {
  return actor.groupRoles.some((r) => r.role !== "member" && isWithin(r.path, groupPath));
}

/** Admin paths of the actor: the roots of every subtree they administer. */
export function adminRoots(actor: Actor): string[] {
  return actor.groupRoles.filter((r) => r.role === "admin").map((r) => r.path);
}

export interface GroupRef {
  id: string;
  path: string;
}
export interface ClassRef {
  id: string;
  groupPath: string;
}
export interface SessionRef {
  studentId: string;
  classId: string | null;
  groupPath: string;
}
export interface ToolRef {
  groupPath: string;
  createdBy: string | null;
}

export const policy = {
  /** Members see their groups and those groups' ancestors; admins see their subtree. */
  canViewGroup(actor: Actor, group: GroupRef): boolean {
    if (isAdminOver(actor, group.path)) return true;
    const inGroupTree = (p: string) => isWithin(p, group.path);
    return actor.groupRoles.some((r) => inGroupTree(r.path)) || [...actor.classRoles.values()].some((c) => inGroupTree(c.groupPath));
  },
  canManageGroup(actor: Actor, group: GroupRef): boolean {
    return isAdminOver(actor, group.path);
  },
  /** Creating a child group needs admin over the parent; a new root needs system admin. */
  canCreateGroupUnder(actor: Actor, parent: GroupRef | null): boolean {
    return parent ? isAdminOver(actor, parent.path) : actor.isSystemAdmin;
  },

  canViewClass(actor: Actor, cls: ClassRef): boolean {
    return isAdminOver(actor, cls.groupPath) || actor.classRoles.has(cls.id);
  },
  canManageClass(actor: Actor, cls: ClassRef): boolean {
    return isAdminOver(actor, cls.groupPath) || actor.classRoles.get(cls.id)?.role === "teacher";
  },
  /** Teachers create classes in groups where they hold the teacher role; admins anywhere in their subtree. */
  canCreateClassIn(actor: Actor, group: GroupRef): boolean {
    return isAdminOver(actor, group.path) || actor.groupRoles.some((r) => r.groupId === group.id && r.role === "teacher");
  },
  isStudentOf(actor: Actor, classId: string): boolean {
    return actor.classRoles.get(classId)?.role === "student";
  },
  isTeacherOf(actor: Actor, classId: string | null): boolean {
    return classId !== null && actor.classRoles.get(classId)?.role === "teacher";
  },

  canViewSession(actor: Actor, s: SessionRef): boolean {
    return s.studentId === actor.userId || policy.canSteerSession(actor, s);
  },
  /** Teacher actions (pause, resume, post, end) — never the student themself. */
  canSteerSession(actor: Actor, s: SessionRef): boolean {
    return policy.isTeacherOf(actor, s.classId) || isAdminOver(actor, s.groupPath);
  },
  /**
   * The session's student, while they are still a student of its class (a session outside any
   * class stays theirs). A student taken out of the class (by hand or by a roster sync) keeps
   * reading their history over REST but no longer works in, or watches, the class's sessions.
   */
  canSendAsStudent(actor: Actor, s: SessionRef): boolean {
    return s.studentId === actor.userId && (s.classId === null || policy.isStudentOf(actor, s.classId));
  },

  /**
   * Who may read a student's personal details in a transcript export (a file that leaves the
   * platform): the student themself and admins over the session's group. Teachers read the
   * session live as stored, but their exports are redacted.
   */
  canExportStudentPii(actor: Actor, s: SessionRef): boolean {
    return s.studentId === actor.userId || isAdminOver(actor, s.groupPath);
  },

  /** A product tool's run: whoever ran it, the teachers of its class, admins over its group. */
  canViewRun(actor: Actor, r: { userId: string; classId: string | null; groupPath: string }): boolean {
    return r.userId === actor.userId || policy.isTeacherOf(actor, r.classId) || isAdminOver(actor, r.groupPath);
  },

  /** A tool is usable by anyone in its group's subtree (members or class members there). */
  canUseTool(actor: Actor, tool: ToolRef): boolean {
    if (isAdminOver(actor, tool.groupPath)) return true;
    return actor.groupRoles.some((r) => isWithin(r.path, tool.groupPath)) || [...actor.classRoles.values()].some((c) => isWithin(c.groupPath, tool.groupPath));
  },
  /**
   * Admins over the tool's group, and its author while the author still holds a staff role
   * (teacher or admin) in that group's subtree: authorship follows the current role, so an
   * author demoted to member or removed can no longer publish versions.
   */
  canManageTool(actor: Actor, tool: ToolRef): boolean {
    if (isAdminOver(actor, tool.groupPath)) return true;
    return tool.createdBy !== null && tool.createdBy === actor.userId && isStaffWithin(actor, tool.groupPath);
  },
  canCreateToolIn(actor: Actor, group: GroupRef): boolean {
    return policy.canCreateClassIn(actor, group);
  },

  canViewSubmission(actor: Actor, sub: { studentId: string; classId: string; groupPath: string }): boolean {
    return sub.studentId === actor.userId || policy.canManageClass(actor, { id: sub.classId, groupPath: sub.groupPath });
  },

  canManageAi(actor: Actor, group: GroupRef | null): boolean {
    return group ? isAdminOver(actor, group.path) : actor.isSystemAdmin;
  },

  /**
   * A tool's prompt is for the staff who may use it (admins, its author, teachers in its
   * subtree), not for students: a prompt can hold answers.
   */
  canViewToolDefinition(actor: Actor, tool: ToolRef): boolean {
    if (policy.canManageTool(actor, tool)) return true;
    return isStaffWithin(actor, tool.groupPath) || [...actor.classRoles.values()].some((c) => c.role === "teacher" && isWithin(c.groupPath, tool.groupPath));
  },
  /** A class may only use tools of its own group or the groups above it. */
  isToolUsableInGroup(tool: ToolRef, groupPath: string): boolean {
    return isWithin(groupPath, tool.groupPath);
  },
  /** Students see an assignment once it is available; its class's staff always. */
  canViewAssignment(actor: Actor, a: { classId: string; groupPath: string; availableAt: Date | null }, now: Date): boolean {
    if (policy.canManageClass(actor, { id: a.classId, groupPath: a.groupPath })) return true;
    return policy.isStudentOf(actor, a.classId) && (a.availableAt === null || a.availableAt <= now);
  },
  /** Grades and feedback: the class's teachers and admins over it, never the student. */
  canGradeSubmission(actor: Actor, sub: { classId: string; groupPath: string }): boolean {
    return policy.canManageClass(actor, { id: sub.classId, groupPath: sub.groupPath });
  },
  /**
   * Everything held about a student leaves the app only to an admin over a group they have data
   * in (district or school admins, system admins), never to their teachers. For a student under 13
   * this is the rule COPPA asks for, and it must stay so even if exports are ever opened to other
   * roles for older students: widen the second branch, never the first.
   */
  canExportStudent(actor: Actor, student: { under13: boolean; groupPaths: readonly string[] }): boolean {
    const admin = actor.isSystemAdmin || student.groupPaths.some((p) => isAdminOver(actor, p));
    if (student.under13) return admin;
    return admin;
  },
  /** The audit trail: system admins, and group admins for their subtrees. */
  canReadAudit(actor: Actor): boolean {
    return actor.isSystemAdmin || adminRoots(actor).length > 0;
  },
};

/**
 * Throws the right error when access is refused: resources the actor may not even see are 404
 * (no existence leak); visible-but-forbidden actions are 403.
 */
export function assertVisible(visible: boolean, what: string): void {
  if (!visible) throw new NotFoundError(what);
}
export function assertAllowed(allowed: boolean, message = "You may not do this"): void {
  if (!allowed) throw new ForbiddenError(message);
}
