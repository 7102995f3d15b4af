import { type DbOrTx, messages } from "@raptscallions/db";
import { asc, eq } from "drizzle-orm";

/** How many earlier messages the model sees; older context is dropped first. */
const MAX_CONTEXT_MESSAGES = 40;

/**
 * The conversation as the model sees it: student and assistant turns, teacher interventions as
 * system notes (the tutor should know a teacher stepped in), failed/empty answers left out.
 */
export async function conversationFor(db: DbOrTx, sessionId: string, upToSeq: number) {
  const rows = await db
    .select({ seq: messages.seq, role: messages.role, content: messages.content, state: messages.state })
    .from(messages)
    .where(eq(messages.sessionId, sessionId))
    .orderBy(asc(messages.seq));
  return rows
    .filter((m) => m.seq <= upToSeq && m.content.trim().length > 0)
    .filter((m) => m.role !== "assistant" || m.state !== "failed")
    .slice(-MAX_CONTEXT_MESSAGES)
    .map((m) =>
      m.role === "teacher"
        ? { role: "system" as const, content: `The student's teacher wrote to the student: ${m.content}` }
        : { role: m.role === "assistant" ? ("assistant" as const) : m.role === "system" ? ("system" as const) : ("user" as const), content: m.content },
    );
}
