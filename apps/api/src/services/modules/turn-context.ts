import { type DbOrTx, messages, users } from "@raptscallions/db";
import type { StudentInfo, TurnContext } from "@raptscallions/modules";
import { and, desc, eq, sql } from "drizzle-orm";

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
 * oldest first. Called before the current message is stored, so it is never among them. One
 * statement: the student's names and the messages, aggregated.
 */
export async function loadTurnContext(db: DbOrTx, input: { sessionId: string; studentId: string; now: Date; limit?: number }): Promise<TurnContext> {
  const recent = db
    .select({ content: messages.content, createdAt: messages.createdAt, seq: messages.seq })
    .from(messages)
    .where(and(eq(messages.sessionId, input.sessionId), eq(messages.role, "user")))
    .orderBy(desc(messages.seq))
    .limit(input.limit ?? RECENT_STUDENT_MESSAGES)
    .as("recent");
  const [row] = await db
    .select({
      name: sql<string | null>`(select ${users.name} from ${users} where ${users.id} = ${input.studentId})`,
      givenName: sql<string | null>`(select ${users.givenName} from ${users} where ${users.id} = ${input.studentId})`,
      familyName: sql<string | null>`(select ${users.familyName} from ${users} where ${users.id} = ${input.studentId})`,
      messages: sql<
        { text: string; at: string }[] | null
      >`(select json_agg(json_build_object('text', ${recent.content}, 'at', ${recent.createdAt}) order by ${recent.seq}) from ${recent})`,
    })
    .from(sql`(select 1) as one`);
  return {
    sessionId: input.sessionId,
    student: {
      id: input.studentId,
      displayName: row?.name ?? undefined,
      givenName: row?.givenName ?? undefined,
      familyName: row?.familyName ?? undefined,
    },
    recentStudentMessages: (row?.messages ?? []).map((m) => ({ text: m.text, at: new Date(m.at) })),
    now: input.now,
  };
}
