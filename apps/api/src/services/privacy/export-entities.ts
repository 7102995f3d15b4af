import type { CursorValue } from "@raptscallions/core";
import {
  aiUsage,
  assignments,
  auditLog,
  classes,
  classMembers,
  type Db,
  extractions,
  groupMembers,
  messages,
  notificationDeliveries,
  rosterConnections,
  rosterLinks,
  runs,
  sessions,
  submissions,
} from "@raptscallions/db";
import { and, asc, eq, inArray, or, type SQL, type SQLWrapper, sql } from "drizzle-orm";
import type { Actor } from "../../access/actor.ts";
import { afterCursor } from "../query-helpers.ts";
import { groupInReachSql } from "./scope.ts";

/**
 * One file of a student export: rows about the student, read a page at a time in key order
 * (keyset pagination, so a long history never sits in memory and later pages cost the same).
 */
export interface ExportEntity {
  /** The file name inside the archive, and the word the summary uses. */
  file: string;
  describe: string;
  page(after: CursorValue[] | null, limit: number): Promise<Record<string, unknown>[]>;
  key(row: Record<string, unknown>): CursorValue[];
}

const str = (v: unknown) => String(v);

/**
 * The tables that hold something about one student, each restricted to groups the actor
 * administers (everything for a system admin): a district admin gets what their district holds,
 * not another district's records of the same person. docs/privacy.md lists the same tables.
 */
export function exportEntities(db: Db, actor: Actor, userId: string): ExportEntity[] {
  const inReach = (column: Parameters<typeof groupInReachSql>[1]) => groupInReachSql(actor, column);
  const page = (cond: SQL | undefined, after: CursorValue[] | null, keys: Parameters<typeof afterCursor>[0]) => (after ? and(cond, afterCursor(keys, after)) : cond);
  const theirSessions = db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.studentId, userId), inReach(sessions.groupId)));
  const theirRuns = db
    .select({ id: runs.id })
    .from(runs)
    .where(and(eq(runs.userId, userId), inReach(runs.groupId)));
  const theirFindings = or(inArray(extractions.sessionId, theirSessions), inArray(extractions.runId, theirRuns));
  const byId = (row: Record<string, unknown>) => [str(row.id)];

  return [
    {
      file: "group-memberships.json",
      describe: "memberships of groups (schools, departments), removed ones included",
      page: (after, limit) =>
        db
          .select()
          .from(groupMembers)
          .where(page(and(eq(groupMembers.userId, userId), inReach(groupMembers.groupId)), after, [groupMembers.groupId]))
          .orderBy(asc(groupMembers.groupId))
          .limit(limit),
      key: (row) => [str(row.groupId)],
    },
    {
      file: "class-memberships.json",
      describe: "classes they are enrolled in",
      page: (after, limit) =>
        db
          .select({
            classId: classMembers.classId,
            className: classes.name,
            role: classMembers.role,
            createdAt: classMembers.createdAt,
            rosterConnectionId: classMembers.rosterConnectionId,
          })
          .from(classMembers)
          .innerJoin(classes, eq(classes.id, classMembers.classId))
          .where(page(and(eq(classMembers.userId, userId), inReach(classes.groupId)), after, [classMembers.classId]))
          .orderBy(asc(classMembers.classId))
          .limit(limit),
      key: (row) => [str(row.classId)],
    },
    {
      file: "sessions.json",
      describe: "chat sessions with AI tools",
      page: (after, limit) =>
        db
          .select()
          .from(sessions)
          .where(page(and(eq(sessions.studentId, userId), inReach(sessions.groupId)), after, [sessions.id]))
          .orderBy(asc(sessions.id))
          .limit(limit),
      key: byId,
    },
    {
      file: "messages.json",
      describe: "messages of those sessions (theirs, the AI's and their teachers')",
      page: (after, limit) =>
        db
          .select({
            id: messages.id,
            sessionId: messages.sessionId,
            seq: messages.seq,
            role: messages.role,
            authorId: messages.authorId,
            content: messages.content,
            state: messages.state,
            meta: messages.meta,
            createdAt: messages.createdAt,
            finalizedAt: messages.finalizedAt,
          })
          .from(messages)
          .where(page(inArray(messages.sessionId, theirSessions), after, [messages.id]))
          .orderBy(asc(messages.id))
          .limit(limit),
      key: byId,
    },
    {
      file: "runs.json",
      describe: "single-shot runs of product tools, with their input and output",
      page: (after, limit) =>
        db
          .select()
          .from(runs)
          .where(page(and(eq(runs.userId, userId), inReach(runs.groupId)), after, [runs.id]))
          .orderBy(asc(runs.id))
          .limit(limit),
      key: byId,
    },
    {
      file: "submissions.json",
      describe: "assignment submissions, grades and feedback",
      page: (after, limit) =>
        db
          .select({
            id: submissions.id,
            assignmentId: submissions.assignmentId,
            assignmentTitle: assignments.title,
            classId: assignments.classId,
            attempt: submissions.attempt,
            state: submissions.state,
            sessionId: submissions.sessionId,
            runId: submissions.runId,
            submittedAt: submissions.submittedAt,
            grade: submissions.grade,
            feedback: submissions.feedback,
            createdAt: submissions.createdAt,
            updatedAt: submissions.updatedAt,
          })
          .from(submissions)
          .innerJoin(assignments, eq(assignments.id, submissions.assignmentId))
          .innerJoin(classes, eq(classes.id, assignments.classId))
          .where(page(and(eq(submissions.studentId, userId), inReach(classes.groupId)), after, [submissions.id]))
          .orderBy(asc(submissions.id))
          .limit(limit),
      key: byId,
    },
    {
      file: "findings.json",
      describe: "module findings and safety alerts raised on their sessions and runs",
      page: (after, limit) =>
        db
          .select()
          .from(extractions)
          .where(page(theirFindings, after, [extractions.id]))
          .orderBy(asc(extractions.id))
          .limit(limit),
      key: byId,
    },
    {
      file: "notification-deliveries.json",
      describe: "notifications sent about those alerts (recipients' addresses left out: they are someone else's)",
      page: (after, limit) =>
        db
          .select({
            id: notificationDeliveries.id,
            alertId: notificationDeliveries.alertId,
            purpose: notificationDeliveries.purpose,
            step: notificationDeliveries.step,
            channel: notificationDeliveries.channel,
            payload: notificationDeliveries.payload,
            status: notificationDeliveries.status,
            attempts: notificationDeliveries.attempts,
            sentAt: notificationDeliveries.sentAt,
            createdAt: notificationDeliveries.createdAt,
          })
          .from(notificationDeliveries)
          .where(
            page(inArray(notificationDeliveries.alertId, db.select({ id: extractions.id }).from(extractions).where(theirFindings)), after, [notificationDeliveries.id]),
          )
          .orderBy(asc(notificationDeliveries.id))
          .limit(limit),
      key: byId,
    },
    {
      file: "ai-usage.json",
      describe: "AI calls made for them: model, tokens, cost",
      page: (after, limit) =>
        db
          .select()
          .from(aiUsage)
          .where(page(and(eq(aiUsage.userId, userId), inReach(aiUsage.groupId)), after, [aiUsage.id]))
          .orderBy(asc(aiUsage.id))
          .limit(limit),
      key: byId,
    },
    {
      file: "audit.json",
      describe: "audit entries whose actor or subject is them (including who viewed their sessions)",
      page: (after, limit) =>
        db
          .select()
          .from(auditLog)
          .where(page(and(auditConcerning(userId, theirSessions), actor.isSystemAdmin ? undefined : inReach(auditLog.groupId)), after, [auditLog.id]))
          .orderBy(asc(auditLog.id))
          .limit(limit),
      key: (row) => [Number(row.id)],
    },
    {
      file: "roster-links.json",
      describe: "what the student information system's records about them became here",
      page: (after, limit) =>
        db
          .select({
            connectionId: rosterLinks.connectionId,
            entity: rosterLinks.entity,
            sourcedId: rosterLinks.sourcedId,
            localId: rosterLinks.localId,
            dateLastModified: rosterLinks.dateLastModified,
            removedAt: rosterLinks.removedAt,
            updatedAt: rosterLinks.updatedAt,
          })
          .from(rosterLinks)
          .innerJoin(rosterConnections, eq(rosterConnections.id, rosterLinks.connectionId))
          .where(page(and(rosterLinksOf(userId), inReach(rosterConnections.groupId)), after, [rosterLinks.connectionId, rosterLinks.entity, rosterLinks.sourcedId]))
          .orderBy(asc(rosterLinks.connectionId), asc(rosterLinks.entity), asc(rosterLinks.sourcedId))
          .limit(limit),
      key: (row) => [str(row.connectionId), str(row.entity), str(row.sourcedId)],
    },
  ];
}

/** Roster links that map to the person: their user record, and enrolments (`<classId>:<userId>`). */
export function rosterLinksOf(userId: string): SQL {
  return sql`(${rosterLinks.localId} = ${userId} or ${rosterLinks.localId} like ${`%:${userId}`})`;
}

/**
 * Audit entries about a person: they acted, they are the target (a user, a membership
 * `<group>:<user>` or `<class>:<user>`), the details name them, or the target is one of their sessions.
 */
export function auditConcerning(userId: string, theirSessions: SQLWrapper): SQL {
  return sql`(${auditLog.actorId} = ${userId}
    or (${auditLog.targetType} = 'user' and ${auditLog.targetId} = ${userId})
    or ${auditLog.targetId} like ${`%:${userId}`}
    or ${auditLog.details} ->> 'userId' = ${userId}
    or (${auditLog.targetType} = 'session' and ${auditLog.targetId}::text in (select s.id::text from (${theirSessions}) s)))`;
}
