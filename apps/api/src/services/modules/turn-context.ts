import { type DbOrTx, users } from "@raptscallions/db";
import type { StudentInfo } from "@raptscallions/modules";
import { eq } from "drizzle-orm";

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
