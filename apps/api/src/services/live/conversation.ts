import { type DbOrTx, type MessageMeta, messages } from "@raptscallions/db";
import { asc, eq } from "drizzle-orm";

/** How many earlier messages the model sees; older context is dropped first. */
const MAX_CONTEXT_MESSAGES = 40;

/**
 * Flags the module gate puts on turns it withheld from the provider: the student's blocked (or
 * held) message and the caring reply stored in place of an answer. A withheld turn must never
 * reach a provider later as history either, or the gate would only delay what it stopped.
 */
export const WITHHELD_FLAGS: readonly string[] = ["blocked", "held"];

/** True when a stored message was withheld from the provider by the module gate. */
export function isWithheld(meta: MessageMeta | null | undefined): boolean {
  const flags = meta?.flags;
  return Array.isArray(flags) && flags.some((f) => WITHHELD_FLAGS.includes(f));
}

/** A withheld student message's meta, flagged so it never becomes provider history (whatever gate stored it). */
export function withheldMeta(meta: Record<string, unknown>): Record<string, unknown> {
  if (isWithheld(meta)) return meta;
  const flags = Array.isArray(meta.flags) ? meta.flags.filter((f): f is string => typeof f === "string") : [];
  return { ...meta, flags: [...flags, "blocked"] };
}

/**
 * The conversation as the model sees it: student and assistant turns, teacher interventions as
 * system notes (the tutor should know a teacher stepped in), failed/empty answers left out, and
 * turns the module gate withheld left out. This is the one place provider history is built.
 */
export async function conversationFor(db: DbOrTx, sessionId: string, upToSeq: number) {
  const rows = await db
    .select({ seq: messages.seq, role: messages.role, content: messages.content, state: messages.state, meta: messages.meta })
    .from(messages)
    .where(eq(messages.sessionId, sessionId))
    .orderBy(asc(messages.seq));
  return rows
    .filter((m) => m.seq <= upToSeq && m.content.trim().length > 0)
    .filter((m) => m.role !== "assistant" || m.state !== "failed")
    .filter((m) => !isWithheld(m.meta))
    .slice(-MAX_CONTEXT_MESSAGES)
    .map((m) =>
      m.role === "teacher"
        ? { role: "system" as const, content: `The student's teacher wrote to the student: ${m.content}` }
        : { role: m.role === "assistant" ? ("assistant" as const) : m.role === "system" ? ("system" as const) : ("user" as const), content: m.content },
    );
}
