import { type DbOrTx, messages, users } from "@raptscallions/db";
import type { StudentInfo, TurnContext } from "@raptscallions/modules";
import { and, desc, eq } from "drizzle-orm";

/** Enough history for the struggle detector's window; session end looks further back. */
export const RECENT_STUDENT_MESSAGES = 20;
export const SESSION_END_STUDENT_MESSAGES = 500;

/** The student's names as the PII filter needs them (own-name redaction). */
export async function loadStudentInfo(db: DbOrTx, studentId: string): Promise<StudentInfo> {
  const [row] = await db.select({ name: users.name, givenName: users.givenName, familyName: users.familyName }).from(users).where(eq(users.id, studentId));
  return {
    id: studentId,
    displayName: row?.name ?? undefined,
    givenName: row?.givenName ?? undefined,
    familyName: row?.familyName ?? undefined,
  };
}

/**
 * What the modules know about a turn: the student and their latest messages in this session,
 * oldest first. Called before the current message is stored, so it is never among them.
 */
export async function loadTurnContext(db: DbOrTx, input: { sessionId: string; studentId: string; now: Date; limit?: number }): Promise<TurnContext> {
  const rows = await db
    .select({ content: messages.content, createdAt: messages.createdAt })
    .from(messages)
    .where(and(eq(messages.sessionId, input.sessionId), eq(messages.role, "user")))
    .orderBy(desc(messages.seq))
    .limit(input.limit ?? RECENT_STUDENT_MESSAGES);
  return {
    sessionId: input.sessionId,
    student: await loadStudentInfo(db, input.studentId),
    recentStudentMessages: rows.reverse().map((r) => ({ text: r.content, at: r.createdAt })),
    now: input.now,
  };
}
